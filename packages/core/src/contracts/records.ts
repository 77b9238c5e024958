/**
 * Records as they travel in data batches and sit in the store. Field names follow the
 * seed wire format; decimal values stay the exchange's strings, so what is stored is exactly
 * what Binance sent (no float rounding). Every record has a deterministic `key`, so a
 * repeated delivery overwrites instead of duplicating.
 */
import { METRICS_FIELDS, type AggTrade, type KlineRow, type MetricsRow, type RawTrade } from './binance-contract.ts';
import { defineContract, type Contract } from './validation.ts';
import { closeTime, type Interval } from './intervals.ts';
import { SYMBOL_PATTERN } from './ids.ts';
import type { PriceKlineKind, RecordKind } from './workflow-type.ts';

// Lengths bounded in the patterns, not by maxLength: ajv counts UTF-16 code points for
// maxLength on every string, a measurable cost at a million records a minute.
const decimal = { type: 'string', pattern: '^-?\\d{1,20}(\\.\\d{1,20})?$' };
const epochMs = { type: 'integer', minimum: 0, maximum: 99_999_999_999_999 };
const id = { type: 'integer', minimum: -1 };
const symbol = { type: 'string', pattern: SYMBOL_PATTERN };
const key = { type: 'string', pattern: "^[A-Za-z0-9_\\-.@()+,=;$!*'%:]{1,254}$" };

export type KlineRecord = {
  key: string;
  symbol: string;
  interval: Interval;
  open_time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  close_time: number;
  quote_asset_volume: string;
  number_of_trades: number;
  taker_buy_base_asset_volume: string;
  taker_buy_quote_asset_volume: string;
  /** Live candles only: whether the candle is final (Binance's `x`). REST candles are final once past. */
  closed?: boolean;
};

export type AggTradeRecord = {
  key: string;
  symbol: string;
  trade_id: number;
  price: string;
  quantity: string;
  first_trade_id: number;
  last_trade_id: number;
  timestamp: number;
  is_buyer_maker: boolean;
  is_best_match?: boolean;
};

export type TradeRecord = {
  key: string;
  symbol: string;
  trade_id: number;
  price: string;
  quantity: string;
  timestamp: number;
  is_buyer_maker: boolean;
};

/**
 * The local order book of a symbol (Binance's snapshot-plus-diff procedure) as published
 * by the WebSocket loader: its best `levels` per side once its `last_update_id` is reached.
 */
export type DepthRecord = {
  key: string;
  symbol: string;
  last_update_id: number;
  /** Event time (ms) of the last diff applied, when the stream sends one. */
  event_time?: number;
  /** Levels kept per side in this record (the book itself may hold more). */
  levels: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
};

/** Best bid and ask (`@bookTicker`), keyed by the book update id. */
export type BookTickerRecord = {
  key: string;
  symbol: string;
  update_id: number;
  bid_price: string;
  bid_qty: string;
  ask_price: string;
  ask_qty: string;
  /** USD-M only: event and transaction time (ms). */
  event_time?: number;
  transaction_time?: number;
};

/**
 * A mark price, index price or premium index candle (futures only): the prices and times of
 * Binance's kline row; its volume fields carry nothing ("0") and are not stored. The kind
 * (the batch's) tells which series; the key names it too.
 */
export type PriceKlineRecord = {
  key: string;
  symbol: string;
  interval: Interval;
  open_time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  close_time: number;
};

/**
 * A funding rate settled at `funding_time` (futures only). REST answers carry the mark price
 * at the time, the monthly archive files the funding interval instead: each is stored when its
 * source has it, so the key and the rate are the same whichever source came first.
 */
export type FundingRateRecord = {
  key: string;
  symbol: string;
  funding_time: number;
  funding_rate: string;
  mark_price?: string;
  funding_interval_hours?: number;
};

/** One 5-minute row of Binance's USD-M `metrics` archive: open interest and long/short ratios. */
export type MetricsRecord = { key: string; symbol: string } & MetricsRow;

// Records are type aliases, not interfaces: an alias is assignable to DataRecord's index signature.
/** Any record kind. */
export type DataRecord = { key: string; symbol: string } & Record<string, unknown>;

