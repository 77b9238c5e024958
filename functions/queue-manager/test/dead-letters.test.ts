/**
 * A dead letter's way back, without a broker: an event as a Kafka record, dead-lettered by
 * the dispatcher after its service refused it, read from the dead-letter topic by the
 * manager's KafkaSource, and replayed: the replay is the original event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP, type CloudEvent } from 'cloudevents';
import { encodeEvent, headersToStrings } from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf } from '@streamforge/core/contracts';
import type { WorkflowRecord } from '@streamforge/core/store';
import { deadLetterOf, isDeadLetter, replayEventOf } from '../src/dead-letters.ts';
import { consumedEvent, deliveredDeadLetter as delivered } from './dead-letter-fixture.ts';

const QUEUE = 'wf-btcusdt-api_candles_1m-20240801-a1b2c3';
const page = { queue_id: QUEUE, symbol: 'BTCUSDT', page: { index: 3, count: 11 }, start_ms: 1_722_470_400_000 };

const original = consumedEvent(
  'loader-api-work',
  {
    id: `${QUEUE}:page:3`,
    type: EVENT_TYPES.workPage,
    source: sourceOf('loader-api'),
    subject: QUEUE,
    partitionKey: 'BTCUSDT:3',
    data: page,
  },
  4,
  '1234',
);
const deliveredDeadLetter = (record: typeof original, failure: Parameters<typeof delivered>[1], offset = '7') =>
  delivered(record, failure, { topic: 'loader-api-work-dlq', offset });

test("a page its service refused names the workflow, the service, the refusal in the service's words, and where it lies", () => {
  const event = deliveredDeadLetter(original, {
    destination: 'http://127.0.0.1:8080/',
    status: 400,
    reason: 'sink answered 400',
    responseHeaders: {
      'kne-streamforgeerror': 'SF_CONTRACT_INVALID',
      'kne-streamforgereason': encodeURIComponent('page.index: must be < page.count'),
    },
  });
  assert.equal(isDeadLetter(event), true);
  const letter = deadLetterOf(event, undefined, 1_722_470_500_000);
  assert.deepEqual(
    { ...letter, event: undefined },
    {
      id: 'loader-api-work-dlq:0:7',
      queue_id: QUEUE,
      service: 'loader-api',
      topic: 'loader-api-work',
      reason: 'loader-api answered 400: SF_CONTRACT_INVALID page.index: must be < page.count',
      status: 400,
      dead_lettered_at: 1_722_470_500_000,
      event: undefined,
    },
  );
});

test("an event no service answered keeps the dispatcher's reason", () => {
  const letter = deadLetterOf(
    deliveredDeadLetter(original, {
      destination: 'http://127.0.0.1:8080/',
      reason: 'delivery failed: connect ECONNREFUSED 127.0.0.1:8080',
    }),
    undefined,
    1,
  );
  assert.equal(letter.reason, 'delivery failed: connect ECONNREFUSED 127.0.0.1:8080');
  assert.equal(letter.status, undefined);
});

test('the replay is the original event: same id, key, subject and data, without what the dead-letter path added', () => {
  const letter = deadLetterOf(
    deliveredDeadLetter(original, { destination: 'http://x/', status: 503, reason: 'sink answered 503' }),
    undefined,
    1,
  );
  const replayed = encodeEvent(replayEventOf(JSON.parse(JSON.stringify(letter)) as typeof letter));
  assert.equal(String(replayed.key), String(original.key));
  assert.deepEqual(JSON.parse(String(replayed.value)), page);
  const headers = headersToStrings(replayed.headers as Record<string, Buffer>);
  const before = headersToStrings(original.headers);
  for (const name of ['ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time', 'ce_partitionkey'])
    assert.equal(headers[name], before[name], name);
  assert.deepEqual(
    Object.keys(headers).filter((h) => /knative|streamforge/.test(h)),
    [],
  );
});

test("a command goes back to the command topic of its workflow's service; without its workflow it cannot be replayed", () => {
  const command = consumedEvent(
    'queue-control.dummy-service',
    {
      id: `${QUEUE}:start`,
      type: EVENT_TYPES.controlStart,
      source: sourceOf('queue-manager'),
      subject: QUEUE,
      partitionKey: 'BTCUSDT',
      data: { command: 'start' },
    },
    1,
    '9',
  );
  const event = deliveredDeadLetter(
    command,
    { destination: 'http://x/', status: 400, reason: 'sink answered 400' },
    '2',
  );
  const workflow = { type: 'dummy_load' } as WorkflowRecord;
  assert.deepEqual(
    [deadLetterOf(event, workflow, 1).topic, deadLetterOf(event, workflow, 1).service],
    ['queue-control.dummy-service', 'dummy-service'],
  );
  assert.equal(deadLetterOf(event, undefined, 1).topic, '');
});

test('a dead letter whose body was not the JSON it claimed (taken as text by the runtime) goes back byte for byte', () => {
  const broken = HTTP.toEvent({
    headers: {
      'ce-specversion': '1.0',
      'ce-id': `${QUEUE}:page:3`,
      'ce-source': '/streamforge/loader-api',
      'ce-type': EVENT_TYPES.workPage,
      'ce-subject': QUEUE,
      'ce-knativeerrordest': 'http://loader-api/',
      'ce-knativeerrorcode': '400',
      'content-type': 'text/plain',
    },
    body: '{"page": [',
  }) as CloudEvent<unknown>;
  const letter = deadLetterOf(broken.cloneWith({ streamforgebodytext: 'application/json' }), undefined, 1);
  assert.equal(letter.queue_id, QUEUE);
  assert.equal(String(encodeEvent(replayEventOf(letter)).value), '{"page": [');
});
