/**
 * `GET /diagnostics`: is the event chain healthy, as a user would check it by hand?
 *
 * - kafka: the cluster answers a metadata request (brokers, controller, cluster id);
 * - topics: every topic of the topic plan exists under this environment's prefix, with
 *   its partition count;
 * - round_trip: a `ping` published on dummy-service's command topic comes back as a `pong` on
 *   queue-events. The ping travels the whole way a command does: Kafka, the KafkaSource
 *   of dummy-service (any instance answers), the handler, Kafka again. The pong is read
 *   by a consumer of this process, in a group of its own that starts at the end of the
 *   topic and commits nothing (made on the first call, kept for the next ones).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  TOPICS,
  TOPIC_PLAN,
  controlTopicOf,
  decodeRecord,
  startRecordConsumer,
  topicName,
  withAdmin,
  type BusConnection,
  type EventProducer,
  type RecordConsumer,
} from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf } from '@streamforge/core/contracts';
import type { Logger, Registry } from '@streamforge/core/telemetry';
import { SERVICE } from './simulate.ts';

export interface DiagnosticsReport {
  service: string;
  ok: boolean;
  checked_at: string;
  kafka: {
    ok: boolean;
    latency_ms?: number;
    cluster_id?: string;
    controller?: number | null;
    brokers?: Array<{ node_id: number; host: string; port: number }>;
    error?: string;
  };
  topics: {
    ok: boolean;
    prefix: string;
    present: Array<{ name: string; partitions: number; planned_partitions: number }>;
    missing: string[];
    error?: string;
  };
  round_trip: {
    ok: boolean;
    queue_id?: string;
    latency_ms?: number;
    ping_to_pong_ms?: number;
    ponged_by?: string;
    timeout_ms: number;
    error?: string;
  };
}

interface Pong {
  receivedAt: number;
  data: Record<string, unknown>;
}

export interface Diagnostics {
  run(options?: { timeoutMs?: number }): Promise<DiagnosticsReport>;
  close(): Promise<void>;
}

export interface DiagnosticsDeps {
  connection: BusConnection;
  producer: EventProducer;
  logger: Logger;
  registry?: Registry;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function createDiagnostics(deps: DiagnosticsDeps): Diagnostics {
  const waiting = new Map<string, (pong: Pong) => void>();
  let reader: Promise<RecordConsumer> | undefined;

  /** The pong reader, ready once it has joined and fetched (so its start offset is fixed before the ping leaves). */
  function pongReader(timeoutMs: number): Promise<RecordConsumer> {
    reader ??= (async () => {
      const instance = (process.env.POD_NAME || hostname()).replace(/[^a-zA-Z0-9._-]/g, '-');
      const groupId = topicName(`${SERVICE}-diagnostics-${instance}-${randomUUID().slice(0, 8)}`);
      const consumer = await startRecordConsumer({
        connection: deps.connection,
        groupId,
        topics: [topicName(TOPICS.events)],
        from: 'latest',
        commit: false,
        maxWaitMs: 100,
        logger: deps.logger,
        ...(deps.registry ? { registry: deps.registry } : {}),
        handle: async (record) => {
          if (waiting.size === 0) return;
          try {
            const event = decodeRecord<Record<string, unknown>>(record);
            const data = event.data;
            if (data?.status !== 'pong' || typeof data.queue_id !== 'string') return;
            waiting.get(data.queue_id)?.({ receivedAt: performance.now(), data });
          } catch {
            // Not a CloudEvent: not a pong either.
          }
        },
      });
      await consumer.ready();
      deps.logger.info({ groupId }, 'diagnostics pong reader ready');
      return consumer;
    })().catch((error: unknown) => {
      reader = undefined;
      throw error;
    });
    return withTimeout(reader, timeoutMs, 'the pong reader did not join its consumer group');
  }

  async function checkKafka(report: DiagnosticsReport): Promise<void> {
    const began = performance.now();
    await withAdmin(deps.connection, async (admin) => {
      const cluster = await admin.describeCluster();
      report.kafka = {
        ok: true,
        latency_ms: round(performance.now() - began),
        cluster_id: cluster.clusterId,
        controller: cluster.controller,
        brokers: cluster.brokers.map((b) => ({ node_id: b.nodeId, host: b.host, port: b.port })),
      };
      const planned = TOPIC_PLAN.map((spec) => ({ spec, name: topicName(spec.name) }));
      const ready = await admin.readyTopics(planned.map((p) => p.name));
      report.topics.present = planned
        .filter((p) => ready.has(p.name))
        .map((p) => ({ name: p.name, partitions: ready.get(p.name) ?? 0, planned_partitions: p.spec.partitions }));
      report.topics.missing = planned.filter((p) => !ready.has(p.name)).map((p) => p.name);
      report.topics.ok = report.topics.missing.length === 0;
    }).catch((error: unknown) => {
      if (!report.kafka.ok) report.kafka = { ok: false, error: (error as Error).message };
      else report.topics.error = (error as Error).message;
    });
  }

  async function roundTrip(report: DiagnosticsReport, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const queueId = `diag-${randomUUID().slice(0, 12)}`;
    report.round_trip.queue_id = queueId;
    try {
      await pongReader(timeoutMs);
      const pong = new Promise<Pong>((resolve) => waiting.set(queueId, resolve));
      const sentAt = Date.now() / 1000;
      const began = performance.now();
      await deps.producer.send(controlTopicOf(SERVICE), [
        {
          type: EVENT_TYPES.controlPing,
          source: sourceOf(SERVICE),
          subject: queueId,
          partitionKey: 'diagnostics',
          data: { command: 'ping', queue_id: queueId, target: SERVICE, sent_at: sentAt, timestamp: sentAt },
        },
      ]);
      const answer = await withTimeout(
        pong,
        Math.max(1, deadline - performance.now()),
        `no pong within ${timeoutMs} ms (is dummy-service's KafkaSource running?)`,
      );
      const pongedAt = Number(answer.data.ponged_at);
      report.round_trip = {
        ok: true,
        queue_id: queueId,
        latency_ms: round(answer.receivedAt - began),
        ...(Number.isFinite(pongedAt) ? { ping_to_pong_ms: round(pongedAt * 1000 - sentAt * 1000) } : {}),
        ponged_by: String(answer.data.producer),
        timeout_ms: timeoutMs,
      };
    } catch (error) {
      report.round_trip = { ok: false, queue_id: queueId, timeout_ms: timeoutMs, error: (error as Error).message };
    } finally {
      waiting.delete(queueId);
    }
  }

  return {
    async run(options = {}) {
      const timeoutMs = options.timeoutMs ?? 15_000;
      const report: DiagnosticsReport = {
        service: SERVICE,
        ok: false,
        checked_at: new Date().toISOString(),
        kafka: { ok: false },
        topics: { ok: false, prefix: topicName(''), present: [], missing: [] },
        round_trip: { ok: false, timeout_ms: timeoutMs },
      };
      await checkKafka(report);
      if (!report.kafka.ok) report.round_trip.error = 'skipped: Kafka is not reachable';
      else if (
        report.topics.missing.some((t) => t === topicName(controlTopicOf(SERVICE)) || t === topicName(TOPICS.events))
      )
        report.round_trip.error = `skipped: ${controlTopicOf(SERVICE)} or queue-events is missing`;
      else await roundTrip(report, timeoutMs);
      report.ok = report.kafka.ok && report.topics.ok && report.round_trip.ok;
      return report;
    },
    async close() {
      const consumer = await reader?.catch(() => undefined);
      await consumer?.stop().catch(() => undefined);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, reason: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(reason)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
