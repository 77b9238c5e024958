import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  TOPICS,
  TOPIC_PLAN,
  controlTopicOf,
  createEventProducer,
  ensureTopics,
  startEventConsumer,
} from '@streamforge/core/bus';
import { EVENT_TYPES, type DataBatch, type TelemetryEvent } from '@streamforge/core/contracts';
import { anchoredTime, exchangeTimeOrigin } from '@streamforge/exchange';
import { attachWebSocketSide, startExchangeSimulator } from '@streamforge/simulator';
import { startNodeProcess, testBrokers, testKafka, uniqueName, waitFor } from '@streamforge/testing';

const JOB = fileURLToPath(new URL('../src/job.ts', import.meta.url));
const START = Date.UTC(2025, 0, 6, 10, 0, 0);

/** A simulator, fresh topics, a reader of telemetry and data, and the environment a Job gets from its launcher. */
async function setup(t: TestContext, symbols: string) {
  const factor = 20;
  const wall = Date.now();
  const time = anchoredTime(factor, START, wall);
  const sim = await startExchangeSimulator({ clock: time.now, weightLimit: Infinity });
  const side = attachWebSocketSide(sim);
  const prefix = `${uniqueName('job')}.`;
  const kafka = testKafka();
  await ensureTopics(kafka, { prefix, plan: TOPIC_PLAN.map((spec) => ({ ...spec, partitions: 1 })) });
  const telemetry: TelemetryEvent[] = [];
  const batches: DataBatch[] = [];
  const reader = await startEventConsumer({
    connection: kafka,
    groupId: uniqueName('job-reader'),
    topics: [`${prefix}${TOPICS.events}`, `${prefix}${TOPICS.dataAggTrades}`],
    handle: async (event) => {
      if (event.type === EVENT_TYPES.telemetry) telemetry.push(event.data as TelemetryEvent);
      else batches.push(event.data as DataBatch);
    },
  });
  const producer = await createEventProducer(kafka, { topicPrefix: prefix });
  const queueId = uniqueName('wf-job').toLowerCase();
  t.after(async () => {
    await reader.stop();
    await producer.disconnect();
    await side.close();
    await sim.close();
  });
  const env: NodeJS.ProcessEnv = {
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    BINANCE_SPOT_URL: sim.url,
    BINANCE_USDM_URL: sim.url,
    BINANCE_SPOT_WS_URL: side.urls.spot,
    BINANCE_USDM_WS_URL: side.urls.usdm,
    EXCHANGE_TIME_FACTOR: String(factor),
    EXCHANGE_TIME_ORIGIN: exchangeTimeOrigin(START, wall),
    QUEUE_ID: queueId,
    TYPE: 'ws_agg_trades',
    SYMBOLS: symbols,
    MARKET: 'spot',
    COLLECTION_NAME: 'job_test',
    LOADER_WS_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
  };
  return { env, queueId, telemetry, batches, producer };
}

/** loader-ws as its launcher runs it (it announces nothing on stdout: it logs). */
function startJob(t: TestContext, env: NodeJS.ProcessEnv) {
  const job = startNodeProcess(JOB, [], env);
  t.after(() => job.kill());
  return job;
}

test('a stop command for its queue_id ends the Job: it flushes, reports stopped and exits 0', async (t) => {
  const { env, queueId, telemetry, batches, producer } = await setup(t, 'ETHUSDT,BNBUSDT');
  const job = startJob(t, env);
  await waitFor('started telemetry', () => telemetry.some((e) => e.status === 'started'), { timeoutMs: 30_000 });
  await waitFor('trades of both symbols', () =>
    ['ETHUSDT', 'BNBUSDT'].every((s) => batches.some((b) => b.symbol === s)),
  );
  const other = { command: 'stop', queue_id: 'wf-someone-else-000000', timestamp: Date.now() / 1000 };
  const stop = { command: 'stop', queue_id: queueId, reason: 'test', timestamp: Date.now() / 1000 };
  await producer.send(
    controlTopicOf('loader-ws'),
    [other, stop].map((data) => ({
      type: EVENT_TYPES.controlStop,
      source: '/streamforge/test',
      subject: data.queue_id,
      partitionKey: 'x',
      data,
    })),
  );
  assert.equal(await job.exited, 0, job.output());
  await waitFor('stopped telemetry', () => telemetry.some((e) => e.status === 'stopped'));
  const stopped = telemetry.find((e) => e.status === 'stopped')!;
  assert.equal(stopped.finished, true);
  assert.equal(stopped.queue_id, queueId);
  assert.match(String(stopped.message), /^stopped \(test\)/);
  const published = stopped.records_published as number;
  await waitFor(
    'every published record read back',
    () => batches.reduce((n, b) => n + (b.records?.length ?? 0), 0) >= published,
  );
  assert.ok(published > 0);
});

test('SIGTERM (the manager deleting the Job) ends it the same way', async (t) => {
  const { env, telemetry } = await setup(t, 'ETHUSDT');
  const job = startJob(t, env);
  await waitFor('started telemetry', () => telemetry.some((e) => e.status === 'started'), { timeoutMs: 30_000 });
  assert.equal(await job.stop(), 0, job.output());
  await waitFor('stopped telemetry', () =>
    telemetry.some((e) => e.status === 'stopped' && /SIGTERM/.test(String(e.message))),
  );
});

test('an unknown symbol is reported as a permanent error and the Job exits 2, which its FailJob rule does not retry', async (t) => {
  const { env, telemetry } = await setup(t, 'NOPEUSDT');
  const job = startJob(t, env);
  assert.equal(await job.exited, 2, job.output());
  await waitFor('error telemetry', () => telemetry.find((e) => e.status === 'error'));
  const error = telemetry.find((e) => e.status === 'error')!;
  assert.equal(error.error?.retryable, false);
  assert.match(String(error.message), /NOPEUSDT/);
});
