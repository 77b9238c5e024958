/**
 * The diagnostic round trip through a running stack: a ping on dummy-service's command topic,
 * answered by a pong on queue-events. Tests and benches use it to see a function wake and answer.
 */
import {
  controlTopicOf,
  createEventProducer,
  startEventConsumer,
  TOPICS,
  type BusConnection,
  type DecodedEvent,
} from '@streamforge/core/bus';
import { EVENT_TYPES } from '@streamforge/core/contracts';
import { uniqueName } from './unique.ts';
import { waitFor, type WaitForOptions } from './wait-for.ts';

export interface PingRoundTrip {
  queueId: string;
  /** When the ping was sent, in seconds (its `sent_at`). */
  sentAt: number;
  /** The pong, as read from queue-events. */
  pong: DecodedEvent;
}

export interface Pinger {
  ping(wait?: WaitForOptions): Promise<PingRoundTrip>;
  close(): Promise<void>;
}

/**
 * Starts reading the stack's queue-events (from now on) and a producer on its topics; `ping`
 * sends one ping, named after `name`, with `source` as its CloudEvent source, and waits for its pong.
 */
export async function startPinger(
  connection: BusConnection,
  prefix: string,
  options: { name: string; source: string },
): Promise<Pinger> {
  const pongs: DecodedEvent[] = [];
  const consumer = await startEventConsumer({
    connection,
    groupId: uniqueName(`${options.name}-pongs`),
    topics: [`${prefix}${TOPICS.events}`],
    fromBeginning: false,
    handle: async (event) => {
      pongs.push(event);
    },
  });
  const producer = await createEventProducer(connection, { topicPrefix: prefix });
  await consumer.ready();
  return {
    async ping(wait = { timeoutMs: 30_000 }) {
      const queueId = uniqueName(options.name);
      const sentAt = Date.now() / 1000;
      await producer.send(controlTopicOf('dummy-service'), [
        {
          type: EVENT_TYPES.controlPing,
          source: options.source,
          subject: queueId,
          partitionKey: 'diagnostics',
          data: { command: 'ping', queue_id: queueId, target: 'dummy-service', sent_at: sentAt, timestamp: sentAt },
        },
      ]);
      const pong = await waitFor(`the pong of ${queueId}`, () => pongs.find((e) => e.subject === queueId), wait);
      return { queueId, sentAt, pong };
    },
    async close() {
      await consumer.stop();
      await producer.disconnect();
    },
  };
}
