/**
 * The local platform's scaling on real parts: function instances as processes behind an
 * activator, the KafkaSource dispatcher, a real broker, the autoscaler reading lag.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventProducer } from '@streamforge/core/bus';
import { createLogger } from '@streamforge/core/telemetry';
import { startActivator } from '../src/activator.ts';
import { createAutoscaler } from '../src/autoscaler.ts';
import { createDispatcher } from '../src/dispatcher.ts';
import { createFunctionPool, type FunctionPool } from '../src/function-pool.ts';
import { PROJECT_ROOT } from '../src/kafka-broker.ts';
import type { MachineCpus } from '../src/machine-cpus.ts';
import { loadKafkaSinks, loadKafkaSources } from '../src/manifests.ts';
import { createTestTopic, startRecordingSink, testKafka, uniqueName, waitFor } from '@streamforge/testing';
import { writeSourceManifest } from './source-manifests.ts';

const logger = createLogger({ service: 'platform-test', level: 'warn' });
const RECORDER = new URL('./fixtures/recorder-function.ts', import.meta.url).pathname;

async function setup(t: TestContext, annotations: string, delayMs = 0, partitions = 3, cpus?: MachineCpus) {
  const kafka = testKafka();
  const topic = await createTestTopic(kafka, 'scale', partitions);
  const sink = await startRecordingSink(() => 204);
  const dir = mkdtempSync(join(tmpdir(), 'sf-scale-'));
  const pool: FunctionPool = createFunctionPool({
    name: 'recorder',
    min: 0,
    max: 0,
    command: process.execPath,
    args: [join(PROJECT_ROOT, 'packages', 'core', 'src', 'runtime', 'main.ts'), RECORDER, '--name', 'recorder'],
    cwd: PROJECT_ROOT,
    env: { ...process.env, RECORD_URL: sink.url, LOG_LEVEL: 'warn', DELAY_MS: String(delayMs) },
    logsDir: dir,
    logger,
  });
  const activator = await startActivator(pool, { logger });
  writeSourceManifest(dir, {
    name: 'scale-source',
    annotations,
    topic,
    groupId: uniqueName('scale-group'),
    delivery: '{ retry: 10, backoffPolicy: exponential, backoffDelay: PT0.1S }',
    sink: 'recorder',
  });
  const sources = loadKafkaSources(dir);
  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  const dispatcher = createDispatcher({
    connection: kafka,
    sources,
    kafkaSinks: loadKafkaSinks(dir),
    producer,
    logger,
    prefix: '',
    resolveSink: async () => activator.url,
  });
  const autoscaler = createAutoscaler({
    connection: kafka,
    sources,
    pools: new Map([['recorder', pool]]),
    prefix: '',
    logger,
    pollingIntervalMs: 300,
    cooldownMs: 1_500,
    ...(cpus ? { cpus } : {}),
  });
  t.after(async () => {
    await autoscaler.stop();
    await dispatcher.stop();
    await pool.stopAll();
    await activator.close();
    await producer.disconnect();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { kafka, topic, sink, pool, activator, producer, dispatcher, autoscaler };
}

type Setup = Awaited<ReturnType<typeof setup>>;

const received = (sink: { accepted: Array<{ body: string }> }) =>
  sink.accepted.map((r) => JSON.parse(r.body) as { id: string; data: { key: string; n: number }; instance: string });

/** `total` events over `keys` in turn; each key's `n` counts 0, 1, 2 … so its order can be checked. */
async function sendKeyed(s: Setup, keys: readonly string[], total: number): Promise<void> {
  await s.producer.send(
    s.topic,
    Array.from({ length: total }, (_, i) => ({
      id: `e-${i}`,
      type: 'dev.streamforge.test',
      source: '/test',
      partitionKey: keys[i % keys.length]!,
      data: { key: keys[i % keys.length], n: Math.floor(i / keys.length) },
    })),
  );
}

/** Waits until all `total` events were handled; answers the most instances `count` saw meanwhile. */
async function untilAllHandled(s: Setup, total: number, count: () => number): Promise<number> {
  let most = 0;
  await waitFor(
    `all ${total} events handled`,
    () => {
      most = Math.max(most, count());
      return new Set(received(s.sink).map((r) => r.id)).size === total;
    },
    { timeoutMs: 90_000, intervalMs: 20 },
  );
  return most;
}

