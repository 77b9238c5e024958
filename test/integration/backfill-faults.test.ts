/**
 * The backfill under faults, on real components: a stop mid-run, the connector killed, the
 * broker crashed and restarted — the store must end complete and without duplicates. This
 * stack also requires the API token, so every call here shows it in use.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBusConnection, waitForKafka, TOPICS } from '@streamforge/core/bus';
import { isAlive, readStackState, startLocalBroker } from '@streamforge/platform';
import {
  stackApi,
  startTestStack,
  testKafka,
  waitForGroupCaughtUp,
  type StackApi,
  type TestStack,
  type WorkflowView,
} from '@streamforge/testing';

const TOKEN = 's3cret-token-for-tests';
let stack: TestStack;

before(async () => {
  stack = await startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity', STREAMFORGE_API_TOKEN: TOKEN });
});
after(() => stack?.down());

const api = stackApi(() => stack.state.api_url, TOKEN);
const backfill = (on: StackApi, symbol: string, type: string, timeRange: string) =>
  on.start({ symbol, type, time_range: timeRange });
type Workflow = WorkflowView;

test('without the bearer token every API route answers 401; health and metrics stay open', async () => {
  for (const path of ['/workflows', '/collections', '/openapi.json']) {
    const response = await fetch(`${stack.state.api_url}${path}`);
    assert.equal(response.status, 401, path);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    assert.equal(((await response.json()) as { error: string }).error, 'SF_UNAUTHORIZED');
  }
  const wrong = await stackApi(() => stack.state.api_url, 'not-the-token').call('GET', '/workflows');
  assert.equal(wrong.status, 401);
  assert.equal((await fetch(`${stack.state.api_url}/health/readiness`)).status, 200);
  assert.equal((await fetch(`${stack.state.api_url}/metrics`)).status, 200);
});

test('a stop mid-run ends in stopped and the loader fetches no further pages', async () => {
  const workflow = await backfill(api, 'ADAUSDT', 'api_candles_1m', '2022-01-01:2024-01-01');
  await api.until(workflow.queue_id, 'some pages stored', (w) => (w.stored?.pages_done ?? 0) >= 5);
  const stop = await api.call<Workflow>('POST', `/workflows/${workflow.queue_id}/stop`);
  assert.equal(stop.status, 200);
  assert.equal(stop.body.status, 'stopped');
  // Every remaining page is delivered to loader-api, which now skips it.
  await waitForGroupCaughtUp(
    testKafka(),
    `${stack.prefix}loader-api-work`,
    `${stack.prefix}${TOPICS.loaderWork}`,
    120_000,
  );
  const { body } = await api.call<Workflow>('GET', `/workflows/${workflow.queue_id}`);
  assert.equal(body.status, 'stopped');
  assert.ok(
    (body.stored?.pages_done ?? 0) < (body.stored?.pages_total ?? 0),
    `stopped before the end (${body.stored?.pages_done}/${body.stored?.pages_total})`,
  );
  const again = await api.call<{ error: string }>('POST', `/workflows/${workflow.queue_id}/stop`);
  assert.equal(again.status, 409);
  const trail = await api.call<{ events: Array<{ event: { status: string } }> }>(
    'GET',
    `/workflows/${workflow.queue_id}/events?limit=5000`,
  );
  assert.ok(
    trail.body.events.some((e) => e.event.status === 'started'),
    'the trail keeps the telemetry',
  );
  const stopped = await api.call<{ workflows: Workflow[] }>('GET', '/workflows?status=stopped');
  assert.ok(stopped.body.workflows.some((w) => w.queue_id === workflow.queue_id));
});

test('every connector instance killed mid-run: the platform starts new ones and the store ends complete, without duplicates', async () => {
  const workflow = await backfill(api, 'DOGEUSDT', 'api_candles_1m', '2023-01-01:2024-01-01');
  await api.until(workflow.queue_id, 'a tenth stored', (w) => (w.stored?.pages_done ?? 0) >= 50);
  const platform = readStackState(stack.home)?.platform_url;
  const status = (await (await fetch(`${platform}/status`)).json()) as {
    functions: Array<{ name: string; instances: Array<{ pid: number; state: string }> }>;
  };
  const connectors =
    status.functions.find((f) => f.name === 'arango-connector')?.instances.filter((i) => i.state === 'ready') ?? [];
  assert.ok(connectors.length > 0 && connectors.every((i) => isAlive(i.pid)), 'the connector runs');
  for (const instance of connectors) process.kill(instance.pid, 'SIGKILL');
  const done = await api.final(workflow.queue_id, 180_000);
  assert.equal(done.status, 'completed', done.error);
  assert.equal(done.stored?.records_written, 365 * 1440);
  const { body } = await api.call<{ count: number }>('GET', `/collections/${workflow.collection_name}`);
  assert.equal(body.count, 365 * 1440);
});

test('the broker crashed and restarted mid-run: the backfill completes with exact counts', async (t) => {
  // This test crashes its broker, so it gets one of its own instead of the run's shared one.
  const dataDir = mkdtempSync(join(tmpdir(), 'sf-broker-'));
  let broker = await startLocalBroker({ dataDir });
  t.after(async () => {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));
  const own = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    KAFKA_BROKERS: broker.brokers,
  });
  t.after(() => own.down());
  const ownApi = stackApi(() => own.state.api_url);

  const workflow = await backfill(ownApi, 'LTCUSDT', 'api_candles_1m', '2023-01-01:2023-07-01');
  await ownApi.until(workflow.queue_id, 'some pages stored', (w) => (w.stored?.pages_done ?? 0) >= 20);
  // A crash, not a stop: produce requests the broker wrote lose their answers.
  await broker.kill();
  broker = await startLocalBroker({ dataDir });
  const done = await ownApi.final(workflow.queue_id, 240_000);
  assert.equal(done.status, 'completed', done.error);
  const minutes = (Date.UTC(2023, 6, 1) - Date.UTC(2023, 0, 1)) / 60_000;
  assert.equal(done.stored?.records_written, minutes);
  const { body } = await ownApi.call<{ count: number }>('GET', `/collections/${workflow.collection_name}`);
  assert.equal(body.count, minutes);
});
