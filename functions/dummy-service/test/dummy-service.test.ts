/**
 * dummy-service on a stack started with `streamforge up` on the test run's broker:
 * diagnostics (Kafka, topics, a ping round trip through queue-control.dummy-service and queue-events),
 * simulated workflows started through the manager's API, and the load generator.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPIC_PLAN } from '@streamforge/core/bus';
import { startTestStack, waitFor, type TestStack } from '@streamforge/testing';

let stack: TestStack;
let dummy: string;
let api: string;

before(async () => {
  stack = await startTestStack();
  dummy = stack.state.functions['dummy-service']?.url as string;
  api = stack.state.api_url as string;
});
after(() => stack?.down());

interface Workflow {
  queue_id: string;
  status: string;
  error?: string;
  progress: Record<string, { status: string; records_written?: number; progress?: { done: number; total?: number } }>;
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}

async function startDummy(params: Record<string, unknown>): Promise<Workflow> {
  const { status, body } = await json<Workflow>(`${api}/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ symbol: 'DUMMYUSDT', type: 'dummy_script', params }),
  });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

const finalState = (queueId: string, timeoutMs = 30_000) =>
  waitFor(
    `${queueId} to end`,
    async () => {
      const { body } = await json<Workflow>(`${api}/workflows/${queueId}`);
      return ['completed', 'error', 'stopped'].includes(body.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );

const trail = async (queueId: string) =>
  (
    await json<{ events: Array<{ event: Record<string, unknown> }> }>(`${api}/workflows/${queueId}/events`)
  ).body.events.map((e) => e.event);

test('diagnostics report Kafka reachable, every planned topic under the prefix, and a ping round trip', async () => {
  const { status, body } = await json<{
    ok: boolean;
    kafka: { ok: boolean; brokers: unknown[]; cluster_id: string };
    topics: {
      ok: boolean;
      prefix: string;
      present: Array<{ name: string; partitions: number; planned_partitions: number }>;
      missing: string[];
    };
    round_trip: { ok: boolean; latency_ms: number; ping_to_pong_ms: number; ponged_by: string; error?: string };
  }>(`${dummy}/diagnostics`);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.ok, true);
  assert.ok(body.kafka.brokers.length >= 1 && body.kafka.cluster_id);
  assert.equal(body.topics.prefix, stack.prefix);
  assert.deepEqual(body.topics.missing, []);
  assert.deepEqual(
    body.topics.present.map((t) => t.name).sort(),
    TOPIC_PLAN.map((t) => `${stack.prefix}${t.name}`).sort(),
  );
  for (const t of body.topics.present) assert.equal(t.partitions, t.planned_partitions, t.name);
  assert.equal(body.round_trip.ok, true, body.round_trip.error);
  assert.ok(body.round_trip.latency_ms > 0);
  assert.match(body.round_trip.ponged_by, /^dummy-service__/);

  // The pong reader is kept: a second check measures the round trip alone.
  const again = await json<{ ok: boolean; round_trip: { ok: boolean; latency_ms: number } }>(
    `${dummy}/diagnostics?timeout_ms=10000`,
  );
  assert.equal(again.status, 200);
  assert.equal(again.body.round_trip.ok, true);
});

test('a dummy workflow plays its script: started, loading with growing counts, finished, then completed', async () => {
  const workflow = await startDummy({ steps: 4, records_per_step: 250, interval_ms: 20 });
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'completed', done.error);
  assert.equal(done.progress['dummy-service']?.records_written, 1000);
  const events = await waitFor('the whole trail', async () => {
    const e = await trail(workflow.queue_id);
    return e.length === 6 ? e : undefined;
  });
  assert.deepEqual(
    events.map((e) => e.status),
    ['started', 'loading', 'loading', 'loading', 'loading', 'finished'],
  );
  assert.deepEqual(
    events.filter((e) => e.status === 'loading').map((e) => e.records_written),
    [250, 500, 750, 1000],
  );
  assert.equal(events.at(-1)?.events_sent, 6);
});

test('fail_after_s ends the workflow in error with the reason', async () => {
  const workflow = await startDummy({ steps: 100, interval_ms: 100, fail_after_s: 0.5 });
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'error');
  assert.match(done.error ?? '', /dummy-service: simulated failure after 0.5 s/);
});

test("parameters the script cannot play are refused by the API naming the field (dummy-service's own check, applied at the door)", async () => {
  const { status, body } = await json<{ message: string }>(`${api}/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ symbol: 'DUMMYUSDT', type: 'dummy_script', params: { steps: 'many' } }),
  });
  assert.equal(status, 400);
  assert.match(body.message, /^params\.steps: must be an integer from 0 to 1000, got "many"$/);
});

test('crash_after_s reports the crash, the process exits, and the platform brings dummy-service back', async () => {
  const workflow = await startDummy({ crash_after_s: 0.2 });
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'error');
  assert.match(done.error ?? '', /simulated crash/);
  // Restarted by the local platform on the same port: diagnostics answer again, ping included.
  const report = await waitFor(
    'dummy-service back after its crash',
    async () => {
      const { status, body } = await json<{ ok: boolean }>(`${dummy}/diagnostics?timeout_ms=5000`);
      return status === 200 ? body : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  assert.equal(report.ok, true);
  // And a script after the crash plays to the end.
  const next = await finalState((await startDummy({ steps: 1 })).queue_id);
  assert.equal(next.status, 'completed', next.error);
});

test('the load generator drives 50 concurrent workflows through the manager: every one completes and no telemetry is lost', async () => {
  const { status, body } = await json<{
    workflows: {
      started: number;
      failed_to_start: unknown[];
      by_status: Record<string, number>;
      workflows_per_second: number;
      status_latency_ms: { samples: number };
      trails: { checked: number; events: number; sent: number; lost: number; duplicated: number; unknown: number };
    };
  }>(`${dummy}/load`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      workflows: {
        count: 50,
        type: 'dummy_load',
        params: { steps: 5, records_per_step: 10 },
        api_url: api,
        timeout_ms: 120_000,
      },
    }),
  });
  assert.equal(status, 200, JSON.stringify(body));
  const load = body.workflows;
  assert.equal(load.started, 50);
  assert.deepEqual(load.failed_to_start, []);
  assert.deepEqual(load.by_status, { completed: 50 });
  // Every workflow's trail holds exactly the events dummy-service sent: started, 5 × loading, finished.
  assert.deepEqual(load.trails, { checked: 50, events: 350, sent: 350, lost: 0, duplicated: 0, unknown: 0 });
  assert.ok(load.status_latency_ms.samples >= 50);
  assert.ok(load.workflows_per_second > 0);
});

test('the load generator publishes data events at a rate and the connector stores every record', async () => {
  const { status, body } = await json<{ data: { collection: string; events_sent: number; records_sent: number } }>(
    `${dummy}/load`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { events_per_second: 20, seconds: 1, records_per_event: 50 } }),
    },
  );
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.data.events_sent, 20);
  await waitFor(
    'every generated record stored',
    async () => {
      const { status: s, body: c } = await json<{ count: number }>(`${api}/collections/${body.data.collection}`);
      return s === 200 && c.count === 1_000;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
});

test('/load checks its request: one kind of load, known fields', async () => {
  const { status, body } = await json<{ error: string; message: string }>(`${dummy}/load`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflows: { count: 0 } }),
  });
  assert.equal(status, 400);
  assert.equal(body.error, 'SF_CONTRACT_INVALID');
  assert.match(body.message, /count/);
});
