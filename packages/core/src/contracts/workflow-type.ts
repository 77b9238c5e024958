/**
 * Workflow types, as the seed names them: `<api|ws>_<kind>[_<interval>]`, the bulk history
 * types `bulk_<kind>[_<interval>]`, plus the graph, model and diagnostic types. Parsing a type tells which services take part, which data
 * kind (and so which data topic) it produces, and the kline interval if any.
 */
import { StreamForgeError } from '../errors.ts';
import { isInterval, type Interval } from './intervals.ts';

export const DATA_KINDS = ['klines', 'agg_trades', 'trades', 'depth', 'book_ticker'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** Binance spot, USD-M futures (fapi) and COIN-M futures (dapi, coin-margined: BTCUSD_PERP). */
export const MARKETS = ['spot', 'usdm', 'coinm'] as const;
export type Market = (typeof MARKETS)[number];

/** The services a workflow's telemetry comes from; it completes when all report finished. */
export const SERVICES = [
  'queue-manager',
  'loader-api',
  'loader-producer',
  'loader-ws',
  'arango-connector',
  'graph-builder',
  'gnn-trainer',
  'dummy-service',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The service a command's `target` names; undefined for a name no service has. */
export function serviceOf(target: string): ServiceName | undefined {
  return (SERVICES as readonly string[]).includes(target) ? (target as ServiceName) : undefined;
}

export type WorkflowType =
  | {
      type: string;
      source: 'api';
      kind: 'klines' | 'agg_trades';
      interval?: Interval;
      target: 'loader-api';
      services: ServiceName[];
    }
  | {
      type: string;
      source: 'bulk';
      kind: 'klines' | 'agg_trades' | 'trades';
      interval?: Interval;
      target: 'loader-producer';
      services: ServiceName[];
    }
  | { type: string; source: 'ws'; kind: DataKind; interval?: Interval; target: 'loader-ws'; services: ServiceName[] }
  | { type: string; source: 'graph'; target: 'graph-builder'; services: ServiceName[] }
  | { type: string; source: 'gnn'; target: 'gnn-trainer'; services: ServiceName[] }
  | { type: string; source: 'dummy'; target: 'dummy-service'; services: ServiceName[] };

const WS_KINDS: Record<string, DataKind> = {
  trades: 'trades',
  agg_trades: 'agg_trades',
  depth: 'depth',
  book_ticker: 'book_ticker',
};

function invalid(type: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `type: "${type}" ${reason}`, {
    details: { errors: [{ field: 'type', reason }] },
  });
}

/** Parses a workflow type or throws a contract error that says what is wrong with it. */
export function parseWorkflowType(type: string): WorkflowType {
  const candles = /^(api|bulk|ws)_candles_(.+)$/.exec(type);
  if (candles) {
    const [, source, interval] = candles as unknown as [string, 'api' | 'bulk' | 'ws', string];
    if (!isInterval(interval))
      throw invalid(
        type,
        `has an unknown interval "${interval}" (Binance intervals: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M)`,
      );
    if (source === 'api')
      return {
        type,
        source,
        kind: 'klines',
        interval,
        target: 'loader-api',
        services: ['loader-api', 'arango-connector'],
      };
    if (source === 'bulk')
      return {
        type,
        source,
        kind: 'klines',
        interval,
        target: 'loader-producer',
        services: ['loader-producer', 'arango-connector'],
      };
    return { type, source, kind: 'klines', interval, target: 'loader-ws', services: ['loader-ws', 'arango-connector'] };
  }
  if (type === 'api_agg_trades')
    return {
      type,
      source: 'api',
      kind: 'agg_trades',
      target: 'loader-api',
      services: ['loader-api', 'arango-connector'],
    };
  if (type === 'bulk_agg_trades' || type === 'bulk_trades')
    return {
      type,
      source: 'bulk',
      kind: type === 'bulk_trades' ? 'trades' : 'agg_trades',
      target: 'loader-producer',
      services: ['loader-producer', 'arango-connector'],
    };
  const ws = /^ws_(.+)$/.exec(type);
  if (ws) {
    const kind = WS_KINDS[ws[1] as string];
    if (kind === undefined)
      throw invalid(
        type,
        'is not a known live stream (ws_candles_<interval>, ws_trades, ws_agg_trades, ws_depth, ws_book_ticker)',
      );
    return { type, source: 'ws', kind, target: 'loader-ws', services: ['loader-ws', 'arango-connector'] };
  }
  if (type === 'graph_correlation')
    return { type, source: 'graph', target: 'graph-builder', services: ['graph-builder'] };
  if (type === 'gnn_train') return { type, source: 'gnn', target: 'gnn-trainer', services: ['gnn-trainer'] };
  if (/^dummy_[a-z0-9_]+$/.test(type))
    return { type, source: 'dummy', target: 'dummy-service', services: ['dummy-service'] };
  throw invalid(
    type,
    'is not a known workflow type (api_candles_<interval>, api_agg_trades, bulk_candles_<interval>, bulk_agg_trades, bulk_trades, ws_*, graph_correlation, gnn_train, dummy_*)',
  );
}
