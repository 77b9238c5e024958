/**
 * Property-based tests of POST /workflows (fast-check): generated bodies — plausible requests
 * of every workflow type and garbage (wrong types, unknown and colliding keys, unicode, deep
 * nesting, huge strings, duplicate keys, bodies that are not JSON) — go to the real routes on
 * the function runtime, backed by the real manager, a SQLite store and the run's Kafka broker.
 *
 * Every answer is a 2xx, or a 4xx with a reason; never a 5xx. A refusal leaves nothing behind.
 * An accepted workflow is not stuck: its start command is on Kafka and passes what its target
 * does first with it (the command contract for that service, then the target's own reading:
 * loader-ws's Job configuration from the Job's environment, graph-builder's, gnn-trainer's and
 * dummy-service's request parsers, loader-api's required fields). Anything those refuse would
 * otherwise be dead-lettered, leaving the workflow pending.
 *
 * The seed is fixed (FUZZ_SEED=<n> replays or explores another); fast-check prints the seed,
 * the path and the shrunk body of a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createEventProducer, ensureTopics, TOPIC_PLAN, type EventProducer } from '@streamforge/core/bus';
import {
  COLLECTION_NAME_PATTERN,
  controlCommandSchema,
  parseCommandFor,
  parseTimeRange,
  parseWorkflowType,
  serviceOf,
  type StartCommand,
} from '@streamforge/core/contracts';
import { jobEnvOf, jobSpecOf, REQUEST_PARSERS } from '@streamforge/core/requests';
import { serveFunction } from '@streamforge/core/runtime';
import { openSqliteStore, type WorkflowRecord } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { testKafka, uniqueName } from '@streamforge/testing';
import { jobConfigFromEnv } from '@streamforge/loader-ws/job-config';
import { registerApi } from '../src/api.ts';
import { createManager } from '../src/manager.ts';
import { checkAnswer } from './fuzz-answer.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);

/** What the target of a workflow does first with its start command; throws what it would refuse. */
function targetTakes(workflow: WorkflowRecord, command: StartCommand): void {
  const plan = parseWorkflowType(command.type);
  parseCommandFor(serviceOf(plan.target)!, command);
  switch (plan.source) {
    case 'api':
      // plan-pages.ts: a backfill needs both, and a range that parses.
      assert.ok(command.collection_name, 'a backfill command names its collection');
      parseTimeRange(command.time_range!);
      return;
    case 'ws':
      // The Job never reads the command: it is started with the stored workflow's environment.
      jobConfigFromEnv(jobEnvOf(jobSpecOf(workflow)));
      return;
    case 'graph':
    case 'gnn':
    case 'dummy':
      // graph-builder's, gnn-trainer's and dummy-service's request parsers.
      REQUEST_PARSERS[plan.source](command);
      return;
  }
}

// --- generated requests ----------------------------------------------------------------

