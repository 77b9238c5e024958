import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlCommandContract } from '@streamforge/core/contracts';
import { planWorkflow } from '../src/workflow-request.ts';

const NOW = Date.UTC(2026, 0, 1);

test('a backfill request becomes a pending workflow and a valid start command for loader-api', () => {
  const { workflow, start } = planWorkflow(
    { symbol: 'btcusdt', type: 'api_candles_5m', time_range: '2024-08-01:2024-08-02' },
    NOW,
  );
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
  const { workflow } = planWorkflow(
    { symbol: 'BTCUSDT', type: 'api_candles_1m', time_range: '2022-09-05:2022-09-07', market: 'usdm' },
    NOW,
  );
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
    [
      { symbol: 'BTCUSDT', type: 'api_candles_1s', time_range: '2024-08-01:2024-08-02', market: 'usdm' },
      /no 1s klines/,
    ],
    // What a target would dead-letter, leaving the workflow pending or running for ever.
    [
      { symbol: 'BTCUSDT', type: 'api_candles_1d', time_range: '1969-12-01:1970-01-10' },
      /time_range: starts 1969-12-01, before spot had data \(2017-07-14\)/,
    ],
    [
      { symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2019-01-01:2019-01-02', market: 'usdm' },
      /before usdm had data \(2019-09-08\)/,
    ],
    [
      { type: 'dummy_x', symbol: 'BTCUSDT', params: { reason: 1 } },
      /params\.reason: "reason" is a field of the command/,
    ],
    [{ type: 'dummy_x', symbol: 'BTCUSDT', params: { symbol: 'ETHUSDT' } }, /params\.symbol/],
    [
      { symbol: 'BTCUSDT', type: 'api_candles_5m', time_range: '2024-08-01:2024-08-02', collection_name: 'workflows' },
      /collection_name: "workflows" is reserved/,
    ],
  ];
  for (const [request, expected] of cases) assert.throws(() => planWorkflow(request, NOW), expected);
});

/** A request's message when the door refuses it (planWorkflow throws what the API answers with 400). */
function refusal(request: Parameters<typeof planWorkflow>[0]): string {
  try {
    planWorkflow(request, NOW);
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'SF_CONTRACT_INVALID');
    return (error as Error).message;
  }
  assert.fail(`accepted: ${JSON.stringify(request).slice(0, 200)}`);
}

const GRAPH = { type: 'graph_correlation', symbols: ['BTCUSDT', 'ETHUSDT'], time_range: '2025-11-01:2025-12-01' };

test('a time range that ends after now is refused: history ends now, and a live stream has no range', () => {
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'api_candles_1m', time_range: '2025-12-31:2026-01-02' }),
    /^time_range: ends 2026-01-02, after now; the end day is excluded, so a range can end today \(2026-01-01\) at the latest; a live ws_\* workflow streams what comes next$/,
  );
  assert.match(refusal({ ...GRAPH, time_range: '2025-12-01:2026-02-01' }), /^time_range: ends 2026-02-01, after now/);
  // Up to today (its first instant, the end day being excluded) is history.
  assert.doesNotThrow(() =>
    planWorkflow({ symbol: 'BTCUSDT', type: 'api_candles_1m', time_range: '2025-12-31:2026-01-01' }, NOW),
  );
});

test('a bulk range may take today so far, ending tomorrow, and no later; it starts where the market has data', () => {
  const bulk = { symbol: 'BTCUSDT', type: 'bulk_candles_1m' };
  const { workflow, start } = planWorkflow({ ...bulk, time_range: '2025-12-01:2026-01-02' }, NOW);
  assert.deepEqual(
    [workflow.services, start.data.target],
    [['loader-producer', 'arango-connector'], 'loader-producer'],
  );
  assert.match(
    refusal({ ...bulk, time_range: '2025-12-31:2026-01-03' }),
    /^time_range: ends 2026-01-03, after now; the end day is excluded, so a bulk range can end tomorrow \(2026-01-02, taking today up to now\) at the latest/,
  );
  assert.match(
    refusal({ ...bulk, time_range: '2017-01-01:2017-02-01' }),
    /^time_range: starts 2017-01-01, before spot had data/,
  );
  assert.match(
    refusal({ ...bulk, type: 'bulk_candles_1s', market: 'usdm', time_range: '2025-12-01:2025-12-02' }),
    /^type: USD-M futures have no 1s klines$/,
  );
});