export const klineRecordContract: Contract<KlineRecord> = defineContract<KlineRecord>('kline record', {
  type: 'object',
  additionalProperties: false,
  required: [
    'key',
    'symbol',
    'interval',
    'open_time',
    'open',
    'high',
    'low',
    'close',
    'volume',
    'close_time',
    'quote_asset_volume',
    'number_of_trades',
    'taker_buy_base_asset_volume',
    'taker_buy_quote_asset_volume',
  ],
  properties: {
    key,
    symbol,
    interval: { type: 'string', pattern: '^[0-9]+[smhdwM]$' },
    open_time: epochMs,
    open: decimal,
    high: decimal,
    low: decimal,
    close: decimal,
    volume: decimal,
    close_time: epochMs,
    quote_asset_volume: decimal,
    number_of_trades: { type: 'integer', minimum: 0 },
    taker_buy_base_asset_volume: decimal,
    taker_buy_quote_asset_volume: decimal,
    closed: { type: 'boolean' },
  },
});

export const aggTradeRecordContract: Contract<AggTradeRecord> = defineContract<AggTradeRecord>('aggTrade record', {
  type: 'object',
  additionalProperties: false,
  required: [
    'key',
    'symbol',
    'trade_id',
    'price',
    'quantity',
    'first_trade_id',
    'last_trade_id',
    'timestamp',
    'is_buyer_maker',
  ],
  properties: {
    key,
    symbol,
    trade_id: id,
    price: decimal,
    quantity: decimal,
    first_trade_id: id,
    last_trade_id: id,
    timestamp: epochMs,
    is_buyer_maker: { type: 'boolean' },
    is_best_match: { type: 'boolean' },
  },
});

export const tradeRecordContract: Contract<TradeRecord> = defineContract<TradeRecord>('trade record', {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'symbol', 'trade_id', 'price', 'quantity', 'timestamp', 'is_buyer_maker'],
  properties: {
    key,
    symbol,
    trade_id: id,
    price: decimal,
    quantity: decimal,
    timestamp: epochMs,
    is_buyer_maker: { type: 'boolean' },
  },
});

const level = { type: 'array', minItems: 2, maxItems: 2, items: decimal };
const levels = { type: 'array', maxItems: 5000, items: level };

export const depthRecordContract: Contract<DepthRecord> = defineContract<DepthRecord>('depth record', {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'symbol', 'last_update_id', 'levels', 'bids', 'asks'],
  properties: {
    key,
    symbol,
    last_update_id: { type: 'integer', minimum: 0 },
    event_time: epochMs,
    levels: { type: 'integer', minimum: 1, maximum: 5000 },
    bids: levels,
    asks: levels,
  },
});

export const bookTickerRecordContract: Contract<BookTickerRecord> = defineContract<BookTickerRecord>(
  'book ticker record',
  {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'symbol', 'update_id', 'bid_price', 'bid_qty', 'ask_price', 'ask_qty'],
    properties: {
      key,
      symbol,
      update_id: { type: 'integer', minimum: 0 },
      bid_price: decimal,
      bid_qty: decimal,
      ask_price: decimal,
      ask_qty: decimal,
      event_time: epochMs,
      transaction_time: epochMs,
    },
  },
);

/** One schema for the three price series: a candle's prices and times, no volumes. */
const priceKlineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'symbol', 'interval', 'open_time', 'open', 'high', 'low', 'close', 'close_time'],
  properties: {
    key,
    symbol,
    interval: { type: 'string', pattern: '^[0-9]+[smhdwM]$' },
    open_time: epochMs,
    open: decimal,
    high: decimal,
    low: decimal,
    close: decimal,
    close_time: epochMs,
  },
};

export const markPriceKlineRecordContract: Contract<PriceKlineRecord> = defineContract<PriceKlineRecord>(
  'mark price kline record',
  priceKlineSchema,
);
export const indexPriceKlineRecordContract: Contract<PriceKlineRecord> = defineContract<PriceKlineRecord>(
  'index price kline record',
  priceKlineSchema,
);
export const premiumIndexKlineRecordContract: Contract<PriceKlineRecord> = defineContract<PriceKlineRecord>(
  'premium index kline record',
  priceKlineSchema,
);