const LIVE_TYPES = ['ws_candles_1m', 'ws_candles_1s', 'ws_trades', 'ws_agg_trades', 'ws_depth', 'ws_book_ticker'];
const TYPES = [
  'api_candles_1s',
  'api_candles_1m',
  'api_candles_1h',
  'api_candles_1M',
  'api_agg_trades',
  // Futures only: refused on spot (the default market), taken on usdm.
  'api_mark_price_candles_1h',
  'api_funding_rate',
  ...LIVE_TYPES,
  'graph_correlation',
  'gnn_train',
  'dummy_fuzz',
];
const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 30 });
const anyText = fc.oneof(
  printable,
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const symbol = fc.oneof(
  fc.constantFrom('BTCUSDT', 'ethusdt', 'DUMMYUSDT'),
  fc.stringMatching(/^[A-Za-z0-9]{2,20}$/),
  anyText,
);
const type = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TYPES) },
  fc.stringMatching(/^dummy_[a-z0-9_]{1,60}$/),
  fc.constantFrom('api_candles_7m', 'ws_orders', 'dummy_', 'graph', 'ws_'),
  anyText,
);
const day = fc.oneof(
  fc
    .date({ min: new Date('1969-06-01T00:00:00Z'), max: new Date('2031-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('2024-02-30', '0000-01-01', '9999-12-31', '2017-07-14', '2019-09-08'),
);
const timeRange = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(day, day).map(([a, b]) => `${a}:${b}`) },
  fc.constant('2024-08-01:2024-08-02'),
  anyText,
);
const market = fc.oneof(fc.constantFrom('spot', 'usdm'), anyText);
const collectionName = fc.oneof(
  fc.constantFrom('workflows', 'events', 'my_candles'),
  fc.stringMatching(new RegExp(COLLECTION_NAME_PATTERN)),
  anyText,
);
const smallInt = fc.oneof(
  fc.integer({ min: -2, max: 6000 }),
  fc.double(),
  fc.string({ maxLength: 3 }),
  fc.constant(null),
);

/** Params as each target reads them, right and wrong. */
const params = fc.oneof(
  fc.record(
    {
      steps: fc.integer({ min: 0, max: 5 }),
      records_per_step: fc.integer({ min: 0, max: 1000 }),
      interval_ms: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30_000 })),
      fail_after_s: fc.double({ min: 0, max: 30 }),
      crash_after_s: fc.double({ min: 0, max: 4000 }),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      window: smallInt,
      step: smallInt,
      horizon: smallInt,
      min_returns: smallInt,
      interval: fc.constantFrom('1h', '1m', '7m'),
      correlation: fc.constantFrom('pearson', 'spearman', 'kendall'),
      edges: fc.oneof(
        fc.record({ method: fc.constant('top_k'), k: smallInt }),
        fc.record({ method: fc.constant('threshold'), min_abs_correlation: fc.double() }),
        fc.jsonValue(),
      ),
      collections: fc.oneof(fc.dictionary(symbol, collectionName), fc.array(collectionName, { maxLength: 4 })),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      graph_id: fc.oneof(collectionName, fc.constant('g1')),
      dataset: fc.oneof(fc.constantFrom('citeseer', 'datasets/x.json', '../up'), anyText),
      model_name: anyText,
      epochs: smallInt,
      hidden: smallInt,
      lr: fc.double(),
      dropout: fc.double(),
      seed: fc.integer(),
      folds: smallInt,
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      depth_levels: smallInt,
      depth_interval_ms: smallInt,
      depth_snapshot_limit: smallInt,
      telemetry_interval_ms: smallInt,
    },
    { requiredKeys: [] },
  ),
  // Keys the command itself has, and keys JSON parsers treat specially.
  fc.dictionary(
    fc.constantFrom(...Object.keys(controlCommandSchema.properties), 'params', 'toString', 'hasOwnProperty'),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 3 },
  ),
  fc.dictionary(anyText, fc.jsonValue({ maxDepth: 5 }), { maxKeys: 5 }),
  fc.integer({ min: 1, max: 300_000 }).map((n) => ({ note: 'é'.repeat(n) })),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Anything in any field. */
const request = fc.record(
  {
    symbol,
    symbols: fc.array(symbol, { maxLength: 4 }),
    type,
    time_range: timeRange,
    market,
    collection_name: collectionName,
    params,
    colour: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

/** Requests close to right for each type, so both sides of the door are reached. */
const DAY_MS = 86_400_000;
const pastRange = fc.tuple(fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 1, max: 40 })).map(([from, days]) => {
  const start = Date.UTC(2019, 8, 8) + from * DAY_MS;
  return `${new Date(start).toISOString().slice(0, 10)}:${new Date(start + days * DAY_MS).toISOString().slice(0, 10)}`;
});
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'];
const wellFormed = (record: Record<string, fc.Arbitrary<unknown>>, required: string[]) =>
  fc.record(record, { requiredKeys: required });
