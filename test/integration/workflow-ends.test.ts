/**
 * Every workflow ends, and says why: on the whole local stack (real broker, dispatcher,
 * functions, SQLite store; the exchange simulator stands in for Binance), a workflow that
 * stops moving ends at its deadline, and work its service refused goes to a dead-letter
 * topic, ends its workflow naming the reason, and can be listed and replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, createEventProducer, topicName, type EventProducer } from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf } from '@streamforge/core/contracts';
import { toDeadLetterRecord, toHttpEvent } from '@streamforge/platform';
import {
  localJobPids,
  readTopic,
  stackApi,
  topicMessageCount,
  simulatorStackForFile,
  testKafka,
  waitFor,
  waitForGroupCaughtUp,
} from '@streamforge/testing';

let producer: EventProducer;
const stack = simulatorStackForFile(
  {
    // Short enough to watch: dummy_stall workflows stall on purpose, the rest keep the defaults.
    WORKFLOW_STALL_TIMEOUTS: 'dummy_stall=3s,dummy_*=10m,api_*=15m',
    WORKFLOW_DEADLINE_CHECK_MS: '500',
  },
  {
    started: async (started) => {
      producer = await createEventProducer(testKafka(), { topicPrefix: started.prefix });
    },
    stopping: async () => {
      await producer?.disconnect();
    },
  },
);

const api = stackApi(() => stack().state.api_url);

/** The workflows whose local loader-ws Job runs. */
const liveJobQueues = (): string[] => [...localJobPids(stack().home).keys()];

interface LetterView {
  id: string;
  queue_id: string;
  service: string;
  reason: string;
  replayed_at?: number;
  event: Record<string, unknown>;
}

test('a workflow that stops moving ends in error at its deadline, saying where it stood', async () => {
  const workflow = await api.start({
    type: 'dummy_stall',
    symbol: 'BTCUSDT',
    params: { steps: 1, interval_ms: 20_000 },
  });
  assert.ok(
    workflow.deadline_at !== undefined && workflow.deadline_at > workflow.created_at,
    'the deadline is in the status from the start',
  );
  const ended = await api.final(workflow.queue_id, 30_000);
  assert.equal(ended.status, 'error');
  assert.match(
    ended.error ?? '',
    /^no progress for 3 s \(WORKFLOW_STALL_TIMEOUTS dummy_stall\); it stood at: dummy-service (started|loading)/,
  );
});

