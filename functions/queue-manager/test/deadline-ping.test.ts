/**
 * The deadline PingSource's tick (knative/deadline-ping.yaml) and what the manager makes of
 * it: the workflows past their deadline end in `error` with the deadline's reason, once,
 * however many ticks (or timer sweeps) run at the same time; a workflow within its deadline
 * and one already ended are left as they are. First on the manager and a real SQLite store,
 * then through the real function module served by the real runtime, as the PingSource
 * delivers it (binary mode), on the run's Kafka broker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTopics, type EventProducer } from '@streamforge/core/bus';
import { PING_EVENT_TYPE, pingSourceOf } from '@streamforge/core/contracts';
import { serveFunction, type FunctionModule } from '@streamforge/core/runtime';
import { openSqliteStore, type Store, type WorkflowRecord } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { testKafka, uniqueName } from '@streamforge/testing';
import { parseDeadlinePolicy } from '../src/deadlines.ts';
import { createManager } from '../src/manager.ts';

const logger = createLogger({ service: 'deadline-ping-test', level: 'silent' });
const T0 = Date.UTC(2026, 11, 7, 10);

function workflow(queueId: string, status: WorkflowRecord['status'], updatedAt: number): WorkflowRecord {
  return {
    queue_id: queueId,
    symbol: 'BTCUSDT',
    type: 'dummy_stall',
    market: 'spot',
    kafka_topic: 'data-klines',
    collection_name: 'btcusdt_dummy_stall',
    status,
    services: ['dummy-service'],
    created_at: updatedAt,
    updated_at: updatedAt,
    version: 1,
    progress: { 'dummy-service': { status: 'started', updated_at: updatedAt } },
    // The no-progress timeout below (1 min) from its latest change.
    ...(status === 'running' ? { deadline_at: updatedAt + 60_000 } : {}),
  };
}

let dir: string;
let store: Store;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sf-deadline-ping-'));
  store = await openSqliteStore(join(dir, 'store.sqlite'));
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('overdue workflows end once when several sweeps run at the same time; the others stay', async () => {
  let now = T0;
  const stopped: string[] = [];
  const manager = createManager({
    store,
    producer: { send: async () => undefined } as unknown as EventProducer,
    logger,
    clock: () => now,
    deadlines: parseDeadlinePolicy('5m', 'dummy_stall=1m'),
    onStopped: async (w) => {
      stopped.push(w.queue_id);
    },
  });
  const stalled = workflow('wf-btcusdt-dummy_stall-20261207-aaaaaa', 'running', T0);
  const moving = workflow('wf-btcusdt-dummy_stall-20261207-bbbbbb', 'running', T0 + 3 * 60_000);
  const done = { ...workflow('wf-btcusdt-dummy_stall-20261207-cccccc', 'completed', T0) };
  for (const w of [stalled, moving, done]) await store.createWorkflow(w);
  // Three minutes later: past the stalled one's deadline by two (more than its grace, so no backlog is asked).
  now = T0 + 3 * 60_000 + 1;
  const ended = await Promise.all([manager.endOverdue(), manager.endOverdue(), manager.endOverdue()]);
  assert.equal(
    ended.reduce((a, b) => a + b, 0),
    1,
    'one sweep ended it, the others found it ended',
  );
  const after = await store.getWorkflow(stalled.queue_id);
  assert.equal(after?.status, 'error');
  assert.match(
    after?.error ?? '',
    /^no progress for 1 min \(WORKFLOW_STALL_TIMEOUTS dummy_stall\); it stood at: dummy-service started/,
  );
  assert.deepEqual(stopped, [stalled.queue_id], 'its work was stopped once');
  assert.equal((await store.getWorkflow(moving.queue_id))?.status, 'running');
  assert.equal((await store.getWorkflow(done.queue_id))?.status, 'completed');
  // Another tick changes nothing.
  assert.equal(await manager.endOverdue(), 0);
  assert.equal((await store.getWorkflow(stalled.queue_id))?.version, after?.version);
});

test('the function answers a PingSource tick by ending what is overdue; other event types stay refused', {
  skip: process.env.STREAMFORGE_TEST_NO_KAFKA === '1' ? 'needs the Kafka broker' : false,
}, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'sf-deadline-ping-fn-'));
  const prefix = `${uniqueName('ping')}.`;
  await ensureTopics(testKafka(), { prefix });
  // The module reads its configuration at init. Its own timer would not sweep within the test:
  // only the ticks end workflows here.
  Object.assign(process.env, {
    KAFKA_TOPIC_PREFIX: prefix,
    STORE_URL: `sqlite:${join(home, 'store.sqlite')}`,
    STREAMFORGE_HOME: home,
    JOB_LAUNCHER: 'local',
    STREAMFORGE_API_TOKEN: '',
    WORKFLOW_STALL_TIMEOUTS: 'dummy_stall=1s',
    WORKFLOW_DEADLINE_CHECK_MS: '3600000',
  });
  await import('@streamforge/platform/local-integrations');
  const module = (await import('../src/index.ts')) as FunctionModule;
  const running = await serveFunction(module, { name: 'queue-manager', port: 0, host: '127.0.0.1', logger });
  const own = await openSqliteStore(join(home, 'store.sqlite'));
  t.after(async () => {
    await own.close();
    await running.close();
    rmSync(home, { recursive: true, force: true });
  });
  // Its deadline a minute ago (1 s timeout): past any grace.
  const stalled = workflow('wf-btcusdt-dummy_stall-20261207-dddddd', 'running', Date.now() - 61_000);
  await own.createWorkflow({ ...stalled, deadline_at: Date.now() - 60_000 });

  const ping = (type = PING_EVENT_TYPE) =>
    fetch(running.url, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': crypto.randomUUID(),
        'ce-type': type,
        'ce-source': pingSourceOf('streamforge', 'queue-manager-deadlines'),
        'content-type': 'application/json',
      },
      body: '{"check":"deadlines"}',
    });
  // Ticks that meet (a slow sweep and the next tick): each answered, the workflow ended once.
  const answers = await Promise.all([ping(), ping(), ping()]);
  assert.deepEqual(
    answers.map((r) => r.status >= 200 && r.status < 300),
    [true, true, true],
  );
  const ended = await own.getWorkflow(stalled.queue_id);
  assert.equal(ended?.status, 'error');
  assert.match(ended?.error ?? '', /^no progress for 1 s \(WORKFLOW_STALL_TIMEOUTS dummy_stall\)/);
  assert.equal(ended?.version, stalled.version + 1, 'one change: ended once');

  const other = await ping('dev.knative.sources.other');
  assert.equal(other.status, 400);
  assert.match(await other.text(), /queue-manager does not handle dev\.knative\.sources\.other/);
});
