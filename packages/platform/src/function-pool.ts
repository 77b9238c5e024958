/**
 * The instances of one function on the local platform, as Knative keeps a revision's pods:
 * none until work arrives (scale from zero, started by the first request that needs one),
 * more when the autoscaler asks, back to the minimum when it says so. An instance that
 * dies leaves the pool; the next request that needs one starts another.
 */
import { join } from 'node:path';
import type { Logger } from '@streamforge/core/telemetry';
import { type Child, httpProbe, spawnChild, waitUntilReady } from './child-process.ts';
import { freePort } from './free-port.ts';

export type InstanceState = 'starting' | 'ready' | 'draining';

export interface Instance {
  id: string;
  name: string;
  url: string;
  pid: number | undefined;
  state: InstanceState;
  startedAt: number;
  /** Milliseconds from spawn to the first 200 of /health/readiness. */
  coldStartMs?: number;
  inFlight: number;
}

export interface FunctionPoolOptions {
  name: string;
  min: number;
  /** 0 means unbounded, as Knative's max-scale. */
  max: number;
  /** Requests one instance takes at once (containerConcurrency); 0 is unlimited. */
  concurrency?: number;
  /** Concurrent requests per instance the autoscaler aims at (func.yaml scale.target). */
  target?: number;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logsDir: string;
  logger: Logger;
  readyTimeoutMs?: number;
  onColdStart?(instance: Instance): void;
  /** A request found no instance and started one (Knative's activator path). */
  onScaleFromZero?(): void;
  onExit?(instance: Instance, code: number | null, signal: NodeJS.Signals | null): void;
}

export interface FunctionPool {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly concurrency: number;
  readonly target: number;
  instances(): Instance[];
  /** Requests in flight plus those waiting for room: what Knative's KPA scales on. */
  demand(): number;
  /** Resolves when some instance has room for one more request (a request finished, or one started). */
  room(): Promise<void>;
  /** Instances that take requests, in a stable order (oldest first). */
  routable(): Instance[];
  /** A routable instance, starting the first one when there is none (scale from zero). */
  ensureOne(): Promise<void>;
  /** Starts or drains instances until `n` are up (within min and max). */
  scaleTo(n: number): Promise<void>;
  /** Milliseconds since the last request ended, or 0 while one is in flight. */
  idleMs(now?: number): number;
  track<T>(instance: Instance, work: () => Promise<T>): Promise<T>;
  /** Forgets an instance that stopped answering (its process is killed if still there). */
  evict(instance: Instance): void;
  stopAll(): Promise<void>;
}

interface Running {
  instance: Instance;
  child: Child;
}

