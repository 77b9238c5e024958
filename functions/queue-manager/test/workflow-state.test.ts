import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TelemetryEvent } from '@streamforge/core/contracts';
import type { WorkflowRecord } from '@streamforge/core/store';
import { applyStop, applyTelemetry } from '../src/workflow-state.ts';

const base: WorkflowRecord = {
  queue_id: 'wf-btcusdt-api_candles_5m-20240801-a1b2c3',
  symbol: 'BTCUSDT',
  type: 'api_candles_5m',
  market: 'spot',
  time_range: '2024-08-01:2024-08-02',
  kafka_topic: 'data-klines',
  collection_name: 'btcusdt_api_candles_5m_2024_08_01',
  status: 'pending',
  services: ['loader-api', 'arango-connector'],
  progress: {},
  created_at: 1,
  updated_at: 1,
  version: 1,
};

const event = (
  producer: string,
  status: TelemetryEvent['status'],
  extra: Partial<TelemetryEvent> = {},
): TelemetryEvent => ({
  queue_id: base.queue_id,
  producer: `${producer}__a1b2c3`,
  status,
  timestamp: 1722500000,
  ...extra,
});

function run(events: TelemetryEvent[], start = base): WorkflowRecord {
  return events.reduce((w, e) => applyTelemetry(w, e, 2) ?? w, start);
}

test('the first telemetry moves a pending workflow to running', () => {
  assert.equal(run([event('loader-api', 'started')]).status, 'running');
});

test('a workflow completes only when every service reported finished', () => {
  const loaderDone = run([event('loader-api', 'started'), event('loader-api', 'finished')]);
  assert.equal(loaderDone.status, 'running');
  assert.equal(run([event('arango-connector', 'finished')], loaderDone).status, 'completed');
});

test('a duplicate or a late event never moves a workflow back', () => {
  const done = run([event('loader-api', 'finished'), event('arango-connector', 'finished', { records_written: 288 })]);
  assert.equal(done.status, 'completed');
  assert.equal(applyTelemetry(done, event('arango-connector', 'loading', { records_written: 100 })), undefined);
  assert.equal(applyTelemetry(done, event('loader-api', 'error', { message: 'late' })), undefined);
});

test('counts and progress only grow, whatever order instances report in', () => {
  const w = run([
    event('arango-connector', 'loading', { records_written: 500, progress: { done: 5, total: 10, unit: 'pages' } }),
    event('arango-connector', 'loading', { records_written: 300, progress: { done: 3, total: 10, unit: 'pages' } }),
  ]);
  assert.equal(w.progress['arango-connector']?.records_written, 500);
  assert.equal(w.progress['arango-connector']?.progress?.done, 5);
});

test('an error that is final fails the workflow with the service and the reason; a retryable one does not', () => {
  const retrying = run([event('loader-api', 'error', { error: { message: 'timeout', retryable: true } })]);
  assert.equal(retrying.status, 'running');
  const failed = run([
    event('loader-api', 'error', {
      message: 'Invalid symbol.',
      error: { code: 'SF_EXCHANGE_REJECTED', message: 'Invalid symbol.', retryable: false },
    }),
  ]);
  assert.equal(failed.status, 'error');
  assert.equal(failed.error, 'loader-api: Invalid symbol.');
});

test('a retryable error, then finished from every service, completes the workflow', () => {
  const retried = run([
    event('loader-api', 'error', { error: { message: 'exchange timeout', retryable: true } }),
    event('loader-api', 'finished'),
    event('arango-connector', 'finished', { records_written: 288 }),
  ]);
  assert.equal(retried.status, 'completed');
  assert.equal(retried.progress['loader-api']?.status, 'finished');
});

test('the seed status interrupted stops a workflow', () => {
  assert.equal(run([event('loader-api', 'interrupted')]).status, 'stopped');
});

test('a stop request is final at once and bumps the version for compare-and-set', () => {
  const running = run([event('loader-api', 'started')]);
  const stopped = applyStop(running, 'stopped by request', 3);
  assert.equal(stopped?.status, 'stopped');
  assert.equal(stopped?.version, running.version + 1);
  assert.equal(applyTelemetry(stopped!, event('arango-connector', 'finished')), undefined);
  assert.equal(applyStop(stopped!, 'again'), undefined);
});

test('pongs are diagnostics, not workflow progress', () => {
  assert.equal(applyTelemetry(base, event('dummy-service', 'pong')), undefined);
});

test('records refused as impossible are counted apart from those written, and the count never shrinks', () => {
  const w = run([
    event('arango-connector', 'loading', { records_written: 900, rejected: 2 }),
    event('arango-connector', 'loading', { records_written: 1000, rejected: 1 }),
  ]);
  assert.deepEqual(
    [w.progress['arango-connector']?.records_written, w.progress['arango-connector']?.rejected],
    [1000, 2],
  );
  assert.equal(
    run([event('arango-connector', 'loading', { records_written: 5 })]).progress['arango-connector']?.rejected,
    undefined,
  );
});
