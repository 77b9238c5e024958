import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DepthSnapshot } from '@streamforge/core/contracts';
import { OrderBookSync, type DepthEvent } from '../src/order-book.ts';

const WS = fileURLToPath(new URL('../../../test/fixtures/binance/ws/', import.meta.url));

interface Frame {
  recv_ms: number;
  stream: string;
  data: DepthEvent & { s: string };
}
interface Snapshot {
  url: string;
  recv_ms: number;
  body: DepthSnapshot;
}

function lines<T>(file: string): T[] {
  return readFileSync(`${WS}${file}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

const frames = lines<Frame & { connect?: string }>('usdm-capture-2021-07-22.jsonl').filter(
  (f) => f.connect === undefined && f.stream.includes('@depth'),
);
const snapshots = lines<Snapshot>('usdm-depth-snapshots-2021-07-22.jsonl');
const symbols = snapshots.map((s) => new URL(s.url).searchParams.get('symbol')!);

/**
 * The USD-M procedure written out plainly, apart from the module under test: snapshot into
 * two maps, drop events with u < lastUpdateId, the first kept one must straddle it, every
 * later one must name the previous u as its pu; absolute quantities, zero removes.
 */
function rebuild(
  snapshot: DepthSnapshot,
  events: DepthEvent[],
): { lastUpdateId: number; bids: Map<string, string>; asks: Map<string, string> } {
  const bids = new Map(snapshot.bids.filter(([, q]) => Number(q) !== 0));
  const asks = new Map(snapshot.asks.filter(([, q]) => Number(q) !== 0));
  let last = snapshot.lastUpdateId;
  let first = true;
  for (const e of events) {
    if (e.u < snapshot.lastUpdateId) continue;
    if (first)
      assert.ok(
        e.U <= snapshot.lastUpdateId && e.u >= snapshot.lastUpdateId,
        'the first kept event straddles the snapshot',
      );
    else assert.equal(e.pu, last, 'pu names the previous u');
    first = false;
    for (const [p, q] of e.b) Number(q) === 0 ? bids.delete(p) : bids.set(p, q);
    for (const [p, q] of e.a) Number(q) === 0 ? asks.delete(p) : asks.set(p, q);
    last = e.u;
  }
  return { lastUpdateId: last, bids, asks };
}

function asSortedPairs(side: Map<string, string>, descending: boolean): Array<[string, string]> {
  return [...side].sort((x, y) => (descending ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0])));
}

test('the book kept from the real USD-M capture equals an independent rebuild, for every symbol of the capture', async () => {
  assert.deepEqual(symbols.sort(), ['AKROUSDT', 'CTKUSDT', 'KEEPUSDT', 'SUSHIUSDT']);
  for (const symbol of symbols) {
    const snapshot = snapshots.find((s) => s.url.includes(`symbol=${symbol}&`))!;
    const events = frames.filter((f) => f.data.s === symbol);
    // The snapshot "arrives" when it was received in the capture: events before it are buffered.
    let deliver!: (s: DepthSnapshot) => void;
    const book = new OrderBookSync({
      market: 'usdm',
      symbol,
      fetchSnapshot: () =>
        new Promise((resolve) => {
          deliver = resolve;
        }),
    });
    let delivered = false;
    for (const frame of events) {
      if (!delivered && frame.recv_ms >= snapshot.recv_ms && deliver !== undefined) {
        deliver(snapshot.body);
        delivered = true;
        await book.settled();
      }
      book.push(frame.data);
    }
    if (!delivered) {
      deliver(snapshot.body);
      await book.settled();
    }
    const expected = rebuild(
      snapshot.body,
      events.map((f) => f.data),
    );
    const view = book.view();
    assert.equal(book.state, 'synced', symbol);
    assert.equal(book.stats.resyncs, 0, `${symbol}: the real chain never breaks`);
    assert.equal(view.lastUpdateId, expected.lastUpdateId, `${symbol}: last update id`);
    assert.deepEqual(view.bids, asSortedPairs(expected.bids, true), `${symbol}: bids`);
    assert.deepEqual(view.asks, asSortedPairs(expected.asks, false), `${symbol}: asks`);
    assert.ok(book.stats.applied > 50, `${symbol}: events were applied (${book.stats.applied})`);
    assert.ok(Number(view.bids[0]![0]) < Number(view.asks[0]![0]), `${symbol}: the book is not crossed`);
  }
});

test('a USD-M book whose pu chain breaks starts over from a new snapshot and ends equal to the exchange book', async () => {
  const snapshot = snapshots[0]!;
  const symbol = new URL(snapshot.url).searchParams.get('symbol')!;
  const events = frames.filter((f) => f.data.s === symbol).map((f) => f.data);
  const kept = events.filter((e) => e.u >= snapshot.body.lastUpdateId);
  const missing = kept[20]!;
  // The exchange's book right after the gap, as a second snapshot would give it.
  const later = rebuild(snapshot.body, kept.slice(0, 26));
  const secondSnapshot: DepthSnapshot = {
    lastUpdateId: later.lastUpdateId,
    bids: asSortedPairs(later.bids, true),
    asks: asSortedPairs(later.asks, false),
  };
  const served = [snapshot.body, secondSnapshot];
  const reasons: string[] = [];
  const book = new OrderBookSync({
    market: 'usdm',
    symbol,
    fetchSnapshot: async () => served.shift()!,
    onResync: (why) => reasons.push(why),
  });
  for (const event of events) {
    if (event === missing) continue;
    book.push(event);
    await book.settled();
  }
  assert.equal(book.stats.resyncs, 1);
  assert.match(reasons[0]!, /pu \d+ is not \d+/);
  const expected = rebuild(snapshot.body, events);
  assert.equal(book.view().lastUpdateId, expected.lastUpdateId);
  assert.deepEqual(book.view().bids, asSortedPairs(expected.bids, true));
  assert.deepEqual(book.view().asks, asSortedPairs(expected.asks, false));
});

test('a spot book follows U/u: older snapshots are refetched, stale events ignored, a gap in U restarts it', async () => {
  const level = (p: number, q: number): [string, string] => [p.toFixed(2), q.toFixed(3)];
  const event = (
    U: number,
    u: number,
    bids: Array<[string, string]>,
    asks: Array<[string, string]> = [],
  ): DepthEvent => ({ U, u, b: bids, a: asks });
  const served: DepthSnapshot[] = [
    { lastUpdateId: 90, bids: [level(10, 1)], asks: [level(11, 1)] }, // older than the first event's U: refetched
    { lastUpdateId: 105, bids: [level(10, 2), level(9, 1)], asks: [level(11, 3)] },
    { lastUpdateId: 130, bids: [level(10, 7)], asks: [level(12, 1)] },
  ];
  const book = new OrderBookSync({ market: 'spot', symbol: 'BTCUSDT', fetchSnapshot: async () => served.shift()! });
  book.push(event(100, 104, [level(10, 5)]));
  book.push(event(105, 108, [level(9, 0)], [level(11.5, 2)]));
  await book.settled();
  assert.equal(book.stats.snapshots, 2);
  assert.deepEqual(
    book.view(),
    { lastUpdateId: 108, bids: [level(10, 2)], asks: [level(11, 3), level(11.5, 2)] },
    'the event ending at 104 is in the snapshot; the one bridging 106 is applied',
  );
  book.push(event(105, 108, [level(10, 9)]));
  assert.equal(book.stats.ignored, 1, 'a repeated event changes nothing');
  book.push(event(120, 125, [level(10, 4)]));
  await book.settled();
  assert.equal(book.stats.resyncs, 1);
  book.push(event(126, 131, [], [level(12, 0), level(13, 1)]));
  await book.settled();
  assert.deepEqual(book.view(), { lastUpdateId: 131, bids: [level(10, 7)], asks: [level(13, 1)] });
});
