/**
 * A child process the local platform keeps running, as Kubernetes keeps a pod running:
 * output to a log file, readiness by an HTTP probe, a restart with backoff when it dies
 * unexpectedly, SIGTERM then SIGKILL on stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import type { Logger } from '@streamforge/core/telemetry';
import { backoffDelay, sleep } from '@streamforge/core/retry';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  /** URL that answers 200 when the process is ready. */
  readinessUrl?: string;
  readyTimeoutMs?: number;
  /** Restart when it exits while not being stopped. */
  restart?: boolean;
  logger: Logger;
  onExit?(code: number | null, signal: NodeJS.Signals | null): void;
  /** After every launch, the first and each restart: whoever records the pid keeps it current. */
  onSpawn?(pid: number | undefined): void;
}

export interface ManagedProcess {
  readonly name: string;
  pid(): number | undefined;
  restarts(): number;
  /** Starts and resolves when ready (or rejects with the reason and the log file to read). */
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

async function probe(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export function createManagedProcess(options: ManagedProcessOptions): ManagedProcess {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restartCount = 0;
  let exited: Promise<void> = Promise.resolve();

  const launch = (): ChildProcess => {
    const fd = openSync(options.logFile, 'a');
    const proc = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    options.onSpawn?.(proc.pid);
    exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        options.onExit?.(code, signal);
        if (!stopping && options.restart !== false) {
          restartCount++;
          const delay = backoffDelay({ baseMs: 1_000, maxMs: 30_000 }, restartCount);
          options.logger.warn(
            { process: options.name, code, signal, restartInMs: delay, log: options.logFile },
            'process exited; restarting',
          );
          setTimeout(() => {
            if (!stopping) child = launch();
          }, delay).unref();
        }
        resolve();
      });
    });
    return proc;
  };

  const waitReady = async (): Promise<void> => {
    if (!options.readinessUrl) return;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      // Without restarts, an exit is final: say so now rather than at the deadline.
      if (options.restart === false && child?.exitCode !== null && child?.exitCode !== undefined) break;
      if (await probe(options.readinessUrl)) return;
      await sleep(100);
    }
    throw new Error(`${options.name} did not become ready at ${options.readinessUrl}; see ${options.logFile}`);
  };

  const signal = async (sig: NodeJS.Signals, graceMs: number): Promise<void> => {
    stopping = true;
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return {
    name: options.name,
    pid: () => child?.pid,
    restarts: () => restartCount,
    async start() {
      stopping = false;
      child = launch();
      await waitReady();
    },
    stop: (graceMs = 15_000) => signal('SIGTERM', graceMs),
    kill: () => signal('SIGKILL', 0),
  };
}