export const fundingRateRecordContract: Contract<FundingRateRecord> = defineContract<FundingRateRecord>(
  'funding rate record',
  {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'symbol', 'funding_time', 'funding_rate'],
    properties: {
      key,
      symbol,
      funding_time: epochMs,
      funding_rate: decimal,
      mark_price: decimal,
      funding_interval_hours: { type: 'integer', minimum: 1, maximum: 24 },
    },
  },
);

export const metricsRecordContract: Contract<MetricsRecord> = defineContract<MetricsRecord>('metrics record', {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'symbol', 'create_time', ...METRICS_FIELDS],
  properties: {
    key,
    symbol,
    create_time: epochMs,
    ...Object.fromEntries(METRICS_FIELDS.map((field) => [field, decimal])),
  },
});

export const RECORD_CONTRACTS: Record<RecordKind, Contract<DataRecord>> = {
  klines: klineRecordContract as unknown as Contract<DataRecord>,
  agg_trades: aggTradeRecordContract as unknown as Contract<DataRecord>,
  trades: tradeRecordContract as unknown as Contract<DataRecord>,
  depth: depthRecordContract as unknown as Contract<DataRecord>,
  book_ticker: bookTickerRecordContract as unknown as Contract<DataRecord>,
  mark_price_klines: markPriceKlineRecordContract as unknown as Contract<DataRecord>,
  index_price_klines: indexPriceKlineRecordContract as unknown as Contract<DataRecord>,
  premium_index_klines: premiumIndexKlineRecordContract as unknown as Contract<DataRecord>,
  funding_rate: fundingRateRecordContract as unknown as Contract<DataRecord>,
  metrics: metricsRecordContract as unknown as Contract<DataRecord>,
};

// Ids are zero-padded so that string order (the store's key order) is numeric order.
const pad = (n: number): string => String(n).padStart(15, '0');

export function klineKey(symbol: string, interval: string, openTime: number): string {
  return `${symbol}:${interval}:${openTime}`;
}

/** The series a price candle's key names, so it never meets a trade candle (`SYMBOL:1m:…`) of the same symbol. */
export const PRICE_KLINE_SERIES: Record<PriceKlineKind, string> = {
  mark_price_klines: 'mark',
  index_price_klines: 'index',
  premium_index_klines: 'premium',
};

/** `BTCUSDT:mark:1m:1704067200000`: the series between symbol and interval. */
export function priceKlineKey(kind: PriceKlineKind, symbol: string, interval: string, openTime: number): string {
  return `${symbol}:${PRICE_KLINE_SERIES[kind]}:${interval}:${openTime}`;
}

/** `BTCUSDT:funding:1704067200000`: one record per settlement, whichever source holds it. */
export function fundingRateKey(symbol: string, fundingTime: number): string {
  return `${symbol}:funding:${fundingTime}`;
}

/** `BTCUSDT:metrics:1704067500000`. */
export function metricsKey(symbol: string, createTime: number): string {
  return `${symbol}:metrics:${createTime}`;
}

export function aggTradeKey(symbol: string, aggTradeId: number): string {
  return `${symbol}:agg:${pad(aggTradeId)}`;
}

export function tradeKey(symbol: string, tradeId: number): string {
  return `${symbol}:trade:${pad(tradeId)}`;
}

/** One order-book record per published update id, so a re-published book overwrites itself. */
export function depthKey(symbol: string, lastUpdateId: number): string {
  return `${symbol}:depth:${pad(lastUpdateId)}`;
}

export function bookTickerKey(symbol: string, updateId: number): string {
  return `${symbol}:book:${pad(updateId)}`;
}

/** A kline row exactly as Binance's REST API returns it (12 elements, JSON types matter). */
export type BinanceKlineRow = KlineRow;

/** A Binance aggTrade as the REST API returns it. */
export type BinanceAggTrade = AggTrade;

export function klineFromRow(symbol: string, interval: Interval, row: BinanceKlineRow): KlineRecord {
  return {
    key: klineKey(symbol, interval, row[0]),
    symbol,
    interval,
    open_time: row[0],
    open: row[1],
    high: row[2],
    low: row[3],
    close: row[4],
    volume: row[5],
    close_time: row[6],
    quote_asset_volume: row[7],
    number_of_trades: row[8],
    taker_buy_base_asset_volume: row[9],
    taker_buy_quote_asset_volume: row[10],
  };
}