test('COIN-M backfills take contract symbols, are named apart, and start no earlier than COIN-M', () => {
  for (const type of ['api_candles_1h', 'api_agg_trades', 'bulk_candles_1m', 'bulk_agg_trades']) {
    const { workflow, start } = planWorkflow(
      { symbol: 'btcusd_perp', type, time_range: '2024-08-01:2024-08-02', market: 'coinm' },
      NOW,
    );
    assert.equal(workflow.symbol, 'BTCUSD_PERP');
    assert.match(workflow.queue_id, new RegExp(`^wf-btcusd_perp-coinm-${type}-20240801-[a-z0-9]{6}$`));
    assert.equal(workflow.collection_name, `btcusd_perp_coinm_${type}_2024_08_01`);
    assert.equal(start.data.market, 'coinm');
    assert.deepEqual(controlCommandContract.check(start.data), []);
  }
  const coinm = { symbol: 'BTCUSD_PERP', type: 'api_candles_1h', market: 'coinm' } as const;
  assert.match(
    refusal({ ...coinm, time_range: '2020-08-01:2020-08-20' }),
    /^time_range: starts 2020-08-01, before coinm had data \(2020-08-10\)/,
  );
  assert.match(
    refusal({ ...coinm, symbol: 'BTCUSDT', time_range: '2024-08-01:2024-08-02' }),
    /^symbol: "BTCUSDT" is not a COIN-M contract; COIN-M symbols name one, e.g. BTCUSD_PERP/,
  );
  assert.match(
    refusal({ ...coinm, market: 'spot', time_range: '2024-08-01:2024-08-02' }),
    /^symbol: "BTCUSD_PERP" is a futures contract name; spot symbols have no "_"/,
  );
  assert.match(
    refusal({ ...coinm, symbol: 'BTCUSD__PERP', time_range: '2024-08-01:2024-08-02' }),
    /not a Binance symbol/,
  );
});

test('COIN-M refuses at the door what it has not: 1s klines, live streams and raw trades', () => {
  const coinm = { symbol: 'BTCUSD_PERP', market: 'coinm', time_range: '2024-08-01:2024-08-02' } as const;
  assert.match(refusal({ ...coinm, type: 'api_candles_1s' }), /^type: COIN-M futures have no 1s klines$/);
  assert.match(refusal({ ...coinm, type: 'bulk_candles_1s' }), /^type: COIN-M futures have no 1s klines$/);
  for (const type of ['ws_candles_1m', 'ws_agg_trades', 'ws_depth', 'ws_book_ticker'])
    assert.match(
      refusal({ symbol: 'BTCUSD_PERP', market: 'coinm', type }),
      /^type: COIN-M live streams \(ws_\*\) are not supported yet; load COIN-M history with api_\* or bulk_\* types$/,
      type,
    );
  assert.match(
    refusal({ ...coinm, type: 'bulk_trades' }),
    /^type: COIN-M raw trades \(bulk_trades\) are not supported yet; use bulk_agg_trades$/,
  );
});

test('USD-M futures have no raw trade stream: ws_trades on usdm is refused, ws_agg_trades is the one to use', () => {
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'ws_trades', market: 'usdm' }),
    /^type: USD-M futures have no raw trade stream; use ws_agg_trades$/,
  );
  assert.doesNotThrow(() => planWorkflow({ symbol: 'BTCUSDT', type: 'ws_agg_trades', market: 'usdm' }, NOW));
  assert.doesNotThrow(() => planWorkflow({ symbol: 'BTCUSDT', type: 'ws_trades', market: 'spot' }, NOW));
});

test('bulk raw trades are taken like bulk aggTrades: both markets, on the trades topic, the same range rules', () => {
  for (const market of ['spot', 'usdm'] as const) {
    const { workflow, start } = planWorkflow(
      { symbol: 'BTCUSDT', type: 'bulk_trades', market, time_range: '2025-12-01:2026-01-02' },
      NOW,
    );
    assert.deepEqual(
      [workflow.services, start.data.target, start.data.kafka_topic],
      [['loader-producer', 'arango-connector'], 'loader-producer', 'data-trades'],
    );
  }
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'bulk_trades', time_range: '2025-12-31:2026-01-03' }),
    /^time_range: ends 2026-01-03, after now; .* bulk range can end tomorrow/,
  );
  assert.match(refusal({ symbol: 'BTCUSDT', type: 'bulk_trades' }), /^time_range: is required for bulk_trades/);
});

