/**
 * Workflow types, as the seed names them: `<api|ws>_<kind>[_<interval>]`, the bulk history
 * types `bulk_<kind>[_<interval>]`, plus the graph, model and diagnostic types. Parsing a type tells which services take part, which data
 * kind (and so which data topic) it produces, and the kline interval if any.
 */
import { StreamForgeError } from '../errors.ts';
import { isInterval, type Interval } from './intervals.ts';

export const DATA_KINDS = ['klines', 'agg_trades', 'trades', 'depth', 'book_ticker'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** The futures-only price candles: Binance's markPriceKlines, indexPriceKlines and premiumIndexKlines. */
export const PRICE_KLINE_KINDS = ['mark_price_klines', 'index_price_klines', 'premium_index_klines'] as const;
export type PriceKlineKind = (typeof PRICE_KLINE_KINDS)[number];

/** Series only the futures markets have: history only (REST and archives), no live stream. */
export const FUTURES_KINDS = [...PRICE_KLINE_KINDS, 'funding_rate', 'metrics'] as const;
export type FuturesKind = (typeof FUTURES_KINDS)[number];

/** Every kind of record a data batch can carry. */
export const RECORD_KINDS = [...DATA_KINDS, ...FUTURES_KINDS] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export function isFuturesKind(kind: string): kind is FuturesKind {
  return (FUTURES_KINDS as readonly string[]).includes(kind);
}

export function isPriceKlineKind(kind: string): kind is PriceKlineKind {
  return (PRICE_KLINE_KINDS as readonly string[]).includes(kind);
}

/**
 * The data kind whose topic a record kind travels on. The futures series are small (a candle
 * row without volumes, three funding rates a day, a metrics row per 5 minutes) and share the
 * klines topic, so the topic plan, the connector's KafkaSource and the manifests stay as they
 * are; the batch's `kind` tells the connector which contract and key a record has.
 */
export function topicKindOf(kind: RecordKind): DataKind {
  return isFuturesKind(kind) ? 'klines' : kind;
}

/** REST backfills: candles, aggTrades, the futures price candles and funding rates. */
export type ApiKind = 'klines' | 'agg_trades' | PriceKlineKind | 'funding_rate';
/** Bulk history: everything a REST backfill loads, plus raw trades and the metrics (archives only). */
export type BulkKind = 'klines' | 'agg_trades' | 'trades' | FuturesKind;

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
      kind: ApiKind;
      interval?: Interval;
      target: 'loader-api';
      services: ServiceName[];
    }
  | {
      type: string;
      source: 'bulk';
      kind: BulkKind;
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
  const priceCandles = /^(api|bulk)_(mark_price|index_price|premium_index)_candles_(.+)$/.exec(type);
  if (priceCandles) {
    const [, source, series, interval] = priceCandles as unknown as [string, 'api' | 'bulk', string, string];
    if (!isInterval(interval))
      throw invalid(
        type,
        `has an unknown interval "${interval}" (Binance futures intervals: 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M)`,
      );
    const kind = `${series}_klines` as PriceKlineKind;
    return source === 'api'
      ? { type, source, kind, interval, target: 'loader-api', services: ['loader-api', 'arango-connector'] }
      : { type, source, kind, interval, target: 'loader-producer', services: ['loader-producer', 'arango-connector'] };
  }
  if (type === 'api_funding_rate')
    return {
      type,
      source: 'api',
      kind: 'funding_rate',
      target: 'loader-api',
      services: ['loader-api', 'arango-connector'],
    };
  if (type === 'bulk_funding_rate' || type === 'bulk_metrics')
    return {
      type,
      source: 'bulk',
      kind: type === 'bulk_metrics' ? 'metrics' : 'funding_rate',
      target: 'loader-producer',
      services: ['loader-producer', 'arango-connector'],
    };
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
    'is not a known workflow type (api_candles_<interval>, api_agg_trades, bulk_candles_<interval>, bulk_agg_trades, bulk_trades, futures only: api_/bulk_mark_price_candles_<interval>, api_/bulk_index_price_candles_<interval>, api_/bulk_premium_index_candles_<interval>, api_/bulk_funding_rate, bulk_metrics; ws_*, graph_correlation, gnn_train, dummy_*)',
  );
}
