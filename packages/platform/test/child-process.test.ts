import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, stopPid, waitUntilReady } from '../src/child-process.ts';

test('a program that cannot start counts as exited: nothing waits for it, and stopping it is a no-op', async () => {
  const child = spawnChild({ command: '/nonexistent/streamforge-test-binary', args: [] });
  const exit = await child.exited;
  assert.deepEqual(exit, { code: null, signal: null });
  assert.equal(child.hasExited(), true);
  assert.deepEqual(await child.stop(100), exit);
  assert.equal(await waitUntilReady(async () => false, { timeoutMs: 60_000, gaveUp: child.hasExited }), 'exited');
});

test('stop sends SIGTERM, and SIGKILL once the grace period is over for a process that ignores it', async (t) => {
  const polite = spawnChild({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
  assert.deepEqual(await polite.stop(30_000), { code: null, signal: 'SIGTERM' });

  const dir = mkdtempSync(join(tmpdir(), 'sf-child-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'stubborn.log');
  const stubborn = spawnChild({
    command: process.execPath,
    args: ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"],
    logFile: log,
  });
  // Only once it ignores SIGTERM does the grace period matter.
  const up = async () => existsSync(log) && readFileSync(log, 'utf8').includes('up');
  assert.equal(await waitUntilReady(up, { timeoutMs: 60_000, gaveUp: stubborn.hasExited }), 'ready');
  assert.deepEqual(await stubborn.stop(200), { code: null, signal: 'SIGKILL' });
});

test('stopping a pid that is already gone returns without throwing', async () => {
  const child = spawnChild({ command: process.execPath, args: ['-e', ''] });
  await child.exited;
  await stopPid(child.pid!, 100);
});
