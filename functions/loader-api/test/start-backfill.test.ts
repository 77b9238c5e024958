/**
 * A start command's page plan on the real broker: a plan larger than the broker's max
 * message size lands whole on the work topic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '@streamforge/core/bus';
import type { StartCommand } from '@streamforge/core/contracts';
import type { BinanceRestClient } from '@streamforge/exchange';
import { LOCAL_BROKER_MAX_MESSAGE_BYTES } from '@streamforge/platform';
import { openStore } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import type { TelemetryEmitter } from '@streamforge/core/bus';
import { plannedTestTopics, testKafka, topicMessageCount } from '@streamforge/testing';
import { startBackfill } from '../src/backfill.ts';
import { planPages } from '@streamforge/backfill';

const command: StartCommand = {
  command: 'start',
  queue_id: 'wf-btcusdt-api_candles_1s-20240101-a1b2c3',
  target: 'loader-api',
  symbol: 'BTCUSDT',
  type: 'api_candles_1s',
  time_range: '2024-01-01:2024-04-01',
  market: 'spot',
  kafka_topic: 'data-klines',
  collection_name: 'c',
  telemetry_id: 'loader-api',
  timestamp: 1,
};
const now = Date.UTC(2025, 0, 1);

test('a quarter of 1s candles is planned as 7 863 pages, more than the broker takes in one message, and every page lands on the work topic', async (t) => {
  const pages = planPages(command, 'klines', '1s', { service: 'loader-api', now });
  assert.equal(pages.length, 7_863);
  assert.ok(JSON.stringify(pages).length > LOCAL_BROKER_MAX_MESSAGE_BYTES, 'the pages alone, without their headers');

  const kafka = testKafka('start-backfill-test');
  const { prefix, producer } = await plannedTestTopics(t, kafka, 'plan', [TOPICS.loaderWork]);
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  const exchange = { exchangeInfo: async () => ({ symbols: [{ symbol: 'BTCUSDT' }] }) } as unknown as BinanceRestClient;
  const telemetry: TelemetryEmitter = { emit: async () => {}, emitMany: async () => {} };

  const planned = await startBackfill(
    {
      exchange,
      producer,
      telemetry,
      store,
      logger: createLogger({ service: 'loader-api-test', level: 'silent' }),
      clock: () => now,
    },
    command,
  );
  assert.equal(planned, 7_863);
  assert.equal(await topicMessageCount(kafka, `${prefix}${TOPICS.loaderWork}`), 7_863);
});
