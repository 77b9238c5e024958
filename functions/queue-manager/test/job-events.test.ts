/**
 * The Job events an ApiServerSource sends (add, update, delete, the whole Job as data) and
 * what the manager makes of them: a failed Job, or one deleted while it ran, ends a workflow
 * still running in `error` with the Job's reason; a completed Job, a running one, or a Job
 * deleted after its workflow ended change nothing. Decided without a broker, on a real
 * SQLite store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventProducer } from '@streamforge/core/bus';
import {
  JOB_EVENT_TYPES,
  QUEUE_ID_ANNOTATION,
  jobNameOf,
  type JobCondition,
  type JobLauncher,
  type JobObject,
} from '@streamforge/core/jobs';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { parseDeadlinePolicy } from '../src/deadlines.ts';
import { createLiveJobs, deadJobOf, type LiveJobs } from '../src/live-jobs.ts';
import { createManager, type Manager } from '../src/manager.ts';

const logger = createLogger({ service: 'job-events-test', level: 'silent' });

/** A loader-ws Job as the API serves it, with the conditions the Job controller would have written. */
function job(queueId: string, conditions: JobCondition[] = [], labels = { 'app.kubernetes.io/name': 'loader-ws' }) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameOf(queueId),
      namespace: 'streamforge',
      uid: '6f1f4a0e-0000-4000-8000-000000000001',
      labels: { 'app.kubernetes.io/part-of': 'streamforge', ...labels },
      annotations: { [QUEUE_ID_ANNOTATION]: queueId },
    },
    spec: { backoffLimit: 3 },
    status: conditions.length === 0 ? { active: 1 } : { active: 0, failed: 1, conditions },
  } satisfies JobObject;
}
const condition = (type: string, reason: string, message: string): JobCondition => ({
  type,
  status: 'True',
  reason,
  message,
});
const failed = (queueId: string) =>
  job(queueId, [
    condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
    condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
  ]);
const completed = (queueId: string) =>
  job(queueId, [
    condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
    condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
  ]);

test('what each Job event means for its workflow', () => {
  const id = 'wf-btcusdt-ws_trades-20261128-a1b2c3';
  const name = jobNameOf(id);
  const failure = {
    queueId: id,
    name,
    reason: `loader-ws Job ${name} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
  };
  const cases: Array<[string, keyof typeof JOB_EVENT_TYPES, JobObject, typeof failure | undefined]> = [
    ['a new Job', 'add', job(id), undefined],
    ['a running Job changed', 'update', job(id), undefined],
    ['a Job that failed', 'update', failed(id), failure],
    ['a Job found failed when the source starts', 'add', failed(id), failure],
    ['a failed Job removed (its TTL, or the manager after the failure)', 'delete', failed(id), failure],
    [
      'a running Job deleted',
      'delete',
      job(id),
      { queueId: id, name, reason: `loader-ws Job ${name} was deleted: Job ${name} was deleted while it ran` },
    ],
    ['a Job that completed (after the stop it heard)', 'update', completed(id), undefined],
    ['a completed Job removed', 'delete', completed(id), undefined],
    [
      'a failed Job that is not a loader-ws Job',
      'update',
      job(id, failed(id).status.conditions ?? [], { 'app.kubernetes.io/name': 'other' }),
      undefined,
    ],
    [
      'a failed Job without the queue-id annotation',
      'update',
      { ...failed(id), metadata: { ...failed(id).metadata, annotations: {} } },
      undefined,
    ],
  ];
  for (const [what, type, data, expected] of cases)
    assert.deepEqual(deadJobOf(JOB_EVENT_TYPES[type], data), expected, what);
});

let dir: string;
let store: Store;
let manager: Manager;
let live: LiveJobs;
const stopped: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sf-job-events-'));
  store = await openSqliteStore(join(dir, 'store.db'));
  // Nothing here consumes the commands: a producer that accepts them is enough.
  const producer = { send: async () => undefined } as unknown as EventProducer;
  const launcher: JobLauncher = {
    kind: 'kubernetes',
    launch: async (spec) => ({ name: jobNameOf(spec.queue_id), queueId: spec.queue_id, state: 'running' }),
    stop: async (queueId) => {
      stopped.push(queueId);
      return true;
    },
    get: async () => undefined,
    list: async () => [],
    close: async () => undefined,
  };
  live = createLiveJobs({ launcher, logger, failWorkflow: (queueId, reason) => manager.failWorkflow(queueId, reason) });
  manager = createManager({
    store,
    producer,
    logger,
    deadlines: parseDeadlinePolicy('5m', ''),
    onStarted: live.onStarted,
    onStopped: live.onStopped,
  });
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a failed Job ends its live workflow in error with the Job’s reason; more events for it change nothing', async () => {
  const workflow = await manager.startWorkflow({ type: 'ws_trades', symbol: 'BTCUSDT' });
  await live.onJobEvent(JOB_EVENT_TYPES.add, job(workflow.queue_id));
  assert.equal((await manager.getWorkflow(workflow.queue_id)).status, 'pending');
  await live.onJobEvent(JOB_EVENT_TYPES.update, failed(workflow.queue_id));
  const ended = await manager.getWorkflow(workflow.queue_id);
  assert.equal(ended.status, 'error');
  assert.equal(
    ended.error,
    `loader-ws Job ${jobNameOf(workflow.queue_id)} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
  );
  // The same failure again (a redelivery, the TTL's delete) leaves the workflow as it is.
  await live.onJobEvent(JOB_EVENT_TYPES.update, failed(workflow.queue_id));
  await live.onJobEvent(JOB_EVENT_TYPES.delete, failed(workflow.queue_id));
  assert.equal((await manager.getWorkflow(workflow.queue_id)).version, ended.version);
});

test('a Job deleted while its workflow runs ends it; the manager’s own delete after a stop does not', async () => {
  const running = await manager.startWorkflow({ type: 'ws_agg_trades', symbol: 'ETHUSDT' });
  await live.onJobEvent(JOB_EVENT_TYPES.delete, job(running.queue_id));
  const ended = await manager.getWorkflow(running.queue_id);
  assert.equal(ended.status, 'error');
  assert.match(ended.error ?? '', /was deleted while it ran$/);

  const stopping = await manager.startWorkflow({ type: 'ws_book_ticker', symbol: 'BTCUSDT' });
  await manager.stopWorkflow(stopping.queue_id);
  assert.ok(stopped.includes(stopping.queue_id), 'the stop deleted the Job');
  await live.onJobEvent(JOB_EVENT_TYPES.delete, job(stopping.queue_id));
  await live.onJobEvent(JOB_EVENT_TYPES.update, completed(stopping.queue_id));
  assert.equal((await manager.getWorkflow(stopping.queue_id)).status, 'stopped');
});

test('an event whose data is not a Job object is refused as malformed; a Job of no workflow changes nothing', async () => {
  await assert.rejects(live.onJobEvent(JOB_EVENT_TYPES.update, 'not a Job'), { code: 'SF_EVENT_MALFORMED' });
  const unknown = 'wf-unknown-ws_trades-20261128-zzzzzz';
  assert.equal((await live.onJobEvent(JOB_EVENT_TYPES.update, failed(unknown)))?.queueId, unknown);
  assert.equal(await store.getWorkflow(unknown), undefined);
});