const plausible = fc.oneof(
  wellFormed(
    {
      symbol: fc.constantFrom(...SYMBOLS, 'BTCUSD_PERP'),
      type: fc.constantFrom('api_candles_1m', 'api_candles_1h', 'api_candles_1s', 'api_agg_trades'),
      time_range: pastRange,
      market: fc.constantFrom('spot', 'usdm', 'coinm'),
      collection_name: collectionName,
    },
    ['symbol', 'type', 'time_range'],
  ),
  wellFormed(
    {
      symbol: fc.constantFrom(...SYMBOLS),
      symbols: fc.uniqueArray(fc.constantFrom(...SYMBOLS), { minLength: 1 }),
      type: fc.constantFrom(...LIVE_TYPES),
      market: fc.constantFrom('spot', 'usdm'),
      params: fc.record(
        {
          depth_levels: fc.integer({ min: 0, max: 6000 }),
          depth_interval_ms: fc.integer({ min: 1, max: 60_000 }),
          note: fc.string(),
        },
        { requiredKeys: [] },
      ),
    },
    ['symbol', 'type'],
  ),
  wellFormed(
    {
      symbols: fc.uniqueArray(fc.constantFrom(...SYMBOLS), { minLength: 1 }),
      type: fc.constant('graph_correlation'),
      time_range: pastRange,
      params: fc.record(
        {
          window: fc.integer({ min: 3, max: 48 }),
          step: fc.integer({ min: 1, max: 48 }),
          min_returns: fc.integer({ min: 2, max: 60 }),
          edges: fc.constantFrom(
            { method: 'top_k', k: 2 },
            { method: 'threshold', min_abs_correlation: 0.4 },
            { method: 'top_k' },
          ),
        },
        { requiredKeys: [] },
      ),
    },
    ['symbols', 'type', 'time_range'],
  ),
  wellFormed(
    {
      symbol: fc.constantFrom(...SYMBOLS),
      type: fc.constant('gnn_train'),
      params: fc.record(
        {
          graph_id: fc.constantFrom('g1', 'btc_graph', 'workflows'),
          dataset: fc.constantFrom('citeseer', 'datasets/cora.json'),
          epochs: fc.integer({ min: 0, max: 20_000 }),
          dropout: fc.double({ min: 0, max: 1, noNaN: true }),
        },
        { requiredKeys: [] },
      ),
    },
    ['symbol', 'type'],
  ),
  wellFormed(
    {
      symbol: fc.constantFrom('DUMMYUSDT', 'btcusdt'),
      type: fc.stringMatching(/^dummy_[a-z0-9_]{1,40}$/),
      params: fc.record(
        {
          steps: fc.integer({ min: 0, max: 1200 }),
          records_per_step: fc.integer({ min: 0, max: 1000 }),
          interval_ms: fc.integer({ min: 0, max: 2000 }),
          fail_after_s: fc.double({ min: 0, max: 30, noNaN: true }),
        },
        { requiredKeys: [] },
      ),
    },
    ['symbol', 'type'],
  ),
);

interface Post {
  body?: string;
  contentType?: string;
}

