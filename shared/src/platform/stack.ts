/**
 * The whole local stack, what Knative, KafkaSource and Kubernetes do in a cluster, on one
 * machine: a Kafka broker (or the cluster in KAFKA_BROKERS), the topic plan, every function
 * in functions/ served by the function runtime, and the KafkaSource dispatcher wired by the
 * manifests in kafka-sources/. The queue-manager's API listens on STREAMFORGE_PORT.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTopics } from '../bus/admin.ts';
import { createKafka, waitForKafka } from '../bus/kafka.ts';
import type { Logger } from '../telemetry/logger.ts';
import { freePort } from './free-port.ts';
import { discoverFunctions, resolveRunEnvs, type LocalFunction } from './functions.ts';
import { PROJECT_ROOT, startLocalBroker, type LocalBroker } from './kafka-broker.ts';
import { createManagedProcess, type ManagedProcess } from './managed-process.ts';
import { writeStackState, type StackState } from './stack-state.ts';

export interface StackOptions {
  root?: string;
  stateDir: string;
  /** Port of the manager's API (STREAMFORGE_PORT, 8080 by default). */
  apiPort: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export interface RunningStack {
  state: StackState;
  stop(): Promise<void>;
}

const RUNTIME_MAIN = join(PROJECT_ROOT, 'shared', 'src', 'runtime', 'main.ts');
const DISPATCHER_MAIN = join(PROJECT_ROOT, 'shared', 'src', 'platform', 'dispatcher-main.ts');
const SIMULATOR_MAIN = join(PROJECT_ROOT, 'shared', 'src', 'exchange', 'simulator', 'main.ts');
const MANAGER = 'queue-manager';

export async function runStack(options: StackOptions): Promise<RunningStack> {
  const root = options.root ?? PROJECT_ROOT;
  const { logger, stateDir } = options;
  const logs = join(stateDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const state: StackState = { status: 'starting', pid: process.pid, started_at: new Date().toISOString(), functions: {} };
  const save = () => writeStackState(stateDir, state);
  save();

  let broker: LocalBroker | undefined;
  const processes: ManagedProcess[] = [];
  const stopAll = async () => {
    // Reverse order: the dispatcher stops delivering before the functions go, the broker last.
    for (const p of [...processes].reverse()) await p.stop().catch(() => undefined);
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
    const kafka = createKafka({ brokers: brokers.split(','), clientId: 'streamforge-platform', logger });
    await waitForKafka(kafka);
    const created = await ensureTopics(kafka, { prefix });
    logger.info({ brokers, created }, 'Kafka ready');
    save();

    // What ConfigMap and Secret references in func.yaml resolve to on this machine.
    const local: Record<string, string> = {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      // The embedded store: one SQLite file every local function opens (WAL allows that).
      STORE_URL: options.env.STORE_URL || `sqlite:${join(stateDir, 'store.sqlite')}`,
    };
    state.store_url = local.STORE_URL;

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
      });
      processes.push(simulator);
      await simulator.start();
      local.BINANCE_SPOT_URL = url;
      local.BINANCE_USDM_URL = url;
      state.exchange_url = url;
      state.processes = { ...state.processes, 'exchange-simulator': { pid: simulator.pid(), url } };
      logger.info({ url }, 'exchange simulator ready');
    }
    const functions = discoverFunctions(join(root, 'functions'));
    const started = await Promise.all(functions.map(async (fn) => startFunction(fn, fn.name === MANAGER ? options.apiPort : await freePort())));

    async function startFunction(fn: LocalFunction, port: number): Promise<{ fn: LocalFunction; url: string; proc: ManagedProcess }> {
      const url = `http://127.0.0.1:${port}`;
      const proc = createManagedProcess({
        name: fn.name,
        command: process.execPath,
        args: [RUNTIME_MAIN, fn.entry, '--name', fn.name],
        cwd: root,
        env: {
          ...options.env,
          ...resolveRunEnvs(fn.funcYaml, local, options.env),
          ...local,
          FUNC_PORT: String(port),
          FUNC_HOST: '127.0.0.1',
          K_SERVICE: fn.name,
          POD_NAME: `${fn.name}-local`,
        },
        logFile: join(logs, `${fn.name}.log`),
        readinessUrl: `${url}/health/readiness`,
        logger,
      });
      processes.push(proc);
      await proc.start();
      state.functions[fn.name] = { pid: proc.pid(), url };
      return { fn, url, proc };
    }

    const dispatcherPort = await freePort();
    const dispatcher = createManagedProcess({
      name: 'kafka-source-dispatcher',
      command: process.execPath,
      args: [DISPATCHER_MAIN, '--sources', join(root, 'kafka-sources'), '--port', String(dispatcherPort), ...started.flatMap((s) => ['--sink', `${s.fn.name}=${s.url}`])],
      cwd: root,
      env: { ...options.env, ...local },
      logFile: join(logs, 'kafka-source-dispatcher.log'),
      readinessUrl: `http://127.0.0.1:${dispatcherPort}/health/readiness`,
      readyTimeoutMs: 60_000,
      logger,
    });
    processes.push(dispatcher);
    await dispatcher.start();
    state.dispatcher = { pid: dispatcher.pid(), url: `http://127.0.0.1:${dispatcherPort}` };
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
