import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlCommandContract } from '@streamforge/shared/contracts';
import { planWorkflow } from '../src/workflow-request.ts';

const NOW = Date.UTC(2026, 0, 1);

test('a backfill request becomes a pending workflow and a valid start command for loader-api', () => {
  const { workflow, start } = planWorkflow({ symbol: 'btcusdt', type: 'api_candles_5m', time_range: '2024-08-01:2024-08-02' }, NOW);
  assert.match(workflow.queue_id, /^wf-btcusdt-api_candles_5m-20240801-[a-z0-9]{6}$/);
  assert.equal(workflow.status, 'pending');
  assert.equal(workflow.symbol, 'BTCUSDT');
  assert.equal(workflow.kafka_topic, 'data-klines');
  assert.equal(workflow.collection_name, 'btcusdt_api_candles_5m_2024_08_01');
  assert.deepEqual(workflow.services, ['loader-api', 'arango-connector']);
  const command = controlCommandContract.parse(start.data);
  assert.equal(command.command, 'start');
  assert.equal(command.target, 'loader-api');
  assert.equal(command.telemetry_id, `loader-api__${workflow.queue_id.slice(-6)}`);
  assert.equal(start.partitionKey, 'BTCUSDT');
  assert.equal(start.subject, workflow.queue_id);
});

test('futures workflows are named apart from spot ones', () => {
  const { workflow } = planWorkflow({ symbol: 'BTCUSDT', type: 'api_candles_1m', time_range: '2022-09-05:2022-09-07', market: 'usdm' }, NOW);
  assert.match(workflow.queue_id, /^wf-btcusdt-usdm-api_candles_1m-20220905-/);
  assert.equal(workflow.collection_name, 'btcusdt_usdm_api_candles_1m_2022_09_05');
});

test('bad requests are refused with the field and the reason', () => {
  const cases: Array<[Parameters<typeof planWorkflow>[0], RegExp]> = [
    [{ symbol: 'BTCUSDT', type: 'api_candles_7m', time_range: '2024-08-01:2024-08-02' }, /unknown interval "7m"/],
    [{ symbol: 'BTCUSDT', type: 'api_orders', time_range: '2024-08-01:2024-08-02' }, /not a known workflow type/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_5m', time_range: '2024-08-02:2024-08-01' }, /is reversed/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_5m', time_range: '2024-08-01:2024-08-01' }, /is empty/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_5m' }, /time_range: is required/],
    [{ type: 'api_candles_5m', time_range: '2024-08-01:2024-08-02' }, /symbol: is required/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_5m', time_range: '2030-01-01:2030-01-02' }, /starts in the future/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_1s', time_range: '2024-08-01:2024-08-02', market: 'usdm' }, /no 1s klines/],
    // What a target would dead-letter, leaving the workflow pending or running for ever.
    [{ symbol: 'BTCUSDT', type: 'api_candles_1d', time_range: '1969-12-01:1970-01-10' }, /time_range: starts 1969-12-01, before spot had data \(2017-07-14\)/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2019-01-01:2019-01-02', market: 'usdm' }, /before usdm had data \(2019-09-08\)/],
    [{ type: 'dummy_x', symbol: 'BTCUSDT', params: { reason: 1 } }, /params\.reason: "reason" is a field of the command/],
    [{ type: 'dummy_x', symbol: 'BTCUSDT', params: { symbol: 'ETHUSDT' } }, /params\.symbol/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_5m', time_range: '2024-08-01:2024-08-02', collection_name: 'workflows' }, /collection_name: "workflows" is reserved/],
  ];
  for (const [request, expected] of cases) assert.throws(() => planWorkflow(request, NOW), expected);
});