test("each target's params are checked at the door by the target's own reading of them, naming the param", () => {
  const cases: Array<[Parameters<typeof planWorkflow>[0], RegExp]> = [
    // loader-ws (the Job would exit at start)
    [
      { symbol: 'BTCUSDT', type: 'ws_depth', params: { depth_levels: 0 } },
      /^params\.depth_levels: must be an integer from 1 to 5000, got 0$/,
    ],
    [
      { symbol: 'BTCUSDT', type: 'ws_depth', params: { telemetry_interval_ms: '5s' } },
      /^params\.telemetry_interval_ms: must be an integer/,
    ],
    // graph-builder (dead-lettered with an error)
    [{ ...GRAPH, params: { window: 2 } }, /^params\.window: must be >= 4$/],
    [{ ...GRAPH, params: { edges: { method: 'top_k' } } }, /^params\.edges/],
    [{ ...GRAPH, params: { window: 10, min_returns: 12 } }, /^params\.min_returns: 12 is more than the 9 returns/],
    [
      { ...GRAPH, params: { collections: { DOGEUSDT: 'doge' } } },
      /^params\.collections\.DOGEUSDT: is not one of the symbols$/,
    ],
    [{ ...GRAPH, symbols: ['BTCUSDT'] }, /^symbols: a correlation graph needs at least 2 symbols, got 1$/],
    [{ ...GRAPH, symbols: ['BTCUSDT', 'btcusdt'] }, /^symbols: lists a symbol twice$/],
    // gnn-trainer (fails at once)
    [{ symbol: 'BTCUSDT', type: 'gnn_train' }, /^params\.graph_id: name exactly one of graph_id/],
    [{ symbol: 'BTCUSDT', type: 'gnn_train', params: { graph_id: 'g1', epochs: 0 } }, /^params\.epochs: must be >= 1$/],
    [
      { symbol: 'BTCUSDT', type: 'gnn_train', params: { dataset: '../secrets' } },
      /^params\.dataset: "..\/secrets" is not an object key/,
    ],
    // dummy-service (ends in error)
    [
      { symbol: 'BTCUSDT', type: 'dummy_x', params: { steps: 'many' } },
      /^params\.steps: must be an integer from 0 to 1000, got "many"$/,
    ],
    [
      { symbol: 'BTCUSDT', type: 'dummy_x', params: { steps: 100, interval_ms: 1000 } },
      /^params\.interval_ms: 100 steps × 1000 ms would last 100 s, longer than the 25 s/,
    ],
  ];
  for (const [request, expected] of cases) assert.match(refusal(request), expected, JSON.stringify(request));
  // What the targets take is taken.
  assert.doesNotThrow(() =>
    planWorkflow(
      { ...GRAPH, params: { window: 24, step: 12, edges: { method: 'threshold', min_abs_correlation: 0.5 } } },
      NOW,
    ),
  );
  assert.doesNotThrow(() =>
    planWorkflow({ symbol: 'BTCUSDT', type: 'gnn_train', params: { dataset: 'citeseer', epochs: 10 } }, NOW),
  );
  assert.doesNotThrow(() =>
    planWorkflow(
      { symbol: 'BTCUSDT', type: 'ws_depth', params: { depth_levels: 20, note: 'ignored by the Job' } },
      NOW,
    ),
  );
});

test("params too large for a loader-ws Job's environment are refused for a live stream (Linux takes 128 KiB per variable)", () => {
  const params = { note: 'x'.repeat(140_000) };
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'ws_agg_trades', params }),
    /^params: 1400\d\d bytes as the Job's LOADER_WS_PARAMS, more than the 131072 one variable of a process environment may take \(Linux MAX_ARG_STRLEN\)$/,
  );
  // A start command carries them well (a Kafka record holds 1 MiB).
  assert.doesNotThrow(() => planWorkflow({ symbol: 'BTCUSDT', type: 'dummy_x', params }, NOW));
});

