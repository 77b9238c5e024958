/**
 * The kafkajs client, configured from the environment, with its logs routed into pino.
 * Functions never build a Kafka client themselves: they get producers and consumers from
 * this folder.
 */
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { env, envBool, envList } from '../config.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface KafkaClientOptions {
  brokers?: string[];
  clientId?: string;
  logger?: Logger;
}

function saslFromEnv(): SASLOptions | undefined {
  const mechanism = env('KAFKA_SASL_MECHANISM');
  if (mechanism === '') return undefined;
  const username = env('KAFKA_SASL_USERNAME');
  const password = env('KAFKA_SASL_PASSWORD');
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    return { mechanism, username, password } as SASLOptions;
  }
  throw new Error(`KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got "${mechanism}"`);
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

// kafkajs logs transient coordinator-loading errors at ERROR level while it retries them;
// they are noise unless the operation finally fails, which surfaces as a thrown error.
const TRANSIENT = /coordinator is (loading|not available)|not the correct coordinator|leadership election|rebalancing/i;

export function createKafka(options: KafkaClientOptions = {}): Kafka {
  const logger = options.logger;
  const sasl = saslFromEnv();
  const config: KafkaConfig = {
    brokers: options.brokers ?? envList('KAFKA_BROKERS'),
    clientId: options.clientId ?? env('KAFKA_CLIENT_ID'),
    ssl: envBool('KAFKA_SSL'),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 5_000,
    retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (logger === undefined) return;
      const { message, ...rest } = entry.log;
      let level = LEVELS[entry.level] ?? 'info';
      if (level === 'error' && TRANSIENT.test(String(rest.error ?? message))) level = 'debug';
      // Bounded retries are deliberate: a send that cannot finish must fail the request (5xx) so
      // the KafkaSource retries it, and idempotent writes downstream absorb any duplicate.
      if (message.startsWith('Limiting retries for the idempotent producer')) level = 'debug';
      logger[level]({ kafka: entry.namespace, ...rest }, message);
    },
  };
  return new Kafka(config);
}

/** Waits until the cluster answers metadata requests (a broker that just opened its port may not). */
export async function waitForKafka(kafka: Kafka, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const admin = kafka.admin();
  try {
    for (;;) {
      try {
        await admin.connect();
        await admin.describeCluster();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`Kafka not ready after ${timeoutMs} ms: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
