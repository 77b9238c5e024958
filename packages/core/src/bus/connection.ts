/**
 * The bus connection, configured from the environment (KAFKA_BROKERS, KAFKA_CLIENT_ID,
 * KAFKA_SSL, KAFKA_SASL_*), and the client options every adapter in this folder derives from
 * it. Functions never build a Kafka client themselves: they get producers and consumers from
 * this folder.
 */
import { Admin, type BaseOptions } from '@platformatic/kafka';
import { env, envBool, envList } from '../config.ts';
import { StreamForgeError } from '../errors.ts';
import { backoffDelay, sleep } from '../retry/backoff.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { BusConnection, SaslMechanism } from './records.ts';

export interface BusConnectionOptions {
  brokers?: string[];
  clientId?: string;
  logger?: Logger;
}

const SASL: Record<SaslMechanism, 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

function saslFromEnv(): BusConnection['sasl'] {
  const mechanism = env('KAFKA_SASL_MECHANISM');
  if (mechanism === '') return undefined;
  if (!(mechanism in SASL)) {
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got "${mechanism}"`,
    );
  }
  return {
    mechanism: mechanism as SaslMechanism,
    username: env('KAFKA_SASL_USERNAME'),
    password: env('KAFKA_SASL_PASSWORD'),
  };
}

export function createBusConnection(options: BusConnectionOptions = {}): BusConnection {
  const brokers = options.brokers ?? envList('KAFKA_BROKERS');
  if (brokers.length === 0)
    throw new StreamForgeError('SF_CONFIG_INVALID', 'KAFKA_BROKERS is empty: name at least one host:port');
  const sasl = saslFromEnv();
  return {
    brokers,
    clientId: options.clientId ?? env('KAFKA_CLIENT_ID'),
    ssl: envBool('KAFKA_SSL'),
    ...(sasl ? { sasl } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
}

/** Backoff from 100 ms to 5 s between a client's own retries of one request (the client counts attempts from 1). */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return backoffDelay({ baseMs: 100, maxMs: 5_000 }, attempt);
}

/** The options every client of this connection starts from; `retries` bounds one request's retries (8 to 16 s of waits for 8). */
export function clientOptions(connection: BusConnection, retries = 8): BaseOptions {
  return {
    clientId: connection.clientId,
    bootstrapBrokers: [...connection.brokers],
    connectTimeout: 5_000,
    timeout: 30_000,
    retries,
    retryDelay,
    ...(connection.ssl ? { tls: {} } : {}),
    ...(connection.sasl
      ? {
          sasl: {
            mechanism: SASL[connection.sasl.mechanism],
            username: connection.sasl.username,
            password: connection.sasl.password,
          },
        }
      : {}),
  };
}

/** Waits until the cluster answers metadata requests (a broker that just opened its port may not). */
export async function waitForKafka(connection: BusConnection, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = new Admin({ ...clientOptions(connection, 0), timeout: 5_000 });
    try {
      await admin.metadata({ topics: [] });
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new StreamForgeError(
          'SF_DEPENDENCY_UNAVAILABLE',
          `Kafka not ready after ${timeoutMs} ms: ${(error as Error).message}`,
          { cause: error },
        );
      await sleep(200);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }
}
