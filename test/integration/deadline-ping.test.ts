/**
 * A workflow that stalls while the manager has no instance is recorded as ended without
 * anyone asking: `streamforge up` runs the PingSource of knative/deadline-ping.yaml with its
 * period shortened for the test and its ticks held (STREAMFORGE_PING_HOLD_FILE) until the
 * test lets them go, the manager's own deadline timer is set beyond the test (so only a tick
 * can end the workflow), and the cooldown is shortened so the manager scales to zero. A
 * `dummy_stall` workflow reports `started` once and then nothing; once the manager is at zero
 * (the platform's /status) with the workflow still running past its no-progress deadline,
 * the ticks are let go, and one wakes the manager, which ends it in `error` with the
 * deadline's reason. The workflow is read from the store, never through the API: a read
 * through the API would end it too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { stackApi, startTestStack, waitFor, type TestStack } from '@streamforge/testing';

const skip = process.env.STREAMFORGE_TEST_NO_KAFKA === '1' ? 'needs the Kafka broker' : false;

let stack: TestStack | undefined;
let store: Store | undefined;
// While this file exists the platform sends no tick: the test removes it once the manager is
// at zero and the workflow overdue, so no tick can come before that state.
const holdDir = mkdtempSync(join(tmpdir(), 'sf-ping-hold-'));
const hold = join(holdDir, 'hold');

before(async () => {
  if (skip) return;
  writeFileSync(hold, '');
  stack = await startTestStack({
    // A stall of 8 s: the manager reaches zero before it, and the workflow's next telemetry
    // (25 s on) comes long after the tick that ends it.
    WORKFLOW_STALL_TIMEOUTS: 'dummy_stall=8s',
    // The instance's own sweep never runs within the test: only a tick ends the workflow.
    WORKFLOW_DEADLINE_CHECK_MS: '3600000',
    STREAMFORGE_PING_PERIOD_MS: '500',
    STREAMFORGE_PING_HOLD_FILE: hold,
    // Scale-to-zero within seconds instead of the manifests' cooldown-period.
    STREAMFORGE_POLLING_INTERVAL_MS: '200',
    STREAMFORGE_COOLDOWN_SECONDS: '1',
  });
  store = await openSqliteStore(stack.state.store_url!.replace(/^sqlite:/, ''));
});

after(async () => {
  await store?.close();
  await stack?.down();
  rmSync(holdDir, { recursive: true, force: true });
});

test('a workflow whose no-progress deadline passes while the manager is at zero is recorded in error by the deadline ping', {
  skip,
}, async () => {
  const api = stackApi(() => stack!.state.api_url);
  // One `started`, then nothing for 25 s (the longest a step may take): it stalls before.
  const workflow = await api.start({
    type: 'dummy_stall',
    symbol: 'BTCUSDT',
    params: { steps: 1, interval_ms: 25_000 },
  });
  const running = await waitFor(
    'the workflow to run',
    async () => {
      const w = await store!.getWorkflow(workflow.queue_id);
      return w?.status === 'running' ? w : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

  const zeroAt = await waitFor(
    'the manager at zero with the workflow still running past its deadline',
    async () => {
      if ((await stack!.instances('queue-manager')) !== 0) return undefined;
      const w = await store!.getWorkflow(workflow.queue_id);
      if (w?.status !== 'running' || w.deadline_at === undefined || Date.now() <= w.deadline_at) return undefined;
      return new Date().toISOString();
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  // Nothing ended it while the ticks were held.
  assert.equal((await store!.getWorkflow(workflow.queue_id))?.status, 'running');
  rmSync(hold);

  const ended = await waitFor(
    'the workflow to end in error',
    async () => {
      const w = await store!.getWorkflow(workflow.queue_id);
      return w?.status === 'error' ? w : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  assert.match(
    ended.error ?? '',
    /^no progress for 8 s \(WORKFLOW_STALL_TIMEOUTS dummy_stall\); it stood at: dummy-service (started|loading)/,
  );
  assert.ok(running.deadline_at !== undefined && ended.updated_at > running.deadline_at, 'recorded after its deadline');
  // Nothing but the ticks sends to the manager now: one of them started it from zero.
  const woken = (await stack!.platformStatus()).decisions.filter(
    (d) => d.function === 'queue-manager' && d.from === 0 && d.to === 1 && d.at >= zeroAt,
  );
  assert.ok(woken.length > 0, 'a tick scaled the manager from zero');
});
