/**
 * Listens on loader-ws's command topic for a `stop` of this Job's workflow, with a consumer group of
 * its own (every Job must see every command; a shared group would hand each command to one
 * of them). A new group reads from the beginning of the topic's retention: a stop sent
 * while the Job was still starting is not missed (queue ids are never reused, so any stop
 * for ours is meant for us), and a retried pod resumes from the group's committed offset.
 * Should its consumer stop for good, the Job streams on (the consumer logs why): the manager
 * also deletes the Job on a stop, and SIGTERM ends it the same way.
 */
import { controlTopicOf, startEventConsumer, type BusConnection, type EventConsumer } from '@streamforge/core/bus';
import { controlCommandContract } from '@streamforge/core/contracts';
import type { Logger } from '@streamforge/core/telemetry';

export interface StopListenerOptions {
  connection: BusConnection;
  queueId: string;
  logger: Logger;
  onStop(reason: string): void;
}

export function stopGroupOf(queueId: string): string {
  return `loader-ws-${queueId}`;
}

export async function startStopListener(options: StopListenerOptions): Promise<EventConsumer> {
  return await startEventConsumer({
    connection: options.connection,
    groupId: stopGroupOf(options.queueId),
    topics: [controlTopicOf('loader-ws')],
    fromBeginning: true,
    logger: options.logger,
    handle: async (event) => {
      const errors = controlCommandContract.check(event.data);
      if (errors.length > 0) return; // not ours to judge: the manager validated what it sent
      const command = event.data as { command: string; queue_id: string; reason?: string };
      if (command.command === 'stop' && command.queue_id === options.queueId)
        options.onStop(command.reason ?? 'stop command');
    },
  });
}
