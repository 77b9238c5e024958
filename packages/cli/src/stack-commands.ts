/**
 * `streamforge up` starts the local stack in the background and returns when it is ready;
 * `streamforge down` stops it and leaves no process behind.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '@streamforge/platform';
import { isAlive, readStackState, stateDir, statePath, type StackState } from '@streamforge/platform';
import { sleep } from '@streamforge/core/retry';

const SUPERVISOR = join(PROJECT_ROOT, 'packages', 'platform', 'src', 'supervisor-main.ts');

function describe(state: StackState): string {
  const lines = [
    `StreamForge is up (supervisor pid ${state.pid})`,
    `  api_url        ${state.api_url ?? '-'}`,
    `  kafka_brokers  ${state.kafka_brokers}${state.broker?.local ? ' (local broker)' : ''}`,
  ];
  if (state.exchange_url) lines.push(`  exchange       ${state.exchange_url}`);
  for (const [name, fn] of Object.entries(state.functions))
    lines.push(`  ${name.padEnd(16)} ${fn.url ?? ''} pid ${fn.pid ?? '-'}`);
  lines.push(`  state          ${statePath(stateDir())}`);
  return lines.join('\n');
}

export async function upCommand(args: string[]): Promise<number> {
  const dir = stateDir();
  const timeoutMs = Number(process.env.STREAMFORGE_UP_TIMEOUT_MS ?? 120_000);
  const existing = readStackState(dir);
  if (existing && isAlive(existing.pid) && existing.status !== 'stopped') {
    if (existing.status === 'ready') {
      console.log(describe(existing));
      return 0;
    }
    console.error(`a stack is already ${existing.status} (pid ${existing.pid}); run \`streamforge down\` first`);
    return 1;
  }
  rmSync(statePath(dir), { force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const log = openSync(join(dir, 'logs', 'supervisor.log'), 'a');
  const env = { ...process.env };
  if (args.includes('--simulator')) env.EXCHANGE = 'simulator';
  const child = spawn(process.execPath, [SUPERVISOR], {
    cwd: PROJECT_ROOT,
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = readStackState(dir);
    if (state?.status === 'ready') {
      console.log(describe(state));
      return 0;
    }
    if (state?.status === 'failed' || !isAlive(child.pid)) {
      console.error(`the stack failed to start: ${state?.error ?? 'supervisor exited'}\nsee ${join(dir, 'logs')}`);
      await downCommand([]);
      return 1;
    }
    if (Date.now() > deadline) {
      console.error(`the stack was not ready after ${timeoutMs} ms; see ${join(dir, 'logs')}`);
      await downCommand([]);
      return 1;
    }
    await sleep(200);
  }
}

export async function downCommand(_args: string[]): Promise<number> {
  const dir = stateDir();
  const state = readStackState(dir);
  if (!state) {
    console.log('no stack is running');
    return 0;
  }
  const pids = [
    state.dispatcher?.pid,
    ...Object.values(state.functions).map((f) => f.pid),
    ...Object.values(state.processes ?? {}).map((p) => p.pid),
    state.broker?.pid,
  ].filter((p): p is number => p !== undefined);
  if (isAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (isAlive(state.pid) && Date.now() < deadline) await sleep(100);
  }
  // Whatever survived a supervisor that could not clean up (killed, crashed) goes now: the
  // supervisor leads a process group (it was started detached) that every instance,
  // the dispatcher and the broker belong to.
  try {
    process.kill(-state.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
  for (const pid of [state.pid, ...pids]) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone in between
      }
    }
  }
  rmSync(statePath(dir), { force: true });
  console.log('StreamForge is down');
  return 0;
}
