/**
 * Isolation end to end, on real components: while a poison workflow is being
 * retried — the exchange simulator answers 503 to every market-data request of its symbol, so
 * each of its 132 pages fails and is retried by the dispatcher for minutes — a normal one-week
 * backfill (`make demo`'s) completes within 1.5× of its time alone, or at most a second later,
 * both measured on this stack in this run (packages/testing/src/isolation-run.ts, which
 * bench/isolation.ts prints as JSON). The second is there because a run alone takes a fraction
 * of one: CPU the poison's retries take on two shared cores can double so short a time, while
 * a run that waits on the poison is late by seconds to minutes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ISOLATION_STACK_ENV, measureIsolation, startTestStack, type TestStack } from '@streamforge/testing';

let stack: TestStack;

before(async () => {
  stack = await startTestStack(ISOLATION_STACK_ENV);
});
after(() => stack?.down());

test('while a poison workflow is being retried, a normal one-week backfill completes within 1.5× of its time alone, or at most a second later', async () => {
  const result = await measureIsolation(stack, { log: (line) => console.log(`isolation: ${line}`) });
  console.log(`isolation: ${JSON.stringify(result)}`);
  assert.ok(
    result.poison.pages > 50,
    `the poison has more pages (${result.poison.pages}) than a KafkaSource has places in flight`,
  );
  assert.ok(
    result.poison.exchange_503_during_beside_runs.every((n) => n > 0),
    'its pages kept failing at the exchange while the normal backfill ran',
  );
  assert.deepEqual(
    result.poison.pages_done_when_measured,
    result.poison.pages_done_when_measured.map(() => 0),
  );
  assert.ok(
    result.ratio <= 1.5 || result.excess_s <= 1,
    `beside the poison × ${result.ratio} of alone and ${result.excess_s} s later (medians of pairs ${JSON.stringify(result.pair_ratios)}, ${JSON.stringify(result.pair_excess_s)} s; alone ${JSON.stringify(result.alone_s)} s, beside ${JSON.stringify(result.beside_s)} s)`,
  );
});
