/**
 * A child process the local platform keeps running, as Kubernetes keeps a pod running:
 * output to a log file, readiness by an HTTP probe, a restart with backoff when it dies
 * unexpectedly, SIGTERM then SIGKILL on stop.
 */
import type { Logger } from '@streamforge/core/telemetry';
import { backoffDelay } from '@streamforge/core/retry';
import { type Child, httpProbe, spawnChild, waitUntilReady } from './child-process.ts';

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

export function createManagedProcess(options: ManagedProcessOptions): ManagedProcess {
  let child: Child | undefined;
  let stopping = false;
  let restartCount = 0;

  const launch = (): Child => {
    const proc = spawnChild({
      command: options.command,
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      logFile: options.logFile,
      onExit: ({ code, signal }) => {
        options.onExit?.(code, signal);
        if (stopping || options.restart === false) return;
        restartCount++;
        const delay = backoffDelay({ baseMs: 1_000, maxMs: 30_000 }, restartCount);
        options.logger.warn(
          { process: options.name, code, signal, restartInMs: delay, log: options.logFile },
          'process exited; restarting',
        );
        setTimeout(() => {
          if (!stopping) child = launch();
        }, delay).unref();
      },
    });
    options.onSpawn?.(proc.pid);
    return proc;
  };

  const waitReady = async (): Promise<void> => {
    if (!options.readinessUrl) return;
    const ready = await waitUntilReady(httpProbe(options.readinessUrl), {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      // Without restarts, an exit is final: say so now rather than at the deadline.
      gaveUp: () => options.restart === false && child?.hasExited() === true,
    });
    if (ready !== 'ready')
      throw new Error(`${options.name} did not become ready at ${options.readinessUrl}; see ${options.logFile}`);
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
    async stop(graceMs = 15_000) {
      stopping = true;
      await child?.stop(graceMs);
    },
    async kill() {
      stopping = true;
      await child?.kill();
    },
  };
}
