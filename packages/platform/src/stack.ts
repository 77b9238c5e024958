/**
 * The whole local stack, what Knative, KafkaSource and Kubernetes do in a cluster, on one
 * machine: a Kafka broker (or the cluster in KAFKA_BROKERS), the topic plan, every function
 * in functions/ served by the function runtime, and the KafkaSource dispatcher wired by the
 * manifests in kafka-sources/. The queue-manager's API listens on STREAMFORGE_PORT.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTopics } from '@streamforge/core/bus';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import type { Logger } from '@streamforge/core/telemetry';
import { freePort } from './free-port.ts';
import { Gauge, Histogram, createRegistry } from '@streamforge/core/telemetry';
import { startActivator, type Activator } from './activator.ts';
import { createAutoscaler, type Autoscaler } from './autoscaler.ts';
import { createFunctionPool, type FunctionPool } from './function-pool.ts';
import { discoverFunctions, resolveRunEnvs } from './functions.ts';
import { startJobEventSources } from './job-event-sources.ts';
import { startPingSources, type PingSource } from './ping-source.ts';
import { LOCAL_INTEGRATIONS_URL, localBundle } from './local-bundles.ts';
import { loadKafkaSources, loadPingSources } from './manifests.ts';
import { startPlatformServer, type PlatformServer } from './platform-server.ts';
import { PROJECT_ROOT, startLocalBroker, type LocalBroker } from './kafka-broker.ts';
import { LOCAL_S3_CREDENTIALS } from './local-s3.ts';
import { createManagedProcess, type ManagedProcess } from './managed-process.ts';
import { writeStackState, type StackState } from './stack-state.ts';

export interface StackOptions {
  root?: string;
  stateDir: string;
  /** Port of the manager's API (STREAMFORGE_PORT, 8080 by default; 0 for any free one). */
  apiPort: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export interface RunningStack {
  state: StackState;
  stop(): Promise<void>;
}

const RUNTIME_MAIN = join(PROJECT_ROOT, 'packages', 'core', 'src', 'runtime', 'main.ts');
const DISPATCHER_MAIN = join(PROJECT_ROOT, 'packages', 'platform', 'src', 'dispatcher-main.ts');
const SIMULATOR_MAIN = join(PROJECT_ROOT, 'packages', 'simulator', 'src', 'main.ts');
const S3_SERVER_MAIN = join(PROJECT_ROOT, 'packages', 'platform', 'src', 's3-server-main.ts');
const MANAGER = 'queue-manager';

