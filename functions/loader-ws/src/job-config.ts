/**
 * What a loader-ws Job is told, through the environment its launcher sets (seed-format
 * variable names where that format has one: QUEUE_ID, SYMBOL, TYPE, KAFKA_TOPIC, COLLECTION_NAME,
 * TELEMETRY_PRODUCER_ID), checked once at start so a bad Job fails at once with the reason.
 */
import { declareEnv, env, envInt } from '@streamforge/core/config';
import {
  MARKETS,
  SYMBOL_PATTERN,
  parseWorkflowType,
  shortIdOf,
  telemetryId,
  type DataKind,
  type Interval,
  type Market,
} from '@streamforge/core/contracts';
import { dataTopicOf } from '@streamforge/core/bus';
import { StreamForgeError } from '@streamforge/core/errors';
import { marketRefusal, parseLiveStreamParams, type LiveStreamParams } from '@streamforge/core/requests';

declareEnv({
  QUEUE_ID: { default: undefined, description: 'The workflow this Job streams for.' },
  TYPE: {
    default: undefined,
    description: 'The workflow type: ws_candles_<interval>, ws_trades, ws_agg_trades, ws_depth, ws_book_ticker.',
  },
  SYMBOLS: { default: '', description: 'Comma-separated symbols streamed by this Job (one or many).' },
  SYMBOL: { default: '', description: "The seed's single symbol; used when SYMBOLS is empty." },
  MARKET: { default: 'spot', description: 'spot or usdm (USD-M futures).' },
  COLLECTION_NAME: {
    default: undefined,
    description: "The collection the connector stores this workflow's records in.",
  },
  KAFKA_TOPIC: { default: '', description: "Data topic (plan name); empty: the topic of the type's data kind." },
  TELEMETRY_PRODUCER_ID: {
    default: '',
    description: "Producer id of this Job's telemetry; empty: loader-ws__<short id of the queue id>.",
  },
  LOADER_WS_PARAMS: {
    default: '{}',
    description:
      "JSON of the workflow's params: depth_levels, depth_interval_ms, depth_snapshot_limit, telemetry_interval_ms.",
  },
  LOADER_WS_METRICS_PORT: {
    default: '9464',
    description: "Port of the Job's /metrics and health routes; 0 picks a free one.",
  },
});

export interface LiveJobConfig extends LiveStreamParams {
  queueId: string;
  type: string;
  kind: DataKind;
  interval?: Interval;
  market: Market;
  symbols: string[];
  collectionName: string;
  kafkaTopic: string;
  telemetryId: string;
  metricsPort: number;
}

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONFIG_INVALID', `${field}: ${reason}`, { details: { errors: [{ field, reason }] } });
}

export function jobConfigFromEnv(source: NodeJS.ProcessEnv = process.env): LiveJobConfig {
  const queueId = env('QUEUE_ID', source);
  const type = env('TYPE', source);
  const plan = parseWorkflowType(type);
  if (plan.source !== 'ws') throw invalid('TYPE', `${type} is not a live stream (ws_*)`);
  const market = env('MARKET', source) as Market;
  if (!(MARKETS as readonly string[]).includes(market))
    throw invalid('MARKET', `must be spot or usdm, got "${market}"`);
  // The same refusals the manager applies at the door (@streamforge/core/requests).
  const refusal = marketRefusal(plan, market);
  if (refusal) throw invalid('TYPE', refusal);
  const symbols = (env('SYMBOLS', source) || env('SYMBOL', source))
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  if (symbols.length === 0) throw invalid('SYMBOLS', 'is required (or SYMBOL)');
  for (const s of symbols)
    if (!new RegExp(SYMBOL_PATTERN).test(s)) throw invalid('SYMBOLS', `"${s}" is not a Binance symbol`);
  let params: unknown;
  try {
    params = JSON.parse(env('LOADER_WS_PARAMS', source));
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
    ...parseLiveStreamParams(params, 'LOADER_WS_PARAMS'),
    metricsPort: envInt('LOADER_WS_METRICS_PORT', source),
  };
}
