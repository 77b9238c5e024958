import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventProducer } from '@streamforge/core/bus';
import {
  createTestTopic,
  startNodeProcess,
  startRecordingSink,
  testKafka,
  uniqueName,
  waitFor,
} from '@streamforge/testing';
import { writeSourceManifest } from './source-manifests.ts';

const DISPATCHER = new URL('../src/dispatcher-main.ts', import.meta.url).pathname;

test('the dispatcher killed mid-stream and restarted delivers every record at least once and loses none', async (t) => {
  const kafka = testKafka();
  const topic = await createTestTopic(kafka, 'restart', 3);
  // A sink that takes a little time, so the kill lands mid-stream.
  const sink = await startRecordingSink(() => 204);
  const dir = mkdtempSync(join(tmpdir(), 'sf-sources-'));
  t.after(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });
  writeSourceManifest(dir, {
    name: 'restart-source',
    topic,
    groupId: uniqueName('group'),
    delivery: '{ retry: 3, backoffDelay: PT0.05S }',
    sink: 'recorder',
  });
  const args = ['--sources', dir, '--sink', `recorder=${sink.url}`];
  const env = { KAFKA_TOPIC_PREFIX: '', LOG_LEVEL: 'warn' };

  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  const total = 3000;
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'];
  await producer.send(
    topic,
    Array.from({ length: total }, (_, i) => ({
      id: `e-${i}`,
      type: 'dev.streamforge.test',
      source: '/test',
      partitionKey: symbols[i % 4]!,
      data: { i },
    })),
  );
  await producer.disconnect();

  const first = startNodeProcess(DISPATCHER, args, env);
  t.after(() => first.kill());
  await first.announced;
  await waitFor('some deliveries before the crash', () => sink.accepted.length >= 1500, { timeoutMs: 30_000 });
  await first.kill();
  const beforeRestart = new Set(sink.accepted.map((r) => r.headers['ce-id'])).size;
  const deliveriesBeforeRestart = sink.accepted.length;
  assert.ok(beforeRestart < total, `the crash came mid-stream (${beforeRestart} of ${total} delivered)`);

  const second = startNodeProcess(DISPATCHER, args, env);
  t.after(() => second.stop());
  await second.announced;
  await waitFor(
    `all ${total} records delivered after the restart`,
    () => new Set(sink.accepted.map((r) => r.headers['ce-id'])).size === total,
    { timeoutMs: 60_000 },
  );
  const afterRestart = sink.accepted.length - deliveriesBeforeRestart;
  t.diagnostic(
    `delivered before the crash: ${beforeRestart}; after the restart: ${afterRestart}, of which ${afterRestart - (total - beforeRestart)} again`,
  );
});