export async function runStack(options: StackOptions): Promise<RunningStack> {
  const root = options.root ?? PROJECT_ROOT;
  const { logger, stateDir } = options;
  const logs = join(stateDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const state: StackState = {
    status: 'starting',
    pid: process.pid,
    started_at: new Date().toISOString(),
    functions: {},
  };
  const save = () => writeStackState(stateDir, state);
  save();
  // A restarted process has a new pid: `down` must stop it, never a stranger who got the old one.
  const recordPid =
    (name: string, url: string) =>
    (pid: number | undefined): void => {
      state.processes = { ...state.processes, [name]: { pid, url } };
      if (state.status === 'ready') save();
    };

  let broker: LocalBroker | undefined;
  const processes: ManagedProcess[] = [];
  const registry = createRegistry({ service: 'streamforge-platform' });
  const coldStarts = new Histogram({
    name: 'streamforge_platform_cold_start_seconds',
    help: 'Time from starting a function instance to its first ready answer.',
    labelNames: ['function'],
    buckets: [0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
    registers: [registry],
  });
  const pools = new Map<string, FunctionPool>();
  const activators = new Map<string, Activator>();
  new Gauge({
    name: 'streamforge_platform_instances',
    help: 'Function instances by state (starting, ready, draining).',
    labelNames: ['function', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools.values())
        for (const i of pool.instances()) this.inc({ function: pool.name, state: i.state });
    },
  });
  let autoscaler: Autoscaler | undefined;
  let platform: PlatformServer | undefined;
  let jobEvents: Awaited<ReturnType<typeof startJobEventSources>> | undefined;
  let pings: PingSource | undefined;
  const stopAll = async () => {
    // The autoscaler first, then the event sources stop delivering, then the functions, the broker last.
    await autoscaler?.stop();
    await jobEvents?.close().catch(() => undefined);
    await pings?.close().catch(() => undefined);
    for (const p of [...processes].reverse()) await p.stop().catch(() => undefined);
    await Promise.all([...pools.values()].map((pool) => pool.stopAll().catch(() => undefined)));
    await Promise.all([...activators.values()].map((a) => a.close().catch(() => undefined)));
    await platform?.close();
    await broker?.stop().catch(() => undefined);
  };

  try {
    const prefix = options.env.KAFKA_TOPIC_PREFIX ?? '';
    let brokers = options.env.KAFKA_BROKERS;
    if (!brokers) {
      broker = await startLocalBroker({ dataDir: join(stateDir, 'kafka') });
      brokers = broker.brokers;
      state.broker = { pid: broker.pid, local: true };
    } else {
      state.broker = { pid: undefined, local: false };
    }
    state.kafka_brokers = brokers;
    state.topic_prefix = prefix;
    const connection = createBusConnection({ brokers: brokers.split(','), clientId: 'streamforge-platform', logger });
    await waitForKafka(connection);
    const created = await ensureTopics(connection, { prefix });
    logger.info({ brokers, created }, 'Kafka ready');
    save();

    // What ConfigMap and Secret references in func.yaml resolve to on this machine.
    const local: Record<string, string> = {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      // The embedded store: one SQLite file every local function opens (WAL allows that).
      STORE_URL: options.env.STORE_URL || `sqlite:${join(stateDir, 'store.sqlite')}`,
      // loader-ws Jobs run as processes here (local-integrations.ts registers that launcher).
      JOB_LAUNCHER: options.env.JOB_LAUNCHER || 'local',
    };
    state.store_url = local.STORE_URL;

    // Object storage (trained models): an S3 server over the state folder, unless S3_ENDPOINT names one.
    if (options.env.S3_ENDPOINT) {
      local.S3_ENDPOINT = options.env.S3_ENDPOINT;
    } else {
      const url = `http://127.0.0.1:${await freePort()}`;
      const s3 = createManagedProcess({
        name: 's3-server',
        command: process.execPath,
        args: [S3_SERVER_MAIN, '--directory', join(stateDir, 's3'), '--port', new URL(url).port],
        cwd: root,
        env: options.env,
        logFile: join(logs, 's3-server.log'),
        readinessUrl: `${url}/`,
        logger,
        onSpawn: recordPid('s3-server', url),
      });
      processes.push(s3);
      await s3.start();
      Object.assign(local, {
        S3_ENDPOINT: url,
        S3_ACCESS_KEY: LOCAL_S3_CREDENTIALS.accessKey,
        S3_SECRET_KEY: LOCAL_S3_CREDENTIALS.secretKey,
      });
    }
    state.s3_endpoint = local.S3_ENDPOINT;

    if (options.env.EXCHANGE === 'simulator') {
      // The stand-in for Binance: loaders are pointed at it instead of the real exchange.
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const simulator = createManagedProcess({
        name: 'exchange-simulator',
        command: process.execPath,
        args: [SIMULATOR_MAIN, '--port', String(port)],
        cwd: root,
        env: options.env,
        logFile: join(logs, 'exchange-simulator.log'),
        readinessUrl: `${url}/api/v3/ping`,
        logger,
        onSpawn: recordPid('exchange-simulator', url),
      });
      processes.push(simulator);
      await simulator.start();
      local.BINANCE_SPOT_URL = url;
      local.BINANCE_USDM_URL = url;
      local.BINANCE_COINM_URL = url;
      // It serves the archive site too, from the same market data (archive-site.ts).
      local.ARCHIVE_BASE_URL = url;
      // A changed simulator budget (lifted for benchmarks) is the budget the loaders plan with.
      if (options.env.SIM_WEIGHT_LIMIT) local.BINANCE_REQUEST_WEIGHT_LIMIT = options.env.SIM_WEIGHT_LIMIT;
      // Its WebSocket side shares the port: spot streams at the root, USD-M under /fstream (ws-server.ts).
      local.BINANCE_SPOT_WS_URL = url.replace(/^http/, 'ws');
      local.BINANCE_USDM_WS_URL = `${url.replace(/^http/, 'ws')}/fstream`;
      state.exchange_url = url;
      logger.info({ url }, 'exchange simulator ready');
    }
    // Functions scale like Knative services: an activator at a stable address per function
    // (the manager's on STREAMFORGE_PORT), instances started on demand and by lag.
    platform = await startPlatformServer({
      registry,
      pools: () => pools,
      activatorUrls: () => new Map([...activators].map(([name, a]) => [name, a.url])),
      autoscaler: () => autoscaler,
      ready: () => state.status === 'ready',
    });
    local.STREAMFORGE_PLATFORM_URL = platform.url;
    state.platform_url = platform.url;
    const cap = options.env.STREAMFORGE_MAX_SCALE ? Number(options.env.STREAMFORGE_MAX_SCALE) : 0;
    const functions = discoverFunctions(join(root, 'functions'));
    // One bundled file per function, as its image runs it: cold starts load one module, not hundreds.
    const bundles = options.env.STREAMFORGE_RUN_SOURCES
      ? new Map<string, string | undefined>()
      : new Map(
          await Promise.all(
            functions.map(async (fn) => [fn.name, await localBundle(fn.name, fn.entry, logger)] as const),
          ),
        );
    for (const fn of functions) {
      const bundle = bundles.get(fn.name);
      const pool = createFunctionPool({
        name: fn.name,
        min: fn.scale.min,
        max: cap > 0 ? Math.min(cap, fn.scale.max > 0 ? fn.scale.max : cap) : fn.scale.max,
        concurrency: fn.concurrency,
        target: fn.scale.target,
        command: process.execPath,
        args: bundle ? [bundle] : ['--import', LOCAL_INTEGRATIONS_URL, RUNTIME_MAIN, fn.entry, '--name', fn.name],
        cwd: root,
        // Node's on-disk compile cache: every instance after the first compiles nothing again (faster cold starts).
        env: {
          ...options.env,
          ...resolveRunEnvs(fn.funcYaml, local, options.env),
          ...local,
          NODE_COMPILE_CACHE: join(stateDir, 'compile-cache'),
        },
        logsDir: logs,
        logger,
        onColdStart: (instance) => coldStarts.observe({ function: fn.name }, (instance.coldStartMs ?? 0) / 1000),
        onScaleFromZero: () => autoscaler?.note(fn.name, 0, 1, 'a request arrived while at zero (scale from zero)'),
      });
      pools.set(fn.name, pool);
      const activator = await startActivator(pool, {
        ...(fn.name === MANAGER ? { port: options.apiPort } : {}),
        logger,
      });
      activators.set(fn.name, activator);
      state.functions[fn.name] = { pid: undefined, url: activator.url };
    }
    // Only what func.yaml keeps warm starts now (min-scale); the rest waits for work.
    await Promise.all([...pools.values()].map((pool) => pool.scaleTo(pool.min)));
    const started = [...activators].map(([name, activator]) => ({ fn: { name }, url: activator.url }));

    const dispatcherPort = await freePort();
    const dispatcher = createManagedProcess({
      name: 'kafka-source-dispatcher',
      command: process.execPath,
      args: [
        DISPATCHER_MAIN,
        '--sources',
        join(root, 'kafka-sources'),
        '--port',
        String(dispatcherPort),
        ...started.flatMap((s) => ['--sink', `${s.fn.name}=${s.url}`]),
      ],
      cwd: root,
      env: { ...options.env, ...local },
      logFile: join(logs, 'kafka-source-dispatcher.log'),
      readinessUrl: `http://127.0.0.1:${dispatcherPort}/health/readiness`,
      readyTimeoutMs: 60_000,
      logger,
      onSpawn: (pid) => {
        state.dispatcher = { pid, url: `http://127.0.0.1:${dispatcherPort}` };
        if (state.status === 'ready') save();
      },
    });
    processes.push(dispatcher);
    await dispatcher.start();
    autoscaler = createAutoscaler({
      connection,
      sources: loadKafkaSources(join(root, 'kafka-sources')),
      pools,
      prefix,
      logger,
      registry,
      ...(options.env.STREAMFORGE_POLLING_INTERVAL_MS
        ? { pollingIntervalMs: Number(options.env.STREAMFORGE_POLLING_INTERVAL_MS) }
        : {}),
      ...(options.env.STREAMFORGE_COOLDOWN_SECONDS
        ? { cooldownMs: Number(options.env.STREAMFORGE_COOLDOWN_SECONDS) * 1000 }
        : {}),
    });
    await autoscaler.start();
    // The ApiServerSource of knative/job-events.yaml: the loader-ws Jobs' changes to the manager.
    jobEvents = await startJobEventSources({
      root,
      stateDir,
      env: { ...options.env, ...local },
      sinkUrl: (name) => activators.get(name)?.url,
      source: platform.url,
      logger,
    });
    // The PingSources of knative/ (deadline-ping.yaml: the manager woken to end overdue workflows).
    const holdFile = options.env.STREAMFORGE_PING_HOLD_FILE;
    pings = startPingSources({
      specs: loadPingSources(join(root, 'knative')),
      sinkUrl: (name) => activators.get(name)?.url,
      logger,
      ...(options.env.STREAMFORGE_PING_PERIOD_MS ? { periodMs: Number(options.env.STREAMFORGE_PING_PERIOD_MS) } : {}),
      ...(holdFile ? { held: () => existsSync(holdFile) } : {}),
    });
    const manager = state.functions[MANAGER];
    if (manager?.url) state.api_url = manager.url;
    state.status = 'ready';
    save();
    logger.info({ api_url: state.api_url, functions: Object.keys(state.functions) }, 'stack ready');
  } catch (error) {
    state.status = 'failed';
    state.error = (error as Error).message;
    save();
    await stopAll();
    throw error;
  }

  return {
    state,
    async stop() {
      state.status = 'stopping';
      save();
      await stopAll();
      state.status = 'stopped';
      save();
    },
  };
}
