/**
 * The manager and dead letters on the real broker and a real SQLite store: a dead letter
 * ends its workflow with the reason, a replay reopens it and publishes the original event to
 * its original topic, and a workflow no service takes up ends at its pending deadline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEventProducer,
  ensureTopics,
  headersToStrings,
  topicName,
  type EventProducer,
} from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf } from '@streamforge/core/contracts';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { readTopic, testKafka, uniqueName } from '@streamforge/testing';
import { parseDeadlinePolicy } from '../src/deadlines.ts';
import { createManager, type Manager } from '../src/manager.ts';
import { consumedEvent, deliveredDeadLetter } from './dead-letter-fixture.ts';

const prefix = `${uniqueName('qm')}.`;
let dir: string;
let store: Store;
let producer: EventProducer;
let manager: Manager;
let now = Date.UTC(2026, 0, 1);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sf-manager-'));
  store = await openSqliteStore(join(dir, 'store.db'));
  await ensureTopics(testKafka(), { prefix });
  producer = await createEventProducer(testKafka(), { topicPrefix: prefix });
  manager = createManager({
    store,
    producer,
    logger: createLogger({ service: 'queue-manager-test', level: 'silent' }),
    clock: () => now,
    deadlines: parseDeadlinePolicy('5m', 'dummy_*=10m'),
  });
});
after(async () => {
  await producer?.disconnect();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a dead letter ends its workflow; a replay reopens it and publishes the original command to its command topic', async () => {
  // Nothing consumes the command topic here: the workflow stays where the manager puts it.
  const workflow = await manager.startWorkflow({ type: 'dummy_load', symbol: 'BTCUSDT', params: { steps: 1 } });
  assert.equal(workflow.status, 'pending');
  const command = consumedEvent('queue-control.dummy-service', {
    id: `${workflow.queue_id}:start`,
    type: EVENT_TYPES.controlStart,
    source: sourceOf('queue-manager'),
    subject: workflow.queue_id,
    partitionKey: 'BTCUSDT',
    data: { command: 'start', queue_id: workflow.queue_id },
  });
  const event = deliveredDeadLetter(
    command,
    {
      destination: 'http://dummy-service/',
      status: 503,
      reason: 'sink answered 503',
      responseHeaders: {
        'kne-streamforgeerror': 'SF_DEPENDENCY_UNAVAILABLE',
        'kne-streamforgereason': 'the store is down',
      },
    },
    { topic: 'queue-control-dlq', offset: '41' },
  );

  now += 1000;
  const letter = await manager.recordDeadLetter(event);
  await manager.recordDeadLetter(event); // a redelivery changes nothing
  const failed = await manager.getWorkflow(workflow.queue_id);
  assert.equal(failed.status, 'error');
  assert.match(
    failed.error ?? '',
    /^1 event of this workflow .* \(dummy-service: dummy-service answered 503: SF_DEPENDENCY_UNAVAILABLE the store is down\)/,
  );
  assert.deepEqual(failed.dead_letters, { 'dummy-service': { total: 1, replayed: 0, reason: letter.reason } });
  assert.equal(failed.deadline_at, undefined, 'an ended workflow has no deadline');

  now += 1000;
  const result = await manager.replayDeadLetters({ queueId: workflow.queue_id });
  assert.deepEqual(result, {
    more: false,
    replayed: ['queue-control-dlq:0:41'],
    skipped: [],
    reopened: [workflow.queue_id],
  });
  const reopened = await manager.getWorkflow(workflow.queue_id);
  assert.equal(reopened.status, 'running');
  assert.equal(reopened.error, undefined);
  assert.match(
    reopened.progress['queue-manager']?.message ?? '',
    /^replaying 1 dead-lettered event; was: 1 event of this workflow/,
  );
  assert.deepEqual(reopened.dead_letters, { 'dummy-service': { total: 1, replayed: 1, reason: letter.reason } });
  assert.equal(reopened.deadline_at, now + 600_000, 'a reopened workflow has its no-progress deadline again');

  // The command topic holds the start the manager published, then the replay: the same event.
  const [start, replayed] = await readTopic(testKafka(), topicName('queue-control.dummy-service', prefix), 2);
  assert.equal(replayed!.key?.toString(), 'BTCUSDT');
  assert.deepEqual(JSON.parse(String(replayed!.value)), { command: 'start', queue_id: workflow.queue_id });
  const headers = headersToStrings(replayed!.headers);
  assert.deepEqual(
    [headers.ce_id, headers.ce_type, headers.ce_subject],
    [`${workflow.queue_id}:start`, EVENT_TYPES.controlStart, workflow.queue_id],
  );
  assert.deepEqual(
    Object.keys(headers).filter((h) => /knative|streamforge/.test(h)),
    [],
  );
  assert.equal(headersToStrings(start!.headers).ce_subject, workflow.queue_id);

  assert.deepEqual(
    await manager.replayDeadLetters({ queueId: workflow.queue_id }),
    { more: false, replayed: [], skipped: [], reopened: [] },
    'nothing is left to replay',
  );
});

test('a workflow no service takes up ends at its pending deadline, on a read or on the periodic check', async () => {
  const first = await manager.startWorkflow({ type: 'dummy_load', symbol: 'ETHUSDT' });
  const second = await manager.startWorkflow({ type: 'dummy_load', symbol: 'SOLUSDT' });
  assert.equal(first.deadline_at, first.created_at + 300_000);
  now = first.created_at + 300_000;
  assert.equal((await manager.getWorkflow(first.queue_id)).status, 'pending', 'not before its deadline');
  now += 1;
  const ended = await manager.getWorkflow(first.queue_id);
  assert.equal(ended.status, 'error');
  assert.match(
    ended.error ?? '',
    /^no service took it up within 5 min \(WORKFLOW_PENDING_TIMEOUT\): is dummy-service deployed/,
  );
  assert.ok((await manager.endOverdue()) >= 1);
  assert.equal((await store.getWorkflow(second.queue_id))?.status, 'error');
});

test('a command of no registered workflow is kept and listed, but not replayed: its destination is unknown', async () => {
  const command = consumedEvent('queue-control.loader-api', {
    id: 'stray:start',
    type: EVENT_TYPES.controlStart,
    source: sourceOf('elsewhere'),
    subject: 'wf-nobody-dummy_x-20260101-zzzzzz',
    data: { command: 'start' },
  });
  const letter = await manager.recordDeadLetter(
    deliveredDeadLetter(
      command,
      { destination: 'http://loader-api/', status: 400, reason: 'sink answered 400' },
      { topic: 'queue-control-dlq', offset: '42' },
    ),
  );
  assert.deepEqual([letter.topic, letter.service], ['', 'unknown']);
  assert.deepEqual((await store.getDeadLetter(letter.id))?.id, 'queue-control-dlq:0:42');
  assert.deepEqual(await manager.replayDeadLetters({ ids: [letter.id] }), {
    more: false,
    replayed: [],
    reopened: [],
    skipped: [{ id: letter.id, reason: 'its destination is unknown (a command of no registered workflow)' }],
  });
});
