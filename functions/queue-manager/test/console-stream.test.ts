/**
 * The console's live stream: each workflow version pushed once, and changes applied by
 * another manager instance reaching a browser connected to this one (the event tail).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowRecord } from '@streamforge/core/store';
import { freePort } from '@streamforge/platform';
import { serveFunction, type FunctionModule, type RunningFunction } from '@streamforge/core/runtime';
import { createLogger } from '@streamforge/core/telemetry';
import { openWorkflowStream } from '@streamforge/load';
import { startTestStack, waitFor, type TestStack } from '@streamforge/testing';
import { createWorkflowHub, type ConsoleClient } from '../src/console/hub.ts';

const workflow = (version: number, status: WorkflowRecord['status'] = 'running'): WorkflowRecord => ({
  queue_id: 'wf-dummyusdt-dummy_x-20240801-a1b2c3',
  symbol: 'DUMMYUSDT',
  type: 'dummy_x',
  market: 'spot',
  kafka_topic: '',
  collection_name: 'dummyusdt_dummy_x_2024_08_01',
  status,
  services: ['dummy-service'],
  progress: {},
  created_at: 1,
  updated_at: version,
  version,
});

function recordingClient(): ConsoleClient & { messages: Array<{ event: string; data: unknown }> } {
  const messages: Array<{ event: string; data: unknown }> = [];
  return {
    messages,
    send: (event, data) => {
      messages.push({ event, data });
      return true;
    },
    close: () => undefined,
  };
}

test('the hub pushes each workflow version once, in whichever order the versions arrive', () => {
  const hub = createWorkflowHub();
  const client = recordingClient();
  hub.subscribe(client);
  hub.publish(workflow(2));
  hub.publish(workflow(2)); // the same version again, from the event tail
  hub.publish(workflow(1)); // an older one, late
  hub.publish(workflow(3, 'completed'));
  assert.deepEqual(
    client.messages.map((m) => (m.data as WorkflowRecord).version),
    [2, 3],
  );
});

test('the hub starts its watchers with the first browser and says when the last one left', () => {
  const hub = createWorkflowHub();
  const calls: string[] = [];
  hub.onFirstClient(() => calls.push('first'));
  hub.onLastClientGone(() => calls.push('gone'));
  const a = hub.subscribe(recordingClient());
  const b = hub.subscribe(recordingClient());
  a();
  b();
  b();
  assert.deepEqual(calls, ['first', 'gone']);
  assert.equal(hub.clients(), 0);
});

let stack: TestStack;
let second: RunningFunction;

before(async () => {
  stack = await startTestStack();
  // A second manager instance on the same Kafka topics and store, as a cluster runs several.
  // The stack's KafkaSource delivers queue-events to the first instance only, so whatever
  // telemetry this one shows, it learnt through its event tail.
  process.env.KAFKA_TOPIC_PREFIX = stack.prefix;
  process.env.STORE_URL = stack.state.store_url;
  process.env.JOB_LAUNCHER = 'local';
  await import('@streamforge/platform/local-integrations');
  const module = (await import('../src/index.ts')) as FunctionModule;
  second = await serveFunction(module, {
    name: 'queue-manager',
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ service: 'queue-manager-second', level: 'warn' }),
  });
});

after(async () => {
  await second?.close();
  await stack?.down();
});

test('a browser on one manager instance sees the telemetry another instance applied, up to the final status', async () => {
  const stream = await openWorkflowStream({ apiUrl: second.url });
  try {
    const response = await fetch(`${second.url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        symbol: 'DUMMYUSDT',
        type: 'dummy_tail',
        params: { steps: 3, records_per_step: 10, interval_ms: 100 },
      }),
    });
    assert.equal(response.status, 201);
    const { queue_id: id } = (await response.json()) as WorkflowRecord;
    const done = await stream.waitFor(id, (w) => w.status === 'completed', 30_000);
    assert.equal(done.workflow.progress['dummy-service']?.records_written, 30);
    // Whatever versions came through, each came once and in order. Which intermediate ones a
    // browser sees depends on timing (the manager that applies them may start cold and apply a
    // burst at once), so none but the final one is required.
    const versions = stream.updates.filter((u) => u.workflow.queue_id === id).map((u) => u.workflow.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    assert.equal(new Set(versions).size, versions.length);
  } finally {
    stream.close();
  }
  // The first instance, which applied the telemetry, agrees.
  await waitFor('the first instance to show it completed', async () => {
    const { workflows } = (await (await fetch(`${stack.state.api_url}/workflows?limit=5`)).json()) as {
      workflows: WorkflowRecord[];
    };
    return workflows.some((w) => w.type === 'dummy_tail' && w.status === 'completed');
  });
});

test('the platform status proxy says why there is nothing to show: no platform configured (404) or not answering (503)', async () => {
  const unset = await fetch(`${second.url}/platform/status`);
  assert.equal(unset.status, 404);
  assert.match(((await unset.json()) as { message: string }).message, /STREAMFORGE_PLATFORM_URL is not set/);
  process.env.STREAMFORGE_PLATFORM_URL = `http://127.0.0.1:${await freePort()}`;
  try {
    const down = await fetch(`${second.url}/platform/status`);
    assert.equal(down.status, 503);
    assert.match(((await down.json()) as { message: string }).message, /platform status at .* is unavailable/);
  } finally {
    delete process.env.STREAMFORGE_PLATFORM_URL;
  }
});

test('the stream and the platform status are documented in /openapi.json; the page is not', async () => {
  const { paths } = (await (await fetch(`${second.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(paths['/console/stream'] && paths['/platform/status']);
  assert.equal(paths['/console'], undefined);
});

test('500 browsers that connect and drop leave no console client, no request in flight and no extra manager instance', async () => {
  const metric = async (): Promise<number> => {
    const text = await (await fetch(`${stack.state.api_url}/metrics`)).text();
    return Number(/^streamforge_console_clients(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN);
  };
  const manager = async () =>
    (
      (await (await fetch(`${stack.state.platform_url}/status`)).json()) as {
        functions: Array<{ name: string; instances: Array<{ in_flight: number }> }>;
      }
    ).functions.find((f) => f.name === 'queue-manager')?.instances ?? [];
  let opened = 0;
  const connectAndDrop = async (): Promise<void> => {
    const gone = new AbortController();
    // Held streams fill the instance's 128 slots, and then the API stops answering: fail, do not hang.
    const timer = setTimeout(
      () => gone.abort(new Error(`the API stopped answering after ${opened} streams were opened and dropped`)),
      15_000,
    );
    try {
      const response = await fetch(`${stack.state.api_url}/console/stream`, { signal: gone.signal });
      await response.body!.getReader().read(); // the snapshot began: the stream is open upstream
      opened++;
    } finally {
      clearTimeout(timer);
      gone.abort();
    }
  };
  // 25 at a time, as a page of tabs would.
  for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 25 }, connectAndDrop));
  await waitFor(
    'every dropped stream released by the activator and the manager',
    async () => (await metric()) === 0 && (await manager()).every((i) => i.in_flight === 0),
    { timeoutMs: 20_000 },
  );
  assert.equal((await manager()).length, 1, 'one manager instance, as before');
});

test('an instance shutting down ends the open streams instead of waiting for them', async () => {
  const stream = await openWorkflowStream({ apiUrl: second.url });
  await second.close();
  stream.close();
  const answered = await fetch(`${second.url}/health/liveness`).then(
    () => true,
    () => false,
  );
  assert.equal(answered, false, 'the server is closed');
});
