/**
 * Sizes end to end, on the real broker with the exchange simulator: a page whose data is
 * several times the broker's max message size (a busy hour of BTCUSDT aggTrades) lands
 * exactly, in parts; a day of 1s candles goes through the same cut as klines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggTradeFromBinance,
  rowFromKline,
  type AggTradeRecord,
  type BinanceAggTrade,
  type KlineRecord,
} from '@streamforge/core/contracts';
import { LOCAL_BROKER_MAX_MESSAGE_BYTES } from '@streamforge/platform';
import { openStore, type Store } from '@streamforge/core/store';
import { stackApi, startTestStack, type TestStack } from '@streamforge/testing';

let stack: TestStack;
let store: Store;

before(async () => {
  // Every process of the stack with a 256 MB heap, well inside an instance's 512 Mi: a day of
  // aggTrades must fit (loader-api takes 20 busy hours at once, each spooled to disk, not held).
  stack = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    NODE_OPTIONS: '--max-old-space-size=256',
  });
  // Read straight from the stack's store: a day of aggTrades is 1.7 M records, too many to page through the API.
  store = await openStore(stack.state.store_url);
});
after(async () => {
  await store?.close();
  await stack?.down();
});

const api = stackApi(() => stack.state.api_url);

/**
 * The exchange's aggTrades with T in [startMs, endMs) as a client pages them (first by time,
 * then by id), each page with its size as sent; the next page is on its way while the caller
 * looks at this one.
 */
async function* exchangeAggTrades(
  symbol: string,
  startMs: number,
  endMs: number,
): AsyncGenerator<{ trades: BinanceAggTrade[]; bytes: number }> {
  const get = async (query: string) => {
    const text = await (
      await fetch(`${stack.state.exchange_url}/api/v3/aggTrades?symbol=${symbol}&limit=1000&${query}`)
    ).text();
    return { page: JSON.parse(text) as BinanceAggTrade[], bytes: text.length };
  };
  let next = get(`startTime=${startMs}&endTime=${endMs - 1}`);
  for (;;) {
    const { page, bytes } = await next;
    const trades = page.filter((trade) => trade.T < endMs);
    const more = page.length === 1000 && trades.length === page.length;
    if (more) next = get(`fromId=${page.at(-1)!.a + 1}`);
    if (trades.length > 0) yield { trades, bytes };
    if (!more) return;
  }
}

// 1.7 M records take from one to several minutes depending on how busy the machine is: the
// workflow is waited for while it moves, and the test's own limit only catches a run gone astray.
const DAY_OF_AGG_TRADES = { timeout: 900_000 };

test(
  "a full day of BTCUSDT api_agg_trades completes with exactly the exchange's aggTrades, though each hour is several times the broker's max message size",
  DAY_OF_AGG_TRADES,
  async (t) => {
    const [start, end] = [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)];
    const workflow = await api.start({
      symbol: 'BTCUSDT',
      type: 'api_agg_trades',
      time_range: '2024-01-01:2024-01-02',
    });
    const done = await api.final(workflow.queue_id, 120_000);
    assert.equal(done.status, 'completed', done.error);
    const checking = Date.now();

    // Walk the exchange's trades and the stored records side by side, in id (= key) order.
    let count = 0;
    let after = '';
    const hourBytes = new Map<number, number>();
    for await (const { trades, bytes } of exchangeAggTrades('BTCUSDT', start, end)) {
      const hour = Math.floor(trades[0]!.T / 3_600_000);
      hourBytes.set(hour, (hourBytes.get(hour) ?? 0) + bytes);
      const expected = trades.map((trade) => aggTradeFromBinance('BTCUSDT', trade));
      const records = (await store.listRecords(workflow.collection_name, {
        after,
        limit: trades.length,
      })) as AggTradeRecord[];
      // Compared as JSON first (1.7 M records); a difference is then shown field by field.
      if (JSON.stringify(records) !== JSON.stringify(expected))
        assert.deepEqual(records, expected, `records after ${after || 'the first'} differ`);
      count += trades.length;
      after = records.at(-1)!.key;
    }
    assert.deepEqual(
      await store.listRecords(workflow.collection_name, { after, limit: 1 }),
      [],
      "nothing stored beyond the exchange's trades",
    );
    assert.equal(await store.countRecords(workflow.collection_name), count);
    assert.equal(done.stored?.records_written, count);
    assert.deepEqual(
      [done.stored?.pages_done, done.stored?.pages_total],
      [24, 24],
      'each hour counted once, when all its parts were stored',
    );
    t.diagnostic(
      `${count} aggTrades stored in ${done.updated_at - done.created_at} ms; compared in ${Date.now() - checking} ms`,
    );
    // What makes this a test of sizes: each page (an hour) is several times what the broker takes in one message.
    assert.equal(hourBytes.size, 24);
    assert.ok(
      Math.min(...hourBytes.values()) > 2 * LOCAL_BROKER_MAX_MESSAGE_BYTES,
      `the quietest hour is ${Math.min(...hourBytes.values())} bytes`,
    );
  },
);

test("a day of BTCUSDT api_candles_1s (87 pages of 1000 candles) completes with exactly the exchange's candles", async () => {
  const [start, end] = [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)];
  const workflow = await api.start({ symbol: 'BTCUSDT', type: 'api_candles_1s', time_range: '2024-01-01:2024-01-02' });
  const done = await api.final(workflow.queue_id, 120_000);
  assert.equal(done.status, 'completed', done.error);
  assert.equal(done.stored?.pages_total, 87);
  assert.equal(done.stored?.records_written, 86_400);
  let after = '';
  for (let open = start; open < end; open += 1000 * 1000) {
    const response = await fetch(
      `${stack.state.exchange_url}/api/v3/klines?symbol=BTCUSDT&interval=1s&startTime=${open}&endTime=${Math.min(end, open + 1000 * 1000) - 1}&limit=1000`,
    );
    const rows = (await response.json()) as unknown[];
    const records = (await store.listRecords(workflow.collection_name, { after, limit: rows.length })) as KlineRecord[];
    assert.deepEqual(records.map(rowFromKline), rows, `candles from ${new Date(open).toISOString()} differ`);
    after = records.at(-1)!.key;
  }
  assert.equal(await store.countRecords(workflow.collection_name), 86_400);
});
