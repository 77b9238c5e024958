import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES } from '@streamforge/core/contracts';
import { isAlive, readStackState } from '@streamforge/platform';
import { startPinger, startTestStack, testKafka, waitFor } from '@streamforge/testing';

test("a ping on dummy-service's command topic comes back as a pong on queue-events through a stack started with `streamforge up`", async (t) => {
  const stack = await startTestStack();
  t.after(() => stack.down());
  assert.equal(stack.state.status, 'ready');
  assert.ok(stack.state.functions['dummy-service']?.url, 'dummy-service runs');

  const pinger = await startPinger(testKafka(), stack.prefix, { name: 'diag-ping', source: '/streamforge/test' });
  t.after(() => pinger.close());

  const { queueId, sentAt, pong } = await pinger.ping();
  assert.equal(pong.type, EVENT_TYPES.telemetry);
  const data = pong.data as Record<string, unknown>;
  assert.equal(data.status, 'pong');
  assert.equal(data.queue_id, queueId);
  assert.equal(data.ping_ts, sentAt);
  assert.ok((data.ponged_at as number) >= sentAt);
});

test('`streamforge down` leaves no process of the stack behind', async () => {
  const stack = await startTestStack();
  const state = readStackState(stack.home);
  // The manager scales to zero when idle: a request starts an instance, which stays for the cooldown.
  assert.equal((await fetch(`${state?.api_url}/workflows`)).status, 200);
  const status = await stack.platformStatus();
  const instances = status.functions.flatMap((f) => f.instances.map((i) => i.pid));
  const pids = [state?.pid, state?.dispatcher?.pid, ...instances].filter((p): p is number => p !== undefined);
  assert.ok(pids.length >= 3 && pids.every(isAlive), 'supervisor, dispatcher and the manager run');
  await stack.down();
  assert.deepEqual(pids.filter(isAlive), [], 'every process of the stack has exited');
});

test('a stack started for a process stops by itself once that process is gone (a killed test run leaves nothing behind)', async (t) => {
  const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  // Also when the stack cannot start: the owner must not outlive the test.
  t.after(() => owner.kill('SIGKILL'));
  const stack = await startTestStack({ STREAMFORGE_STOP_WITH_PID: String(owner.pid) });
  const state = readStackState(stack.home);
  const pids = [state?.pid, state?.dispatcher?.pid].filter((p): p is number => p !== undefined);
  assert.ok(pids.length === 2 && pids.every(isAlive), 'supervisor and dispatcher run');
  owner.kill('SIGKILL');
  await waitFor('the stack to stop on its own', () => pids.every((p) => !isAlive(p)), { timeoutMs: 30_000 });
  assert.equal(readStackState(stack.home)?.status, 'stopped');
  rmSync(stack.home, { recursive: true, force: true });
});
