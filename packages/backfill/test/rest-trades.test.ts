import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AggTrade, Market, RawTrade, WorkPage } from '@streamforge/core/contracts';
import { BinanceRestClient } from '@streamforge/exchange';
import { ARCHIVE_TEST_NOW, ARCHIVE_TEST_SYMBOLS, startArchiveSimulator } from '@streamforge/testing';
import { restPageBounds } from '../src/plan-pages.ts';
import { restTradeBatches } from '../src/rest-page.ts';

const HOUR = 3_600_000;

function page(
  market: Market,
  start_ms: number,
  end_ms: number,
  index: number,
  count: number,
): WorkPage & { kind: 'trades' } {
  return {
    queue_id: 'wf-btcusdt-bulk_trades-x',
    type: 'bulk_trades',
    symbol: 'BTCUSDT',
    market,
    kind: 'trades',
    start_ms,
    end_ms,
    page: { index, count },
    collection_name: 'c',
    kafka_topic: 'data-trades',
    telemetry_id: 'loader-producer',
  };
}

/** A page's trades, answer after answer. */
async function tradesOf(batches: AsyncIterable<readonly unknown[]>): Promise<RawTrade[]> {
  const trades: RawTrade[] = [];
  for await (const batch of batches) trades.push(...(batch as RawTrade[]));
  return trades;
}

test('raw trade pages follow ids within their hour: adjacent pages hold every trade of the stretch once, up to now', async (t) => {
  // An aggregate trade a second: an hour holds several historicalTrades pages (USD-M's are 500 trades).
  const sim = await startArchiveSimulator(t, {
    symbols: ARCHIVE_TEST_SYMBOLS.map((s) => ({ ...s, tradeGapMs: 1000 })),
  });
  const exchange = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url },
    backoff: { baseMs: 1, maxMs: 5 },
  });
  t.after(() => exchange.close());
  // A stretch that starts inside an hour and ends at the clock, as a bulk tail does.
  const start = ARCHIVE_TEST_NOW - 2 * HOUR - 17 * 60_000;
  const end = ARCHIVE_TEST_NOW;
  const bounds = restPageBounds('trades', undefined, 'spot', start, end);
  assert.deepEqual(bounds.at(0), [start, start + HOUR]);
  assert.deepEqual(bounds.at(-1)?.[1], end);
  for (const market of ['spot', 'usdm'] as const) {
    const before = exchange.stats().requests;
    const trades: RawTrade[] = [];
    for (const [i, [from, to]] of bounds.entries()) {
      const rows = await tradesOf(restTradeBatches(exchange, page(market, from, to, i, bounds.length)));
      assert.ok(
        rows.every((r) => r.time >= from && r.time < to),
        `${market} page ${i}: every trade inside its hour`,
      );
      trades.push(...rows);
    }
    // The truth: the aggregate trades of the stretch bundle the raw trade ids f…l, without holes.
    const aggs: AggTrade[] = [];
    for (let fromId: number | undefined; ; ) {
      const batch = await exchange.aggTrades(
        fromId === undefined
          ? { market, symbol: 'BTCUSDT', startTime: start, endTime: start + HOUR - 1, limit: 1000 }
          : { market, symbol: 'BTCUSDT', fromId, limit: 1000 },
      );
      aggs.push(...batch.filter((a) => a.T < end));
      if (batch.length < 1000 || batch.at(-1)!.T >= end) break;
      fromId = batch.at(-1)!.a + 1;
    }
    const first = aggs[0]!.f;
    const last = aggs.at(-1)!.l;
    assert.deepEqual(
      trades.map((r) => r.id),
      Array.from({ length: last - first + 1 }, (_, i) => first + i),
      `${market}: every trade id of the stretch, in order, once`,
    );
    assert.ok(trades.length > 3 * 1000, `${market}: ${trades.length} trades`);
    // One aggTrades request per page for the first id, then historicalTrades pages by id.
    const requests = exchange.stats().requests - before;
    assert.ok(requests >= bounds.length + Math.ceil(trades.length / (market === 'spot' ? 1000 : 500)), `${requests}`);
    assert.equal('isBestMatch' in trades[0]!, market === 'spot');
  }
  // An hour without a trade (before the symbol was listed) is an empty page, without a historicalTrades request.
  const listed = ARCHIVE_TEST_SYMBOLS.find((s) => s.symbol === 'NEWUSDT')!.listedAt;
  const before = exchange.stats().requests;
  const empty = restTradeBatches(exchange, {
    ...page('spot', listed - 2 * HOUR, listed - HOUR, 0, 1),
    symbol: 'NEWUSDT',
  });
  assert.deepEqual(await tradesOf(empty), []);
  assert.equal(exchange.stats().requests - before, 1, 'one aggTrades request for the first id, and no more');
});