test('a batch its service refuses goes to a dead-letter topic and ends its live workflow naming why, stopping its Job; dlq ls lists it, and a replay that is refused again is counted again', async () => {
  // A live stream never ends by itself: only the dead letter can end it.
  const workflow = await api.start({ type: 'ws_book_ticker', symbol: 'ETHUSDT' });
  await api.until(workflow.queue_id, 'running', (w) => w.status === 'running');
  await waitFor('its loader-ws Job running', () => liveJobQueues().includes(workflow.queue_id), { timeoutMs: 30_000 });
  // A faulty producer's batch for this workflow: the connector refuses it (400), so it is dead-lettered at once.
  await producer.send(TOPICS.dataBookTicker, [
    {
      id: `${workflow.queue_id}:poison`,
      type: EVENT_TYPES.dataBookTicker,
      source: sourceOf('test'),
      subject: workflow.queue_id,
      partitionKey: 'ETHUSDT',
      data: { queue_id: workflow.queue_id, rows: 'not a batch' },
    },
  ]);

  const failed = await api.final(workflow.queue_id, 60_000);
  assert.equal(failed.status, 'error');
  assert.match(
    failed.error ?? '',
    /^1 event of this workflow could not be processed and went to a dead-letter topic \(arango-connector: arango-connector answered 400: SF_CONTRACT_INVALID/,
  );
  assert.match(failed.error ?? '', new RegExp(`streamforge dlq ls --workflow ${failed.queue_id}`));
  assert.deepEqual(
    { ...failed.dead_letters?.['arango-connector'], reason: undefined },
    { total: 1, replayed: 0, reason: undefined },
  );
  await waitFor('its loader-ws Job stopped', () => !liveJobQueues().includes(workflow.queue_id), { timeoutMs: 30_000 });

  const ls = await stack().cli(['dlq', 'ls', '--workflow', workflow.queue_id, '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const [letter] = JSON.parse(ls.stdout) as LetterView[];
  assert.equal(letter?.service, 'arango-connector');
  assert.match(letter?.id ?? '', /^data-dlq:0:\d+$/);
  assert.equal(letter?.event.data, undefined, 'a listing leaves the data out');
  const shown = await stack().cli(['dlq', 'show', letter!.id]);
  assert.deepEqual((JSON.parse(shown.stdout) as LetterView).event.data, {
    queue_id: workflow.queue_id,
    rows: 'not a batch',
  });

  const replay = await stack().cli(['dlq', 'replay', '--workflow', workflow.queue_id, '--json']);
  assert.equal(replay.code, 0, replay.stderr);
  // A live stream is not reopened: its Job was stopped when it ended; a new workflow streams again.
  assert.deepEqual(JSON.parse(replay.stdout), { more: false, replayed: [letter!.id], skipped: [], reopened: [] });
  const again = await api.until(
    workflow.queue_id,
    'a second dead letter',
    (w) => w.dead_letters?.['arango-connector']?.total === 2,
    60_000,
  );
  assert.deepEqual([again.status, again.dead_letters?.['arango-connector']?.replayed], ['error', 1]);
  const second = await stack().cli(['dlq', 'replay', letter!.id, '--json']);
  assert.deepEqual(JSON.parse(second.stdout).skipped, [{ id: letter!.id, reason: 'already replayed' }]);
});

test('a replayed page of a finished backfill is stored once: the counts do not move', async () => {
  const workflow = await api.start({ type: 'api_candles_1h', symbol: 'SOLUSDT', time_range: '2024-03-01:2024-04-01' });
  const done = await api.final(workflow.queue_id, 60_000);
  assert.equal(done.status, 'completed', done.error);
  assert.equal(done.stored?.records_written, 31 * 24);

  // As if the page had failed for good (the exchange unreachable through every retry): the dispatcher's own dead letter of it.
  const work = topicName(TOPICS.loaderWork, stack().prefix);
  const pages = await readTopic(testKafka(), work, await topicMessageCount(testKafka(), work));
  const page = pages.find((r) => r.headers.ce_subject?.toString() === workflow.queue_id);
  assert.ok(page, 'the backfill page is on the work topic');
  const dead = toDeadLetterRecord(toHttpEvent(page, 'loader-api-work'), page, {
    destination: 'http://loader-api/',
    reason: 'delivery failed: connect ECONNREFUSED',
  });
  await producer.sendRecords(topicName(TOPICS.deadLetterWork, stack().prefix), [dead]);
  const counted = await api.until(
    workflow.queue_id,
    'the dead letter counted',
    (w) => w.dead_letters?.['loader-api']?.total === 1,
    60_000,
  );
  assert.equal(counted.status, 'completed', 'a workflow that ended keeps its end; its letters are counted');

  const before = await topicMessageCount(testKafka(), work);
  const replay = await stack().cli(['dlq', 'replay', '--workflow', workflow.queue_id, '--json']);
  assert.equal(JSON.parse(replay.stdout).replayed.length, 1);
  // The page went back to the work topic as it was: same CloudEvent id, same key.
  const [again] = (await readTopic(testKafka(), work, before + 1)).slice(before);
  assert.deepEqual(
    [again?.headers.ce_id?.toString(), again?.key?.toString()],
    [page.headers.ce_id?.toString(), page.key?.toString()],
  );
  await waitForGroupCaughtUp(testKafka(), topicName('loader-api-work', stack().prefix), work);
  await waitForGroupCaughtUp(
    testKafka(),
    topicName('arango-connector-data', stack().prefix),
    topicName(TOPICS.dataKlines, stack().prefix),
  );
  const after = await api.workflow(workflow.queue_id);
  assert.equal(after.stored?.records_written, 31 * 24);
  assert.equal(
    (await api.call<{ count: number }>('GET', `/collections/${workflow.collection_name}`)).body.count,
    31 * 24,
  );
  assert.deepEqual(after.dead_letters?.['loader-api'], {
    total: 1,
    replayed: 1,
    reason: 'delivery failed: connect ECONNREFUSED',
  });
  await waitFor(
    'the replayed letter marked',
    async () =>
      ((await api.call<{ dead_letters: LetterView[] }>('GET', `/dead-letters?workflow=${workflow.queue_id}`)).body
        .dead_letters[0]?.replayed_at ?? 0) > 0,
  );
});
