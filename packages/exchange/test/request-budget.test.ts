import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUNDING_RATE_REQUESTS } from '@streamforge/core/contracts';
import { RequestBudget } from '../src/request-budget.ts';
import type { TimeSource } from '../src/time-source.ts';

/** A clock that moves only when someone sleeps on it: waits are exact and cost no real time. */
function manualTime(start: number): TimeSource & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    async sleep(ms) {
      slept.push(ms);
      now += Math.max(0, ms);
    },
  };
}

test("fundingRate's budget: 475 of 500 a window, then a wait for the next window; never two requests at once", async () => {
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
  assert.deepEqual(time.slept, [240_000, 300_000], 'to the end of the first window, then a whole one');
  assert.deepEqual(budget.stats(), { used: 50, waits: 2, waitedMs: 540_000 });
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
  assert.deepEqual(time.slept, [1000], 'the third waits for the next window');
});
