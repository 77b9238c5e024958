/**
 * A real Apache Kafka broker (KRaft, one node acting as broker and controller), run from the
 * jars that scripts/setup-kafka.sh fetched from Maven Central. Used by `streamforge up` and by
 * the test run; a restart on the same data folder keeps its ports, topics and offsets.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild, waitUntilReady } from './child-process.ts';
import { freePort, portOpen } from './free-port.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const DEFAULT_KAFKA_LIBS = join(PROJECT_ROOT, '.cache', 'kafka', 'libs');

export interface LocalBrokerOptions {
  /** Folder for logs, metadata and the broker's own log file; created when missing. */
  dataDir: string;
  libsDir?: string;
  /** Client port; a free one when unset (or the one a previous run on this folder used). */
  port?: number;
  /** The port the broker tells clients to use, when a proxy stands in front of it (fault tests). */
  advertisedPort?: number;
  heapMb?: number;
  /** How long to wait for the broker to accept clients. */
  readyTimeoutMs?: number;
}

export interface LocalBroker {
  /** `host:port` for clients. */
  brokers: string;
  pid: number;
  dataDir: string;
  /** Stops the broker (SIGTERM, then SIGKILL after the grace period) and waits for its exit. */
  stop(graceMs?: number): Promise<void>;
  /** Kills the broker at once, as a crash would. */
  kill(): Promise<void>;
}

interface BrokerState {
  port: number;
  controllerPort: number;
  clusterId: string;
}

/** The local broker's message.max.bytes (Kafka's default is 1 MB): the largest record batch it takes. */
export const LOCAL_BROKER_MAX_MESSAGE_BYTES = 2_097_152;

function serverProperties(dataDir: string, state: BrokerState, advertisedPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${state.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${state.port},CONTROLLER://127.0.0.1:${state.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(dataDir, 'logs')}`,
    // One node: internal topics cannot have more replicas, and fewer partitions start faster.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Topics come from the topic plan; a typo must fail instead of creating a stray topic.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    `message.max.bytes=${LOCAL_BROKER_MAX_MESSAGE_BYTES}`,
    '',
  ].join('\n');
}

const LOG4J = (logFile: string): string =>
  [
    'status = error',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = warn',
    'rootLogger.appenderRef.file.ref = file',
    'logger.started.name = kafka.server.KafkaRaftServer',
    'logger.started.level = info',
    '',
  ].join('\n');

async function runJava(args: string[], logFd: number): Promise<void> {
  const child = spawnChild({ command: 'java', args, logFile: logFd });
  // No java on the PATH is an error event, never an exit.
  const failed = new Promise<never>((_, reject) => child.process.once('error', reject));
  const { code } = await Promise.race([child.exited, failed]);
  if (code !== 0) throw new Error(`java ${args.at(-1)} exited with ${code}`);
}

/** A Kafka cluster id (16 random bytes, base64url); never starting with `-`, which the format tool would take for an option. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

export async function startLocalBroker(options: LocalBrokerOptions): Promise<LocalBroker> {
  const dataDir = resolve(options.dataDir);
  const libsDir = options.libsDir ?? DEFAULT_KAFKA_LIBS;
  if (!existsSync(libsDir)) {
    throw new Error(`Kafka jars not found in ${libsDir}: run \`make setup\` (scripts/setup-kafka.sh) first`);
  }
  mkdirSync(dataDir, { recursive: true });
  const statePath = join(dataDir, 'broker.json');
  const previous: BrokerState | undefined = existsSync(statePath)
    ? JSON.parse(readFileSync(statePath, 'utf8'))
    : undefined;
  const state: BrokerState = previous ?? {
    port: options.port ?? (await freePort()),
    controllerPort: await freePort(),
    clusterId: newClusterId(),
  };
  const propsPath = join(dataDir, 'server.properties');
  const log4jPath = join(dataDir, 'log4j2.properties');
  writeFileSync(propsPath, serverProperties(dataDir, state, options.advertisedPort ?? state.port));
  writeFileSync(log4jPath, LOG4J(join(dataDir, 'server.log')));
  writeFileSync(statePath, JSON.stringify(state));

  const classpath = `${libsDir}/*`;
  const logFd = openSync(join(dataDir, 'stdout.log'), 'a');
  const jvm = [
    `-Xms${Math.min(256, options.heapMb ?? 768)}m`,
    `-Xmx${options.heapMb ?? 768}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    // C1 only: a local broker lives minutes to hours, and C2's compiler threads took about half
    // of its CPU on 2 cores (bench/backfill.ts: 22 → 12 s per run), more than C2's code saved.
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jPath}`,
    '-cp',
    classpath,
  ];
  let child: Child;
  try {
    if (!existsSync(join(dataDir, 'logs', 'meta.properties'))) {
      await runJava(
        [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${state.clusterId}`, '-c', propsPath],
        logFd,
      );
    }
    child = spawnChild({ command: 'java', args: [...jvm, 'kafka.Kafka', propsPath], logFile: logFd });
  } finally {
    closeSync(logFd); // the children hold their own copies
  }

  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const ready = await waitUntilReady(() => portOpen('127.0.0.1', state.port), {
    timeoutMs: readyTimeoutMs,
    gaveUp: child.hasExited,
  });
  if (ready === 'exited') {
    const { code } = await child.exited;
    throw new Error(`Kafka broker exited with ${code} during start; see ${join(dataDir, 'stdout.log')}`);
  }
  if (ready === 'timeout') {
    void child.kill();
    throw new Error(`nothing listens on 127.0.0.1:${state.port} after ${readyTimeoutMs} ms`);
  }

  return {
    brokers: `127.0.0.1:${options.advertisedPort ?? state.port}`,
    pid: child.pid ?? -1,
    dataDir,
    stop: async (graceMs = 15_000) => {
      await child.stop(graceMs);
    },
    kill: async () => {
      await child.kill();
    },
  };
}
