import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@streamforge/testing';

test('waitFor with progress waits past its timeout while the work moves', async () => {
  let steps = 0;
  const started = Date.now();
  // Each probe moves one step; the condition holds only after several timeouts' worth of steps.
  const result = await waitFor('ten steps', () => (++steps >= 10 ? steps : undefined), {
    timeoutMs: 30,
    intervalMs: 20,
    progress: () => steps,
  });
  assert.equal(result, 10);
  assert.ok(Date.now() - started > 30, 'the wait outlived one timeout');
});

test('waitFor with progress fails once nothing moved for its timeout, saying so', async () => {
  let steps = 0;
  await assert.rejects(
    waitFor('a stalled count', () => undefined, {
      timeoutMs: 50,
      intervalMs: 10,
      progress: () => Math.min(++steps, 3),
    }),
    /timed out after 50 ms without progress waiting for: a stalled count/,
  );
});
