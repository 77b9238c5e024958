/**
 * Identifiers in the seed wire formats: queue ids
 * `wf-btcusdt-api_candles_5m-20240801-a1b2c3`, collections `btcusdt_api_candles_5m_2024_08_01`,
 * telemetry ids `loader-api__a1b2c3`.
 */
import { randomBytes } from 'node:crypto';

export const QUEUE_ID_PATTERN = '^[a-z0-9][a-z0-9_.-]{2,199}$';
// ArangoDB collection names: a letter first, then letters, digits, `_` or `-`, at most 256.
export const COLLECTION_NAME_PATTERN = '^[a-zA-Z][a-zA-Z0-9_-]{0,255}$';
// Futures contracts may carry a suffix after `_`: COIN-M `BTCUSD_PERP`, delivery `BTCUSD_250627`.
export const SYMBOL_PATTERN = '^[A-Z0-9]{2,20}(_[A-Z0-9]{1,12})?$';

/** Six lowercase base-36 characters, as the seed's short ids. */
export function newShortId(): string {
  const bytes = randomBytes(6);
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('');
}

function compactDay(startDate: string | undefined): string {
  return (startDate ?? new Date().toISOString().slice(0, 10)).replaceAll('-', '');
}

export interface WorkflowIds {
  shortId: string;
  queueId: string;
  collectionName: string;
}

export interface WorkflowIdOptions {
  /** A market other than spot is named in the ids (`wf-btcusdt-usdm-…`), so spot and futures data never share a collection. */
  market?: string;
  shortId?: string;
}

export function newWorkflowIds(
  symbol: string,
  type: string,
  startDate: string | undefined,
  options: WorkflowIdOptions = {},
): WorkflowIds {
  const shortId = options.shortId ?? newShortId();
  const day = compactDay(startDate);
  const sym =
    options.market && options.market !== 'spot' ? `${symbol.toLowerCase()}-${options.market}` : symbol.toLowerCase();
  return {
    shortId,
    queueId: `wf-${sym}-${type}-${day}-${shortId}`,
    collectionName: `${sym.replace('-', '_')}_${type}_${day.slice(0, 4)}_${day.slice(4, 6)}_${day.slice(6, 8)}`,
  };
}

export function telemetryId(service: string, shortId: string): string {
  return `${service}__${shortId}`;
}

/** The service part of a telemetry id (`arango-connector__a1b2c3` → `arango-connector`). */
export function serviceOfProducer(producer: string): string {
  const at = producer.indexOf('__');
  return at === -1 ? producer : producer.slice(0, at);
}

/** The short id at the end of a queue id (`wf-…-a1b2c3` → `a1b2c3`), for a service's telemetry id. */
export function shortIdOf(queueId: string): string {
  return queueId.slice(queueId.lastIndexOf('-') + 1);
}
