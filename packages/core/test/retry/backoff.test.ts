import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WAIT_MS, backoffDelay, mayRetry, sleep } from '../../src/retry/backoff.ts';

/** A random source that always answers `value`: the jitter at its ends. */
const fixed = (value: number) => () => value;

test('the wait doubles from the base with each failure and stops at the cap', () => {
  const policy = { baseMs: 100, maxMs: 2_000, jitter: 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 30].map((n) => backoffDelay(policy, n)),
    [100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000],
  );
});

test('a failure count below 1 waits the base; a huge one waits the cap, never Infinity', () => {
  assert.equal(backoffDelay({ baseMs: 100, jitter: 0 }, 0), 100);
  assert.equal(backoffDelay({ baseMs: 100, jitter: 0 }, -3), 100);
  assert.equal(backoffDelay({ baseMs: 100, maxMs: 5_000, jitter: 0 }, 10_000), 5_000);
  assert.equal(
    backoffDelay({ baseMs: 100, jitter: 0 }, 10_000),
    MAX_WAIT_MS,
    'without a cap, the longest timer Node keeps',
  );
});

test('jitter takes off up to its share of the wait, never adds to it', () => {
  const policy = { baseMs: 1_000, maxMs: 8_000 };
  assert.equal(backoffDelay({ ...policy, random: fixed(0) }, 3), 4_000, 'the top of the range is the doubled wait');
  assert.equal(backoffDelay({ ...policy, random: fixed(0.999_999) }, 3), 2_000, 'the default jitter goes down to half');
  assert.equal(
    backoffDelay({ ...policy, random: fixed(0.999_999) }, 9),
    4_000,
    'half of the cap at most off a capped wait',
  );
  assert.equal(backoffDelay({ ...policy, jitter: 0.2, random: fixed(0.999_999) }, 1), 800);
  for (let n = 1; n <= 12; n++) {
    for (let i = 0; i < 200; i++) {
      const wait = backoffDelay(policy, n);
      const top = Math.min(8_000, 1_000 * 2 ** (n - 1));
      assert.ok(wait >= top / 2 && wait <= top, `failure ${n}: ${wait} ms outside [${top / 2}, ${top}]`);
    }
  }
});

test('waits spread out: failures at the same moment do not all come back at the same moment', () => {
  const waits = new Set(Array.from({ length: 50 }, () => backoffDelay({ baseMs: 10_000 }, 1)));
  assert.ok(waits.size > 10, `${waits.size} distinct waits of 50`);
});

test("linear growth adds the base with each failure (Knative's linear delivery policy)", () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay({ baseMs: 200, growth: 'linear', jitter: 0 }, n)),
    [200, 400, 600, 800],
  );
});

test('a base of 0 or less waits nothing', () => {
  assert.equal(backoffDelay({ baseMs: 0 }, 3), 0);
  assert.equal(backoffDelay({ baseMs: -5 }, 1), 0);
});

test('the attempt cap counts the first attempt: 3 attempts allow 2 retries', () => {
  const policy = { baseMs: 10, attempts: 3 };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((failures) => mayRetry(policy, failures)),
    [true, true, true, false, false],
  );
  assert.equal(mayRetry({ baseMs: 10 }, 1_000_000), true, 'no cap: retry for as long as it takes');
});

test('sleep waits, and ends early without throwing when its signal aborts', async () => {
  const started = performance.now();
  await sleep(30);
  assert.ok(performance.now() - started >= 25);
  const controller = new AbortController();
  const early = performance.now();
  const waiting = sleep(60_000, controller.signal);
  setTimeout(() => controller.abort(), 10);
  await waiting;
  assert.ok(performance.now() - early < 5_000);
  const aborted = performance.now();
  await sleep(60_000, AbortSignal.abort());
  assert.ok(performance.now() - aborted < 1_000);
});
