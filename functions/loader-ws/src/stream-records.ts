/**
 * Which Binance streams a live workflow needs, and how their payloads become records under
 * the contracts of packages/core/src/contracts/records.ts (docs/binance.md). Decimal
 * values stay Binance's strings; keys are the same as the REST backfill's, so a candle or
 * trade filled from REST overwrites the streamed one instead of duplicating it.
 */
import {
  aggTradeFromBinance,
  bookTickerKey,
  depthKey,
  klineKey,
  tradeKey,
  type AggTradeRecord,
  type BinanceAggTrade,
  type BookTickerRecord,
  type DataKind,
  type DepthRecord,
  type Interval,
  type KlineRecord,
  type TradeRecord,
} from '@streamforge/core/contracts';
import type { BookView } from '@streamforge/exchange';

/** The stream of one symbol for a data kind; diff depth at 100 ms, the finest both markets offer. */
export function streamOf(symbol: string, kind: DataKind, interval?: Interval): string {
  const s = symbol.toLowerCase();
  switch (kind) {
    case 'klines':
      return `${s}@kline_${interval}`;
    case 'trades':
      return `${s}@trade`;
    case 'agg_trades':
      return `${s}@aggTrade`;
    case 'depth':
      return `${s}@depth@100ms`;
    case 'book_ticker':
      return `${s}@bookTicker`;
  }
}

/** The symbol a stream name is about (`btcusdt@kline_1m` → BTCUSDT). */
export function symbolOfStream(stream: string): string {
  return stream.slice(0, stream.indexOf('@')).toUpperCase();
}

export interface KlinePayload {
  E: number;
  s: string;
  k: {
    t: number;
    T: number;
    s: string;
    i: string;
    f: number;
    L: number;
    o: string;
    c: string;
    h: string;
    l: string;
    v: string;
    n: number;
    x: boolean;
    q: string;
    V: string;
    Q: string;
    B: string;
  };
}

/** The aggTrade stream's payload: the REST fields plus event time and symbol. */
export type AggTradePayload = BinanceAggTrade & { E: number; s: string };

export interface TradePayload {
  E: number;
  s: string;
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
}

export interface BookTickerPayload {
  u: number;
  s: string;
  b: string;
  B: string;
  a: string;
  A: string;
  E?: number;
  T?: number;
}

/** A candle from the stream: final when Binance says `x`, else marked `closed: false` until the final one replaces it. */
export function klineRecord(payload: KlinePayload, interval: Interval): KlineRecord {
  const k = payload.k;
  return {
    key: klineKey(payload.s, interval, k.t),
    symbol: payload.s,
    interval,
    open_time: k.t,
    open: k.o,
    high: k.h,
    low: k.l,
    close: k.c,
    volume: k.v,
    close_time: k.T,
    quote_asset_volume: k.q,
    number_of_trades: k.n,
    taker_buy_base_asset_volume: k.V,
    taker_buy_quote_asset_volume: k.Q,
    closed: k.x,
  };
}

/** The stream's aggTrade is the REST one with its event time and symbol: one record for both. */
export function aggTradeRecord(payload: AggTradePayload): AggTradeRecord {
  return aggTradeFromBinance(payload.s, payload);
}

export function tradeRecord(payload: TradePayload): TradeRecord {
  return {
    key: tradeKey(payload.s, payload.t),
    symbol: payload.s,
    trade_id: payload.t,
    price: payload.p,
    quantity: payload.q,
    timestamp: payload.T,
    is_buyer_maker: payload.m,
  };
}

export function bookTickerRecord(payload: BookTickerPayload): BookTickerRecord {
  return {
    key: bookTickerKey(payload.s, payload.u),
    symbol: payload.s,
    update_id: payload.u,
    bid_price: payload.b,
    bid_qty: payload.B,
    ask_price: payload.a,
    ask_qty: payload.A,
    ...(payload.E === undefined ? {} : { event_time: payload.E }),
    ...(payload.T === undefined ? {} : { transaction_time: payload.T }),
  };
}

export function depthRecord(
  symbol: string,
  view: BookView,
  levels: number,
  eventTime: number | undefined,
): DepthRecord {
  return {
    key: depthKey(symbol, view.lastUpdateId),
    symbol,
    last_update_id: view.lastUpdateId,
    ...(eventTime === undefined ? {} : { event_time: eventTime }),
    levels,
    bids: view.bids,
    asks: view.asks,
  };
}

/** Event time of a payload, for the latency from the exchange to Kafka; spot bookTicker carries none, so it counts from arrival. */
export function eventTimeOf(data: { E?: number; T?: number }, receivedAt: number): number {
  return data.E ?? data.T ?? receivedAt;
}

type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'object';
const FIELDS: Record<DataKind, Record<string, FieldType>> = {
  klines: { s: 'string', k: 'object' },
  agg_trades: {
    s: 'string',
    a: 'number',
    p: 'string',
    q: 'string',
    f: 'number',
    l: 'number',
    T: 'number',
    m: 'boolean',
  },
  trades: { s: 'string', t: 'number', p: 'string', q: 'string', T: 'number', m: 'boolean' },
  depth: { s: 'string', U: 'number', u: 'number', b: 'array', a: 'array' },
  book_ticker: { s: 'string', u: 'number', b: 'string', B: 'string', a: 'string', A: 'string' },
};
const KLINE_FIELDS: Record<string, FieldType> = {
  t: 'number',
  T: 'number',
  o: 'string',
  h: 'string',
  l: 'string',
  c: 'string',
  v: 'string',
  x: 'boolean',
};

function wrongFields(value: Record<string, unknown>, fields: Record<string, FieldType>, prefix = ''): string[] {
  return Object.entries(fields)
    .filter(([name, type]) => {
      const v = value[name];
      return type === 'array'
        ? !Array.isArray(v)
        : type === 'object'
          ? typeof v !== 'object' || v === null || Array.isArray(v)
          : typeof v !== type;
    })
    .map(([name, type]) => `${prefix}${name} (${type})`);
}

/** The fields a stream message of `kind` lacks or carries with the wrong type: empty for a message the records can be made from. */
export function payloadProblems(kind: DataKind, data: unknown): string[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return ['data (object)'];
  const payload = data as Record<string, unknown>;
  const problems = wrongFields(payload, FIELDS[kind]);
  if (kind === 'klines' && problems.length === 0)
    problems.push(...wrongFields(payload.k as Record<string, unknown>, KLINE_FIELDS, 'k.'));
  return problems;
}
