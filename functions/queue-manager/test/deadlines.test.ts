import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowRecord } from '@streamforge/core/store';
import { join } from 'node:path';
import { PROJECT_ROOT, loadKafkaSources } from '@streamforge/platform';
import { pathOf } from '../src/backlog.ts';
import { overdueReason, parseDeadlinePolicy, parseDuration, withDeadline } from '../src/deadlines.ts';

const policy = parseDeadlinePolicy('5m', 'api_*=15m,gnn_train=2h,dummy_*=90s');
const T0 = Date.UTC(2026, 0, 1);

function workflow(status: WorkflowRecord['status'], type = 'api_candles_1m'): WorkflowRecord {
  return {
    queue_id: 'wf-btcusdt-api_candles_1m-20260101-a1b2c3',
    symbol: 'BTCUSDT',
    type,
    market: 'spot',
    kafka_topic: 'data-klines',
    collection_name: 'c',
    status,
    services: ['loader-api', 'arango-connector'],
    created_at: T0,
    updated_at: T0,
    version: 1,
    progress: { 'loader-api': { status: 'loading', progress: { done: 12, total: 24, unit: 'pages' }, updated_at: T0 } },
  };
}

test('durations read as people write them, and a typo is refused naming the variable', () => {
  assert.equal(parseDuration('90s', 'x'), 90_000);
  assert.equal(parseDuration('1.5h', 'x'), 5_400_000);
  assert.throws(
    () => parseDuration('15 minutes', 'WORKFLOW_PENDING_TIMEOUT'),
    /WORKFLOW_PENDING_TIMEOUT: "15 minutes" is not a duration/,
  );
  assert.throws(() => parseDeadlinePolicy('5m', 'api_*'), /WORKFLOW_STALL_TIMEOUTS: "api_\*" is not pattern=duration/);
});

test("a pending workflow is due its pending timeout after creation; a running one its type's no-progress timeout after its latest change", () => {
  assert.equal(withDeadline(workflow('pending'), policy, T0 + 1000).deadline_at, T0 + 300_000);
  assert.equal(withDeadline(workflow('running'), policy, T0 + 1000).deadline_at, T0 + 1000 + 900_000);
  assert.equal(withDeadline(workflow('running', 'gnn_train'), policy, T0).deadline_at, T0 + 7_200_000);
  assert.equal(withDeadline(workflow('running', 'dummy_load'), policy, T0).deadline_at, T0 + 90_000);
  // A type the setting does not name keeps its default.
  assert.equal(withDeadline(workflow('running', 'ws_trades'), policy, T0).deadline_at, T0 + 600_000);
  // A live stream that reports every 5 min is not stalled after 10.
  assert.equal(
    withDeadline({ ...workflow('running', 'ws_trades'), params: { telemetry_interval_ms: 300_000 } }, policy, T0)
      .deadline_at,
    T0 + 900_000,
  );
  assert.equal(
    withDeadline({ ...workflow('running'), status: 'completed', deadline_at: 5 }, policy, T0).deadline_at,
    undefined,
  );
});

test('past its deadline a workflow is overdue, with where each service stood', () => {
  const running = withDeadline(workflow('running'), policy, T0);
  assert.equal(overdueReason(running, policy, T0 + 900_000), undefined);
  assert.equal(
    overdueReason(running, policy, T0 + 900_001),
    'no progress for 15 min (WORKFLOW_STALL_TIMEOUTS api_*); it stood at: loader-api loading 12/24 pages; arango-connector never reported',
  );
  const pending = withDeadline(workflow('pending'), policy, T0);
  assert.match(
    overdueReason(pending, policy, T0 + 300_001) ?? '',
    /^no service took it up within 5 min \(WORKFLOW_PENDING_TIMEOUT\): is loader-api deployed/,
  );
  assert.equal(overdueReason({ ...running, status: 'stopped' }, policy, T0 + 10 * 900_000), undefined);
  // Stored before deadlines existed: its latest change counts.
  const { deadline_at: _none, ...old } = running;
  assert.match(overdueReason(old, policy, T0 + 900_001) ?? '', /^no progress for 15 min/);
});

test('the backlog a workflow waits for is read from the consumer groups and topics its KafkaSources name', () => {
  const sources = loadKafkaSources(join(PROJECT_ROOT, 'kafka-sources'));
  for (const type of ['api_candles_1m', 'api_agg_trades', 'ws_depth', 'gnn_train']) {
    for (const { group, topic } of pathOf({ type })) {
      assert.ok(
        sources.some((s) => s.consumerGroup === group && s.topics.includes(topic)),
        `${type}: no KafkaSource reads ${topic} as ${group}`,
      );
    }
  }
  assert.deepEqual(
    pathOf({ type: 'api_agg_trades' }).map((p) => p.topic),
    ['queue-events', 'loader-api-work', 'data-agg-trades'],
  );
});