export function createFunctionPool(options: FunctionPoolOptions): FunctionPool {
  const running = new Map<string, Running>();
  const cap = (n: number) => Math.max(options.min, options.max > 0 ? Math.min(options.max, n) : n);
  let sequence = 0;
  // Never used yet: idle forever, so nothing keeps an instance up before the first request.
  let lastActivity = Number.NEGATIVE_INFINITY;
  const starting = new Set<Promise<Instance>>();
  let stopping = false;
  let waiters: Array<() => void> = [];
  // Requests held while an instance starts for them: demand too, or a short cooldown would
  // drain the instance they wait for (Knative's activator reports them to the KPA likewise).
  let holding = 0;
  const wake = () => {
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  };

  /** Starts an instance and keeps its promise visible, so a request at zero can wait for it. */
  function launch(): Promise<Instance> {
    const start = startInstance();
    starting.add(start);
    void start.then(
      () => starting.delete(start),
      () => starting.delete(start),
    );
    return start;
  }

  async function startInstance(): Promise<Instance> {
    const port = await freePort();
    const id = `${options.name}-${++sequence}`;
    const url = `http://127.0.0.1:${port}`;
    const logFile = join(options.logsDir, `${options.name}.log`);
    const started = performance.now();
    const instance: Instance = {
      id,
      name: options.name,
      url,
      pid: undefined,
      state: 'starting',
      startedAt: Date.now(),
      inFlight: 0,
    };
    const child = spawnChild({
      command: options.command,
      args: options.args,
      cwd: options.cwd,
      env: { ...options.env, FUNC_PORT: String(port), FUNC_HOST: '127.0.0.1', K_SERVICE: options.name, POD_NAME: id },
      logFile,
      onExit: ({ code, signal }) => {
        running.delete(id);
        if (!stopping && instance.state !== 'draining')
          options.logger.warn({ function: options.name, instance: id, code, signal }, 'instance exited');
        options.onExit?.(instance, code, signal);
      },
    });
    instance.pid = child.pid;
    running.set(id, { instance, child });
    const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    // Polled every 5 ms: the cold start it measures is a few hundred.
    const ready = await waitUntilReady(httpProbe(`${url}/health/readiness`), {
      timeoutMs: readyTimeoutMs,
      poll: { baseMs: 5, maxMs: 5, jitter: 0 },
      gaveUp: child.hasExited,
    });
    if (ready === 'exited') throw new Error(`${id} exited during start; see ${logFile}`);
    if (ready === 'timeout') {
      void child.kill();
      throw new Error(`${id} was not ready after ${readyTimeoutMs} ms; see ${logFile}`);
    }
    instance.state = 'ready';
    wake();
    instance.coldStartMs = performance.now() - started;
    options.onColdStart?.(instance);
    options.logger.info(
      { function: options.name, instance: id, coldStartMs: Math.round(instance.coldStartMs) },
      'instance ready',
    );
    return instance;
  }

  async function drain(entry: Running): Promise<void> {
    entry.instance.state = 'draining';
    // SIGTERM: the runtime stops taking requests and lets those in flight finish.
    await entry.child.stop(30_000);
  }

  const live = () => [...running.values()].filter((r) => r.instance.state !== 'draining');

  /** Requests that find no instance share the cold starts under way, or begin one. */
  async function startOne(): Promise<void> {
    while (!live().some((r) => r.instance.state === 'ready')) {
      if (stopping) throw new Error(`${options.name} is stopping`);
      if (starting.size === 0) {
        launch();
        options.onScaleFromZero?.();
      }
      await Promise.any([...starting]).catch(() => undefined);
      if (starting.size === 0 && !live().some((r) => r.instance.state === 'ready')) {
        throw new Error(
          `${options.name} could not start an instance; see ${join(options.logsDir, `${options.name}.log`)}`,
        );
      }
    }
  }

  return {
    name: options.name,
    min: options.min,
    max: options.max,
    concurrency: options.concurrency ?? 0,
    instances: () => [...running.values()].map((r) => r.instance),
    target: options.target ?? 100,
    demand: () => [...running.values()].reduce((sum, r) => sum + r.instance.inFlight, 0) + waiters.length + holding,
    room: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
      }),
    routable: () =>
      [...running.values()]
        .map((r) => r.instance)
        .filter((i) => i.state === 'ready')
        .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id)),

    async ensureOne() {
      holding++;
      try {
        await startOne();
      } finally {
        holding--;
      }
    },

    async scaleTo(n) {
      const target = cap(n);
      const current = live();
      if (target > current.length) {
        await Promise.all(Array.from({ length: target - current.length }, () => launch()));
      } else if (target < current.length) {
        // The newest go first: the oldest keep their partitions, so fewer move.
        const newestFirst = current.sort((a, b) => b.instance.startedAt - a.instance.startedAt);
        await Promise.all(newestFirst.slice(0, current.length - target).map(drain));
      }
    },

    idleMs(now = Date.now()) {
      if ([...running.values()].some((r) => r.instance.inFlight > 0)) return 0;
      return now - lastActivity;
    },

    async track(instance, work) {
      instance.inFlight++;
      try {
        return await work();
      } finally {
        instance.inFlight--;
        lastActivity = Date.now();
        wake();
      }
    },

    evict(instance) {
      const entry = running.get(instance.id);
      if (!entry) return;
      entry.instance.state = 'draining';
      void entry.child.kill();
    },

    async stopAll() {
      stopping = true;
      await Promise.all([...running.values()].map(drain));
    },
  };
}
