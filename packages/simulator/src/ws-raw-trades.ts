/**
 * Raw trades of the exchange simulator (a stand-in for Binance), derived from its aggregate
 * trades so that both views agree: aggregate trade `a` bundles the raw trades `f`…`l`,
 * which share its price, time and side and split its quantity. The `@trade` stream,
 * `GET /api/v3/trades` and `GET /api/v3/historicalTrades` all come from here, so a client
 * that fills a gap in trade ids from REST gets exactly what the stream would have sent.
 */
import type { AggTrade, Market, RawTrade } from '@streamforge/core/contracts';
import type { MarketData } from './market-data.ts';

function decimals(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * The raw trades inside one aggregate trade. The quantity is split in whole steps (its last
 * printed digit), exactly when it has at least as many steps as trades; a one-step
 * quantity shared by two trades gives each one step.
 */
export function rawTradesOf(agg: AggTrade, market: Market): RawTrade[] {
  const count = agg.l - agg.f + 1;
  const d = decimals(agg.q);
  const scale = 10 ** d;
  const units = Math.round(Number(agg.q) * scale);
  const base = Math.floor(units / count);
  const price = Number(agg.p);
  const trades: RawTrade[] = [];
  for (let j = 0; j < count; j++) {
    const share = Math.max(1, base + (j < units - base * count ? 1 : 0));
    const qty = (share / scale).toFixed(d);
    trades.push({
      id: agg.f + j,
      price: agg.p,
      qty,
      quoteQty: (price * Number(qty)).toFixed(market === 'spot' ? 8 : 5),
      time: agg.T,
      isBuyerMaker: agg.m,
      ...(market === 'spot' ? { isBestMatch: true } : {}),
    });
  }
  return trades;
}

/** The aggregate trade that holds raw trade `tradeId` (ids have no gaps, so a binary search over agg ids finds it). */
function aggHolding(
  data: MarketData,
  market: Market,
  symbol: string,
  tradeId: number,
  now: number,
): AggTrade | undefined {
  const newest = data.aggTrades(market, symbol, { limit: 1 }, now)[0];
  if (newest === undefined || tradeId > newest.l) return undefined;
  let lo = 0;
  let hi = newest.a;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const agg = data.aggTrades(market, symbol, { fromId: mid, limit: 1 }, now)[0]!;
    if (agg.f <= tradeId) lo = mid;
    else hi = mid - 1;
  }
  return data.aggTrades(market, symbol, { fromId: lo, limit: 1 }, now)[0];
}

/** Raw trades from `fromId` on (historicalTrades), or the most recent ones (trades / no fromId), up to `limit`. */
export function rawTrades(
  data: MarketData,
  market: Market,
  symbol: string,
  query: { fromId?: number; limit: number },
  now: number,
): RawTrade[] {
  const out: RawTrade[] = [];
  if (query.fromId === undefined) {
    // The most recent `limit` trades: walk back over aggregate trades, then keep the tail.
    let aggs = data.aggTrades(market, symbol, { limit: Math.min(1000, query.limit) }, now);
    const collected: RawTrade[][] = [];
    let total = 0;
    while (aggs.length > 0 && total < query.limit) {
      for (let i = aggs.length - 1; i >= 0 && total < query.limit; i--) {
        const trades = rawTradesOf(aggs[i]!, market);
        collected.push(trades);
        total += trades.length;
      }
      const first = aggs[0]!.a;
      aggs =
        first === 0
          ? []
          : data.aggTrades(market, symbol, { fromId: Math.max(0, first - 1000), limit: Math.min(1000, first) }, now);
    }
    for (let i = collected.length - 1; i >= 0; i--) out.push(...collected[i]!);
    return out.slice(Math.max(0, out.length - query.limit));
  }
  const start = aggHolding(data, market, symbol, query.fromId, now);
  if (start === undefined) return out;
  let next = start.a;
  while (out.length < query.limit) {
    const aggs = data.aggTrades(market, symbol, { fromId: next, limit: 1000 }, now);
    for (const agg of aggs) {
      for (const trade of rawTradesOf(agg, market))
        if (trade.id >= query.fromId && out.length < query.limit) out.push(trade);
    }
    if (aggs.length < 1000) break;
    next = aggs[aggs.length - 1]!.a + 1;
  }
  return out;
}