export function priceKlineFromRow(
  kind: PriceKlineKind,
  symbol: string,
  interval: Interval,
  row: BinanceKlineRow,
): PriceKlineRecord {
  return {
    key: priceKlineKey(kind, symbol, interval, row[0]),
    symbol,
    interval,
    open_time: row[0],
    open: row[1],
    high: row[2],
    low: row[3],
    close: row[4],
    close_time: row[6],
  };
}

/** The inverse of klineFromRow: the row Binance sent, for bit-exact comparisons. */
export function rowFromKline(record: KlineRecord): BinanceKlineRow {
  return [
    record.open_time,
    record.open,
    record.high,
    record.low,
    record.close,
    record.volume,
    record.close_time,
    record.quote_asset_volume,
    record.number_of_trades,
    record.taker_buy_base_asset_volume,
    record.taker_buy_quote_asset_volume,
    '0',
  ];
}

export function aggTradeFromBinance(symbol: string, trade: BinanceAggTrade): AggTradeRecord {
  return {
    key: aggTradeKey(symbol, trade.a),
    symbol,
    trade_id: trade.a,
    price: trade.p,
    quantity: trade.q,
    first_trade_id: trade.f,
    last_trade_id: trade.l,
    timestamp: trade.T,
    is_buyer_maker: trade.m,
    ...(trade.M === undefined ? {} : { is_best_match: trade.M }),
  };
}

/**
 * A REST trade (historicalTrades, or an archive `trades` line read as one) as the record the
 * `@trade` stream stores for the same id: quote quantity and best match are left out because
 * the stream does not carry them, and one trade must be one record whichever path came first.
 */
export function tradeFromBinance(symbol: string, trade: RawTrade): TradeRecord {
  return {
    key: tradeKey(symbol, trade.id),
    symbol,
    trade_id: trade.id,
    price: trade.price,
    quantity: trade.qty,
    timestamp: trade.time,
    is_buyer_maker: trade.isBuyerMaker,
  };
}

/**
 * A kline record's JSON, written out field by field: several times faster than
 * JSON.stringify for the connector's hot path. Only for records that passed
 * klineRecordContract, whose strings (decimals, symbol, key, interval) never need escaping.
 */
export function klineRecordJson(r: KlineRecord): string {
  return `{"key":"${r.key}","symbol":"${r.symbol}","interval":"${r.interval}","open_time":${r.open_time},"open":"${r.open}","high":"${r.high}","low":"${r.low}","close":"${r.close}","volume":"${r.volume}","close_time":${r.close_time},"quote_asset_volume":"${r.quote_asset_volume}","number_of_trades":${r.number_of_trades},"taker_buy_base_asset_volume":"${r.taker_buy_base_asset_volume}","taker_buy_quote_asset_volume":"${r.taker_buy_quote_asset_volume}"${r.closed === undefined ? '' : `,"closed":${r.closed}`}}`;
}

/**
 * Why a candle cannot be what the exchange sent, or undefined when it can. Only the
 * impossible is refused: a close time outside the candle, a high below the low, a negative
 * volume. A candle closed early (Binance ends the open candle at a trading halt, so its
 * close time falls before the interval's end) is real data and passes.
 */
export function klineImpossibility(record: KlineRecord): string | undefined {
  const end = closeTime(record.interval, record.open_time);
  if (record.close_time < record.open_time || record.close_time > end) {
    return `close_time: ${record.close_time} is outside the ${record.interval} candle opened at ${record.open_time} (${record.open_time}–${end})`;
  }
  if (Number(record.high) < Number(record.low)) return `high: ${record.high} is below low ${record.low}`;
  for (const field of [
    'volume',
    'quote_asset_volume',
    'taker_buy_base_asset_volume',
    'taker_buy_quote_asset_volume',
  ] as const) {
    if (Number(record[field]) < 0) return `${field}: ${record[field]} is negative`;
  }
  return undefined;
}