test('a function at zero starts on the first event, scales out by lag over its partitions, and returns to zero after the cooldown', async (t) => {
  // Two busy cores, whatever machine runs the test: the function gets 2 instances (scale-placement.ts).
  const s = await setup(
    t,
    '"autoscaling.eventing.knative.dev/lag-threshold": "20", "autoscaling.eventing.knative.dev/max-scale": "3"',
    0,
    3,
    { cores: 2, idleShare: () => 0 },
  );
  assert.equal(s.pool.instances().length, 0, 'nothing runs before work arrives');
  await s.dispatcher.start();
  await s.dispatcher.ready();
  await s.autoscaler.start();
  // Enough keys to reach every partition: partition p goes to instance p mod 2.
  const keys = [
    'BTCUSDT',
    'ETHUSDT',
    'SOLUSDT',
    'BNBUSDT',
    'XRPUSDT',
    'ADAUSDT',
    'DOGEUSDT',
    'LTCUSDT',
    'TRXUSDT',
    'DOTUSDT',
    'AVAXUSDT',
    'LINKUSDT',
  ];
  await sendKeyed(s, keys, 600);
  const most = await untilAllHandled(s, 600, () => s.pool.routable().length);
  assert.ok(most > 1, `scaled out above one instance (most: ${most})`);
  assert.ok(new Set(received(s.sink).map((r) => r.instance)).size > 1, 'the partitions were spread over the instances');
  await waitFor('back to zero after the cooldown', () => s.pool.instances().length === 0, { timeoutMs: 30_000 });
  const decisions = s.autoscaler.decisions();
  assert.ok(
    decisions.some((d) => d.to > d.from && /lag \d+ on scale-source \/ lag-threshold 20/.test(d.reason)),
    JSON.stringify(decisions),
  );
  assert.ok(
    decisions.some((d) => d.to === 0 && /no lag and no requests for 2 s/.test(d.reason)),
    JSON.stringify(decisions),
  );
});

test('on a machine whose cores are busy, lag scales a function to one instance per core and no further', async (t) => {
  // One core, never idle: the lag below asks for 3 instances.
  const s = await setup(
    t,
    '"autoscaling.eventing.knative.dev/lag-threshold": "20", "autoscaling.eventing.knative.dev/max-scale": "3"',
    0,
    3,
    { cores: 1, idleShare: () => 0 },
  );
  await sendKeyed(
    s,
    Array.from({ length: 6 }, (_, k) => `k${k}`),
    600,
  );
  // The autoscaler sees the lag before the dispatcher delivers (which would start an instance from zero itself).
  await s.autoscaler.start();
  await waitFor('the lag seen', () => s.autoscaler.decisions().length > 0);
  await s.dispatcher.start();
  await s.dispatcher.ready();
  const most = await untilAllHandled(s, 600, () => s.pool.instances().length);
  assert.equal(most, 1, 'one instance on the one busy core');
  const held = s.autoscaler
    .decisions()
    .find((d) => d.to > d.from && /held at 1: the machine's one core is 100 % busy/.test(d.reason));
  assert.ok(held, JSON.stringify(s.autoscaler.decisions()));
  assert.match(held.reason, /lag \d+ on scale-source \/ lag-threshold 20 → [23]/);
});

test('instances coming and going lose no event and keep each key in order', async (t) => {
  const s = await setup(t, '"autoscaling.eventing.knative.dev/lag-threshold": "1000"', 10);
  await s.dispatcher.start();
  await s.dispatcher.ready();
  const keys = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
  const total = 900;
  await sendKeyed(s, keys, total);
  // Churn while the stream flows: out to three, kill one mid-request, back to one.
  await waitFor('the stream under way', () => s.sink.accepted.length > 50, { timeoutMs: 30_000, intervalMs: 5 });
  await s.pool.scaleTo(3);
  await waitFor('more of the stream', () => s.sink.accepted.length > 300, { timeoutMs: 30_000, intervalMs: 5 });
  const victim = s.pool.routable()[1]!;
  process.kill(victim.pid!, 'SIGKILL');
  await waitFor('most of the stream', () => s.sink.accepted.length > 600, { timeoutMs: 30_000, intervalMs: 5 });
  await s.pool.scaleTo(1);
  await waitFor(`all ${total} events handled`, () => new Set(received(s.sink).map((r) => r.id)).size === total, {
    timeoutMs: 90_000,
  });
  for (const key of keys) {
    // At-least-once: a delivery whose answer was lost comes again right after itself.
    const seen = received(s.sink)
      .filter((r) => r.data.key === key)
      .map((r) => r.data.n)
      .filter((n, i, all) => i === 0 || n !== all[i - 1]);
    assert.deepEqual(
      seen,
      Array.from({ length: total / 3 }, (_, i) => i),
      `${key} in order, none lost`,
    );
  }
  const byInstance = new Map<string, number>();
  for (const r of received(s.sink)) byInstance.set(r.instance, (byInstance.get(r.instance) ?? 0) + 1);
  assert.ok(byInstance.size >= 2, `handled by several instances: ${JSON.stringify([...byInstance])}`);
});
