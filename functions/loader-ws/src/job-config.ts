/**
 * What a loader-ws Job is told, through the environment its launcher sets (the seed's
 * variable names where it had them: QUEUE_ID, SYMBOL, TYPE, KAFKA_TOPIC, COLLECTION_NAME,
 * TELEMETRY_PRODUCER_ID), checked once at start so a bad Job fails at once with the reason.
 */
import { declareEnv, env, envInt } from '@streamforge/shared/config';
import { MARKETS, SYMBOL_PATTERN, parseWorkflowType, shortIdOf, telemetryId, type DataKind, type Interval, type Market } from '@streamforge/shared/contracts';
import { dataTopicOf } from '@streamforge/shared/bus';
import { StreamForgeError } from '@streamforge/shared/errors';

declareEnv({
  QUEUE_ID: { default: undefined, description: 'The workflow this Job streams for.' },
  TYPE: { default: undefined, description: 'The workflow type: ws_candles_<interval>, ws_trades, ws_agg_trades, ws_depth, ws_book_ticker.' },
  SYMBOLS: { default: '', description: 'Comma-separated symbols streamed by this Job (one or many).' },
  SYMBOL: { default: '', description: 'The seed\'s single symbol; used when SYMBOLS is empty.' },
  MARKET: { default: 'spot', description: 'spot or usdm (USD-M futures).' },
  COLLECTION_NAME: { default: undefined, description: 'The collection the connector stores this workflow\'s records in.' },
  KAFKA_TOPIC: { default: '', description: 'Data topic (plan name); empty: the topic of the type\'s data kind.' },
  TELEMETRY_PRODUCER_ID: { default: '', description: 'Producer id of this Job\'s telemetry; empty: loader-ws__<short id of the queue id>.' },
  LOADER_WS_PARAMS: { default: '{}', description: 'JSON of the workflow\'s params: depth_levels, depth_interval_ms, depth_snapshot_limit, telemetry_interval_ms.' },
  LOADER_WS_METRICS_PORT: { default: '9464', description: 'Port of the Job\'s /metrics and health routes; 0 picks a free one.' },
});

export interface LiveJobConfig {
  queueId: string;
  type: string;
  kind: DataKind;
  interval?: Interval;
  market: Market;
  symbols: string[];
  collectionName: string;
  kafkaTopic: string;
  telemetryId: string;
  /** Levels per side in each published order-book record. */
  depthLevels: number;
  /** How often a changed order book is published (exchange-clock ms). */
  depthIntervalMs: number;
  /** Levels asked of the REST depth snapshot (1000: weight 50 spot, 20 USD-M). */
  depthSnapshotLimit: number;
  telemetryIntervalMs: number;
  metricsPort: number;
}

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONFIG_INVALID', `${field}: ${reason}`, { details: { errors: [{ field, reason }] } });
}

function positiveInt(params: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const value = params[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw invalid(`LOADER_WS_PARAMS.${name}`, `must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

export function jobConfigFromEnv(source: NodeJS.ProcessEnv = process.env): LiveJobConfig {
  const queueId = env('QUEUE_ID', source);
  const type = env('TYPE', source);
  const plan = parseWorkflowType(type);
  if (plan.source !== 'ws') throw invalid('TYPE', `${type} is not a live stream (ws_*)`);
  const market = env('MARKET', source) as Market;
  if (!(MARKETS as readonly string[]).includes(market)) throw invalid('MARKET', `must be spot or usdm, got "${market}"`);
  if (market === 'usdm' && plan.kind === 'trades') throw invalid('TYPE', 'USD-M futures have no raw trade stream; use ws_agg_trades');
  if (market === 'usdm' && plan.interval === '1s') throw invalid('TYPE', 'USD-M futures have no 1s klines');
  const symbols = (env('SYMBOLS', source) || env('SYMBOL', source)).split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  if (symbols.length === 0) throw invalid('SYMBOLS', 'is required (or SYMBOL)');
  for (const s of symbols) if (!new RegExp(SYMBOL_PATTERN).test(s)) throw invalid('SYMBOLS', `"${s}" is not a Binance symbol`);
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(env('LOADER_WS_PARAMS', source)) as Record<string, unknown>;
  } catch (error) {
    throw invalid('LOADER_WS_PARAMS', `is not JSON: ${(error as Error).message}`);
  }
  return {
    queueId,
    type,
    kind: plan.kind,
    ...(plan.interval === undefined ? {} : { interval: plan.interval }),
    market,
    symbols: [...new Set(symbols)],
    collectionName: env('COLLECTION_NAME', source),
    kafkaTopic: env('KAFKA_TOPIC', source) || dataTopicOf(plan.kind),
    telemetryId: env('TELEMETRY_PRODUCER_ID', source) || telemetryId('loader-ws', shortIdOf(queueId)),
    depthLevels: positiveInt(params, 'depth_levels', 100, 5000),
    depthIntervalMs: positiveInt(params, 'depth_interval_ms', 1000, 3_600_000),
    depthSnapshotLimit: positiveInt(params, 'depth_snapshot_limit', 1000, 5000),
    telemetryIntervalMs: positiveInt(params, 'telemetry_interval_ms', 5000, 3_600_000),
    metricsPort: envInt('LOADER_WS_METRICS_PORT', source),
  };
}
