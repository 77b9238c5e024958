import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventProducer, startEventConsumer, TOPICS } from '@streamforge/shared/bus';
import { EVENT_TYPES } from '@streamforge/shared/contracts';
import { isAlive, readStackState } from '@streamforge/shared/platform';
import { startTestStack, testKafka, uniqueName, waitFor } from '@streamforge/shared/testing';
import type { DecodedEvent } from '@streamforge/shared/bus';

test('a ping on queue-control comes back as a pong on queue-events through a stack started with `streamforge up`', async (t) => {
  const stack = await startTestStack();
  t.after(() => stack.down());
  assert.equal(stack.state.status, 'ready');
  assert.ok(stack.state.functions['dummy-service']?.url, 'dummy-service runs');

  const kafka = testKafka();
  const prefix = stack.prefix;
  const pongs: DecodedEvent[] = [];
  const consumer = await startEventConsumer({
    kafka,
    groupId: uniqueName('pong-reader'),
    topics: [`${prefix}${TOPICS.events}`],
    handle: async (event) => { pongs.push(event); },
  });
  const producer = await createEventProducer(kafka, { topicPrefix: prefix });
  t.after(async () => { await consumer.stop(); await producer.disconnect(); });

  const queueId = uniqueName('diag-ping');
  const sentAt = Date.now() / 1000;
  await producer.send(TOPICS.control, [{
    type: EVENT_TYPES.controlPing,
    source: '/streamforge/test',
    subject: queueId,
    partitionKey: 'diagnostics',
    data: { command: 'ping', queue_id: queueId, target: 'dummy-service', sent_at: sentAt, timestamp: sentAt },
  }]);

  const pong = await waitFor('a pong for the ping', () => pongs.find((e) => e.subject === queueId), { timeoutMs: 30_000 });
  assert.equal(pong.type, EVENT_TYPES.telemetry);
  const data = pong.data as Record<string, unknown>;
  assert.equal(data.status, 'pong');
  assert.equal(data.queue_id, queueId);
  assert.equal(data.ping_ts, sentAt);
  assert.ok((data.ponged_at as number) >= sentAt);
});

test('`streamforge down` leaves no process of the stack behind', async () => {
  const stack = await startTestStack();
  const state = readStackState(stack.home);
  const status = (await (await fetch(`${state?.platform_url}/status`)).json()) as { functions: Array<{ instances: Array<{ pid: number }> }> };
  const instances = status.functions.flatMap((f) => f.instances.map((i) => i.pid));
  const pids = [state?.pid, state?.dispatcher?.pid, ...instances].filter((p): p is number => p !== undefined);
  assert.ok(pids.length >= 3 && pids.every(isAlive), 'supervisor, dispatcher and the manager run');
  await stack.down();
  assert.deepEqual(pids.filter(isAlive), [], 'every process of the stack has exited');
});
