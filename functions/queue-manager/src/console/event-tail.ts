/**
 * Live updates across manager instances. queue-events reaches the managers through one
 * KafkaSource, so each instance applies only part of the telemetry; a browser connected to
 * instance A must still see what instance B applied. So each instance that serves a console
 * tails queue-events and the command topics with a consumer group of its own (from `latest`, no
 * commits: the group lives as long as the process) and, for every event about a workflow,
 * reads the workflow back from the store and pushes it.
 *
 * The tail can see an event before the instance that applies it has written the store, so
 * a read is repeated with a growing delay until the store shows the event's effect (the
 * service's progress reached the event's timestamp, a final status, a registered workflow)
 * or a few seconds passed. Events this instance applied itself were pushed already and are
 * skipped. The store stays the only truth: the tail never computes a status itself.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  COMMAND_TARGETS,
  TOPICS,
  controlTopicOf,
  decodeRecord,
  startRecordConsumer,
  topicName,
  type BusConnection,
} from '@streamforge/core/bus';
import { EVENT_TYPES, serviceOfProducer, timestampOf, type TelemetryEvent } from '@streamforge/core/contracts';
import type { Store, WorkflowRecord } from '@streamforge/core/store';
import type { Logger, Registry } from '@streamforge/core/telemetry';
import { backoffDelay, mayRetry, sleep, type Backoff } from '@streamforge/core/retry';
import { isFinal } from '../workflow-state.ts';
import type { WorkflowHub } from './hub.ts';

/** Reads while the store does not show an event yet: 9, waiting 20 ms doubling to 2.56 s (3 to 6 s in all). */
const READ_BACKOFF: Backoff = { baseMs: 20, maxMs: 2_560, attempts: 9 };

export interface EventTailOptions {
  connection: BusConnection;
  store: Store;
  hub: WorkflowHub;
  logger: Logger;
  registry?: Registry;
  /** Called once the tail's consumer has joined its group (browsers resync then). */
  onJoined?(): void;
}

export interface EventTail {
  groupId: string;
  stop(): Promise<void>;
}

type Condition = (workflow: WorkflowRecord) => boolean;

export async function startEventTail(options: EventTailOptions): Promise<EventTail> {
  const { store, hub, logger } = options;
  const instance = (process.env.POD_NAME || hostname()).replace(/[^a-zA-Z0-9._-]/g, '-');
  const groupId = topicName(`queue-manager-console-${instance}-${randomUUID().slice(0, 8)}`);
  /** Per workflow: what the store must show before it is pushed, and how many reads were made. */
  const pending = new Map<string, { conditions: Condition[]; reads: number }>();
  let stopping = false;

  async function refresh(queueId: string, state: { conditions: Condition[]; reads: number }): Promise<void> {
    while (!stopping) {
      await sleep(backoffDelay(READ_BACKOFF, state.reads + 1));
      state.reads++;
      const giveUp = !mayRetry(READ_BACKOFF, state.reads);
      let workflow: WorkflowRecord | undefined;
      try {
        workflow = await store.getWorkflow(queueId);
      } catch (error) {
        logger.debug({ queue_id: queueId, err: error }, 'console tail: store read failed');
      }
      if (workflow) {
        const current = workflow;
        // No await from here on: conditions added by other events are all seen.
        state.conditions = state.conditions.filter((c) => !c(current));
        if (state.conditions.length === 0 || isFinal(current.status) || giveUp) {
          hub.publish(current);
          break;
        }
      } else if (giveUp) {
        break;
      }
    }
    pending.delete(queueId);
  }

  function want(queueId: string, condition: Condition): void {
    const state = pending.get(queueId);
    if (state) {
      state.conditions.push(condition);
      state.reads = 0; // a new event: give it the whole schedule
      return;
    }
    const fresh = { conditions: [condition], reads: 0 };
    pending.set(queueId, fresh);
    void refresh(queueId, fresh);
  }

  const consumer = await startRecordConsumer({
    connection: options.connection,
    groupId,
    topics: [topicName(TOPICS.events), ...COMMAND_TARGETS.map((t) => topicName(controlTopicOf(t)))],
    from: 'latest',
    commit: false,
    // Nothing here waits on I/O per record (reads are scheduled, not awaited): order per partition costs nothing.
    ordering: 'ordered',
    maxWaitMs: 250,
    logger,
    ...(options.registry ? { registry: options.registry } : {}),
    onAssigned: () => options.onJoined?.(),
    handle: async (record) => {
      if (hub.clients() === 0) return;
      let event: ReturnType<typeof decodeRecord<Record<string, unknown>>>;
      try {
        event = decodeRecord<Record<string, unknown>>(record);
      } catch {
        return;
      }
      const queueId = event.subject ?? (typeof event.data?.queue_id === 'string' ? event.data.queue_id : undefined);
      if (!queueId) return;
      if (event.type === EVENT_TYPES.telemetry) {
        if (hub.wasApplied(event.id)) return;
        const data = event.data as TelemetryEvent | undefined;
        if (!data || data.status === 'pong' || typeof data.producer !== 'string') return;
        const service = serviceOfProducer(data.producer);
        const at = timestampOf(data) * 1000;
        // Applied (or a no-op) once the service's progress has reached the event's time.
        want(queueId, (w) => hub.wasApplied(event.id) || (w.progress[service]?.updated_at ?? 0) >= at);
      } else if (event.type === EVENT_TYPES.controlStart) {
        want(queueId, () => true);
      } else if (event.type === EVENT_TYPES.controlStop) {
        want(queueId, (w) => isFinal(w.status));
      }
    },
  });
  logger.info({ groupId }, 'console event tail started');

  return {
    groupId,
    async stop() {
      stopping = true;
      await consumer.stop().catch(() => undefined);
    },
  };
}