test('params nest at most 8 levels and take at most 256 KiB, whatever the type', () => {
  const nested = (depth: number): Record<string, unknown> => {
    let value: Record<string, unknown> = {};
    for (let i = 1; i < depth; i++) value = { a: value };
    return value;
  };
  assert.doesNotThrow(() => planWorkflow({ symbol: 'BTCUSDT', type: 'dummy_x', params: nested(8) }, NOW));
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'dummy_x', params: nested(9) }),
    /^params: nests objects or arrays more than 8 levels deep/,
  );
  // Deeper than a stack could walk: refused, not a stack overflow.
  assert.match(refusal({ symbol: 'BTCUSDT', type: 'dummy_x', params: nested(200_000) }), /^params: nests/);
  assert.match(refusal({ symbol: 'BTCUSDT', type: 'dummy_x', params: { list: [[[[[[[[1]]]]]]]] } }), /^params: nests/);
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'dummy_x', params: { note: 'é'.repeat(140_000) } }),
    /^params: is 280011 bytes as JSON, more than the 262144 \(256 KiB\) a workflow's params may take$/,
  );
});

test('the futures-only series are refused on spot, start their loader on the klines topic, and metrics end today at the latest', () => {
  const range = '2025-11-01:2025-12-01';
  for (const type of ['api_mark_price_candles_1h', 'bulk_index_price_candles_1m', 'api_funding_rate', 'bulk_metrics'])
    assert.match(
      refusal({ symbol: 'BTCUSDT', type, time_range: range }),
      /^type: .*Binance spot has no mark price, index price, premium index, funding rate or metrics; these are futures series \(set market to usdm or coinm\)$/,
    );
  for (const [type, target] of [
    ['api_premium_index_candles_1h', 'loader-api'],
    ['bulk_mark_price_candles_1m', 'loader-producer'],
    ['api_funding_rate', 'loader-api'],
    ['bulk_funding_rate', 'loader-producer'],
    ['bulk_metrics', 'loader-producer'],
  ] as const) {
    const { workflow, start } = planWorkflow({ symbol: 'BTCUSDT', type, time_range: range, market: 'usdm' }, NOW);
    assert.equal(workflow.kafka_topic, 'data-klines', type);
    assert.equal(start.data.target, target, type);
    assert.equal(workflow.collection_name, `btcusdt_usdm_${type}_2025_11_01`);
  }
  // Bulk ranges may end tomorrow, except metrics: today has no daily file yet.
  planWorkflow(
    { symbol: 'BTCUSDT', type: 'bulk_funding_rate', time_range: '2025-12-01:2026-01-02', market: 'usdm' },
    NOW,
  );
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'bulk_metrics', time_range: '2025-12-01:2026-01-02', market: 'usdm' }),
    /^time_range: ends 2026-01-02, after now; metrics come from daily archive files only, so a bulk_metrics range can end today \(2026-01-01, end day excluded\) at the latest/,
  );
  assert.match(
    refusal({ symbol: 'BTCUSD_PERP', type: 'api_index_price_candles_1h', time_range: range, market: 'coinm' }),
    /per pair \(BTCUSD\)/,
  );
});

test('a bulk_metrics range starting before the metrics archives begin is refused, naming the first day', () => {
  // USD-M had data from 2019-09-08, but its metrics files only from 2021-12-01.
  assert.match(
    refusal({ symbol: 'BTCUSDT', type: 'bulk_metrics', time_range: '2021-11-30:2021-12-02', market: 'usdm' }),
    /^time_range: starts 2021-11-30, before Binance's metrics archive files begin \(2021-12-01\); a bulk_metrics range can start on 2021-12-01 at the earliest$/,
  );
  planWorkflow({ symbol: 'BTCUSDT', type: 'bulk_metrics', time_range: '2021-12-01:2021-12-02', market: 'usdm' }, NOW);
  // Only metrics: the other futures series of the same days are archived.
  planWorkflow(
    { symbol: 'BTCUSDT', type: 'bulk_funding_rate', time_range: '2021-11-01:2021-12-02', market: 'usdm' },
    NOW,
  );
});
