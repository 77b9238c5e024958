import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNDING_RATE_REQUESTS } from '@streamforge/core/contracts';
import { RequestBudget } from '../src/request-budget.ts';
import type { TimeSource } from '../src/time-source.ts';

/** A clock that moves only when someone sleeps on it (or a test advances it): waits are exact and cost no real time. */
function manualTime(start: number): TimeSource & { slept: number[]; advance(ms: number): void } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    advance(ms) {
      now += ms;
    },
    now: () => now,
    async sleep(ms) {
      slept.push(ms);
      now += Math.max(0, ms);
    },
  };
}

test("fundingRate's budget: 475 of 500 in any 5 minutes, then a wait until the oldest is more than 5 minutes old; never two requests at once", async () => {
  const start = 1_704_067_200_000 + 60_000; // a minute into a 5-minute window
  const time = manualTime(start);
  const budget = new RequestBudget({ ...FUNDING_RATE_REQUESTS, time });
  let inFlight = 0;
  let most = 0;
  const sentAt: number[] = [];
  const send = async (): Promise<number> => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    sentAt.push(time.now());
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    return sentAt.length;
  };
  const answers = await Promise.all(Array.from({ length: 1000 }, () => budget.run(send)));
  assert.deepEqual(
    answers,
    Array.from({ length: 1000 }, (_, i) => i + 1),
    'in the order asked',
  );
  assert.equal(most, 1);
  const windows = new Map<number, number>();
  for (const t of sentAt) windows.set(Math.floor(t / 300_000), (windows.get(Math.floor(t / 300_000)) ?? 0) + 1);
  assert.deepEqual([...windows.values()], [475, 475, 50]);
  assert.deepEqual(
    time.slept,
    [300_001, 300_001],
    'until the first 475 (all sent at once) are more than 5 minutes old',
  );
  assert.deepEqual(budget.stats(), { used: 50, waits: 2, waitedMs: 600_002 });
});

test('a failed request still counts, and does not stop the requests queued after it', async () => {
  const time = manualTime(0);
  const budget = new RequestBudget({ limit: 2, windowMs: 1000, time, safety: 1 });
  const results = await Promise.allSettled([
    budget.run(async () => {
      throw new Error('503');
    }),
    budget.run(async () => 'b'),
    budget.run(async () => 'c'),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'fulfilled', 'fulfilled'],
  );
  assert.deepEqual(time.slept, [1001], 'the third waits until the first is more than a window old');
});

test('no 5-minute span holds more than 475 sends, across what used to be a window boundary too', async () => {
  const boundary = 1_704_067_200_000 + 300_000;
  // 475 sends 100 ms apart end right at a 5-minute boundary of the epoch: fixed windows
  // would start counting from zero there and send 475 more at once.
  const start = boundary - 475 * 100;
  const time = manualTime(start);
  const budget = new RequestBudget({ ...FUNDING_RATE_REQUESTS, time });
  const sentAt: number[] = [];
  const send = async (): Promise<void> => {
    sentAt.push(time.now());
    time.advance(100);
  };
  await Promise.all(Array.from({ length: 1500 }, () => budget.run(send)));
  assert.equal(sentAt.length, 1500);
  for (let i = 0; i < sentAt.length; i += 1) {
    // Both ends inclusive: a span of exactly 5 minutes counts as one window.
    const inSpan = sentAt.filter((t) => t >= sentAt[i]! && t - sentAt[i]! <= 300_000).length;
    assert.ok(inSpan <= 475, `${inSpan} sends in the 5 minutes from send ${i}`);
  }
  assert.equal(sentAt[475]! - sentAt[0]!, 300_001, 'the 476th waits only until the first is more than 5 minutes old');
  assert.equal(sentAt[476]! - sentAt[1]!, 300_001, 'then each goes as the oldest one slides out');
});

test('a request whose caller gives up while it waits is dropped and not counted', async () => {
  const time: TimeSource = {
    now: () => 0,
    // A wait that only ends when its signal aborts.
    sleep: (_ms, signal) =>
      new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
  };
  const budget = new RequestBudget({ limit: 1, windowMs: 1000, time, safety: 1 });
  const sent: string[] = [];
  await budget.run(async () => sent.push('a'));
  const caller = new AbortController();
  const waiting = budget.run(async () => sent.push('b'), caller.signal);
  const queuedBehind = budget.run(async () => sent.push('c'), caller.signal);
  caller.abort(new Error('gave up'));
  await assert.rejects(waiting, /gave up/);
  await assert.rejects(queuedBehind, /gave up/);
  assert.deepEqual(sent, ['a']);
  assert.equal(budget.stats().used, 1);
});
