/**
 * The bus port: what a StreamForge service sees of Kafka. These types name no Kafka client;
 * the one client behind them (@platformatic/kafka) is imported only by the adapters in this
 * folder (connection, producer, record consumer, admin), and a test keeps it that way.
 */
import type { Logger } from '../telemetry/logger.ts';

/** Header values as a record carries them: text or bytes; a repeated header keeps every value. */
export type RecordHeaderValue = string | Buffer;
export type RecordHeaders = Record<string, RecordHeaderValue | RecordHeaderValue[] | undefined>;

/** A record to produce. The key decides the partition (Java's murmur2, as every Kafka client). */
export interface OutgoingRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, RecordHeaderValue>;
  /** Milliseconds since the epoch, as text; the broker's time when unset. */
  timestamp?: string;
}

/** A record as consumed: bytes as they were written, offsets and times as decimal text. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/**
 * Where the cluster is and how to reach it. A plain value: producers, consumers and admin
 * requests are made from it by the bus, each with its own connections.
 */
export interface BusConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Where the client's own warnings go (a consumer that stopped for good, a failed commit). */
  readonly logger?: Logger;
}
