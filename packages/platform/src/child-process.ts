/**
 * The life of a child process the platform or a test starts, in one place: spawn (output
 * appended to a log file), wait until a probe says it is ready, stop with SIGTERM and
 * SIGKILL after a grace period, as Kubernetes stops a pod. What to do when it exits
 * (restart, retry a Job, forget an instance) stays with the caller.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { type Backoff, backoffDelay, sleep } from '@streamforge/core/retry';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves once the process has exited, after onExit ran. */
  readonly exited: Promise<Exit>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit (at once when already gone). */
  stop(graceMs: number): Promise<Exit>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<Exit>;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Appends stdout and stderr to this file (a path, or an open descriptor the caller closes). */
  logFile?: string | number;
  /** Called in the exit event itself, before `exited` resolves. */
  onExit?(exit: Exit): void;
}

/** Sends `signal`, then SIGKILL after `graceMs` unless `done` settled first. */
async function signalThenKill<T>(
  send: (signal: NodeJS.Signals) => void,
  done: Promise<T>,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<T> {
  send(signal);
  const timer = setTimeout(() => send('SIGKILL'), graceMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** Follows a process already spawned (for callers that need pipes rather than a log file). */
export function childOf(proc: ChildProcess, onExit?: (exit: Exit) => void): Child {
  let failedToStart = false;
  const exited = new Promise<Exit>((resolve) => {
    let done = false;
    const end = (exit: Exit): void => {
      if (done) return;
      done = true;
      onExit?.(exit);
      resolve(exit);
    };
    proc.once('exit', (code, signal) => end({ code, signal }));
    // A process that could not start (ENOENT, EAGAIN) emits `error` and never `exit`: it ended all the same.
    proc.on('error', () => {
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) return;
      failedToStart = true;
      end({ code: null, signal: null });
    });
  });
  const hasExited = () => failedToStart || proc.exitCode !== null || proc.signalCode !== null;
  const stopWith = async (signal: NodeJS.Signals, graceMs: number): Promise<Exit> => {
    if (hasExited()) return await exited;
    return await signalThenKill((s) => proc.kill(s), exited, signal, graceMs);
  };
  return {
    process: proc,
    pid: proc.pid,
    exited,
    hasExited,
    stop: (graceMs) => stopWith('SIGTERM', graceMs),
    kill: () => stopWith('SIGKILL', 0),
  };
}

/** Spawns `command` with no stdin and its output appended to `logFile` (ignored without one). */
export function spawnChild(options: SpawnOptions): Child {
  const fd = typeof options.logFile === 'string' ? openSync(options.logFile, 'a') : options.logFile;
  try {
    const output = fd ?? 'ignore';
    const proc = spawn(options.command, options.args, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      stdio: ['ignore', output, output],
    });
    return childOf(proc, options.onExit);
  } finally {
    // The child holds its own copy of the descriptor.
    if (typeof options.logFile === 'string' && fd !== undefined) closeSync(fd);
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a process known only by its pid (one another process started, so no exit event):
 * SIGTERM, SIGKILL after `graceMs`, and waits until it is gone, by `exited` when given.
 */
export async function stopPid(pid: number, graceMs: number, exited?: Promise<unknown>): Promise<void> {
  const gone = async (): Promise<void> => {
    if (exited) await exited;
    else while (isAlive(pid)) await sleep(50);
  };
  await signalThenKill(
    (signal) => {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone between the check and the signal (ESRCH): nothing left to stop.
      }
    },
    gone(),
    'SIGTERM',
    graceMs,
  );
}

export interface ReadyOptions {
  timeoutMs: number;
  /** The waits between probes; a fixed 100 ms by default. */
  poll?: Backoff;
  /** True once waiting is pointless (the process exited). */
  gaveUp?(): boolean;
}

/** Probes until ready, and says why it stopped probing otherwise. */
export async function waitUntilReady(
  probe: () => Promise<boolean>,
  options: ReadyOptions,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + options.timeoutMs;
  const poll = options.poll ?? { baseMs: 100, maxMs: 100, jitter: 0 };
  for (let attempt = 1; ; attempt++) {
    if (await probe()) return 'ready';
    if (options.gaveUp?.()) return 'exited';
    if (Date.now() > deadline) return 'timeout';
    await sleep(backoffDelay(poll, attempt));
  }
}

/** A probe that is true when `url` answers 200 within a second. */
export function httpProbe(url: string): () => Promise<boolean> {
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  };
}