const posts: fc.Arbitrary<Post> = fc.oneof(
  { weight: 8, arbitrary: plausible.map((r) => ({ body: JSON.stringify(r), contentType: 'application/json' })) },
  { weight: 4, arbitrary: request.map((r) => ({ body: JSON.stringify(r), contentType: 'application/json' })) },
  // Raw bodies JSON.stringify would not make.
  fc.integer({ min: 1, max: 120_000 }).map((n) => ({
    body: `{"type":"dummy_deep","symbol":"BTCUSDT","params":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`,
    contentType: 'application/json',
  })),
  fc.integer({ min: 1, max: 60_000 }).map((n) => ({
    body: `{"type":"dummy_deep","symbol":"BTCUSDT","params":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`,
    contentType: 'application/json',
  })),
  fc.tuple(plausible, request).map(([a, b]) => ({
    body: `${JSON.stringify(a).slice(0, -1)}${Object.keys(a).length ? ',' : ''}${JSON.stringify(b).slice(1)}`,
    contentType: 'application/json',
  })),
  fc.constantFrom(
    { body: '{"type":"dummy_x","symbol":"BTCUSDT","__proto__":{"admin":true}}', contentType: 'application/json' },
    {
      body: '{"type":"dummy_x","symbol":"BTCUSDT","params":{"constructor":{"prototype":{"x":1}}}}',
      contentType: 'application/json',
    },
    {
      body: `{"type":"dummy_x","symbol":"BTCUSDT","params":{"n":"${'x'.repeat(1_100_000)}"}}`,
      contentType: 'application/json',
    },
    { body: '', contentType: 'application/json' },
    { contentType: 'application/json' },
    {},
  ),
  fc.record({
    body: fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      anyText,
    ),
    contentType: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/cloudevents+json',
    ),
  }),
);

test("POST /workflows answers every generated body with a 2xx or a 4xx with its reason, refusals leave nothing behind, and every accepted workflow's start command is on Kafka and taken by its target", async (t) => {
  const logger = createLogger({ service: 'workflow-api-fuzz', level: 'fatal' });
  const kafka = testKafka();
  const prefix = `${uniqueName('fuzz')}.`;
  await ensureTopics(kafka, { prefix, plan: TOPIC_PLAN.filter((topic) => topic.name.startsWith('queue-control.')) });
  const producer = await createEventProducer(kafka, { topicPrefix: prefix });
  // What reached Kafka: recorded once the broker acknowledged it.
  const published = new Map<string, StartCommand>();
  const recording: EventProducer = {
    ...producer,
    async send(topic, events) {
      await producer.send(topic, events);
      for (const event of events)
        if ('data' in event && (event.data as StartCommand)?.command === 'start')
          published.set((event.data as StartCommand).queue_id, event.data as StartCommand);
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'sf-workflow-api-fuzz-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  const manager = createManager({ store, producer: recording, logger });
  const server = await serveFunction(
    { handle: () => undefined, routes: (app) => registerApi(app, { manager, store, token: '' }) },
    { name: 'queue-manager', port: 0, host: '127.0.0.1', logger },
  );
  t.after(async () => {
    await server.close();
    await producer.disconnect();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let accepted = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(posts, async (post) => {
      const response = await fetch(`${server.url}/workflows`, {
        method: 'POST',
        headers: post.contentType ? { 'content-type': post.contentType } : {},
        ...(post.body === undefined ? {} : { body: post.body }),
      });
      const text = await response.text();
      const answer = checkAnswer(response.status, text, statuses);
      if (answer) {
        assert.equal(
          (await store.listWorkflows({ limit: 10_000 })).length,
          accepted,
          `a ${response.status} left a workflow behind: ${answer.message}`,
        );
        return;
      }
      assert.equal(response.status, 201, text.slice(0, 500));
      accepted += 1;
      const created = JSON.parse(text) as WorkflowRecord;
      const read = await fetch(`${server.url}/workflows/${created.queue_id}`);
      assert.equal(read.status, 200, await read.text());
      const workflow = (await store.getWorkflow(created.queue_id))!;
      assert.equal(workflow.status, 'pending');
      const command = published.get(created.queue_id);
      assert.ok(command, `the start command of ${created.queue_id} is on Kafka`);
      targetTakes(workflow, command);
    }),
    { seed: SEED, numRuns: Number(process.env.FUZZ_RUNS ?? 250) },
  );
  const list = await fetch(`${server.url}/workflows?limit=1000`);
  assert.equal(list.status, 200, 'every accepted workflow lists');
  t.diagnostic(`seed ${SEED}: ${accepted} accepted; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok(accepted > 10 && (statuses.get(400) ?? 0) > 10, 'the bodies reach both sides of the door');
});
