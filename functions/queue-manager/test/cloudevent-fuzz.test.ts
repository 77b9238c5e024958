/**
 * Property-based tests of the CloudEvent boundary (fast-check): generated events in binary
 * mode (random, missing and malformed attributes, Knative's dead-letter extensions, random
 * data), structured mode and plain requests are POSTed to queue-manager as its KafkaSources
 * deliver them: the real function module served by the real runtime (packages/core/src/runtime), on
 * a SQLite store and the run's Kafka broker. queue-manager is the function every service's
 * telemetry and every dead letter reaches, and some events name workflows it really has.
 *
 * Every answer is a 2xx, or a 4xx with a reason (a KafkaSource dead-letters a 4xx at once);
 * never a 5xx, which it would retry as if the event could succeed later. Afterwards every
 * workflow and its trail still read back.
 *
 * The seed is fixed (FUZZ_SEED=<n> replays or explores another); fast-check prints the seed,
 * the path and the shrunk event of a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ensureTopics } from '@streamforge/core/bus';
import { EVENT_TYPES, TELEMETRY_STATUSES } from '@streamforge/core/contracts';
import { serveFunction, type FunctionModule } from '@streamforge/core/runtime';
import { createLogger } from '@streamforge/core/telemetry';
import { testKafka, uniqueName } from '@streamforge/testing';
import { checkAnswer } from './fuzz-answer.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);

/** Header values a client can send: printable ASCII (fetch refuses the rest, and so do proxies). */
const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
const anyText = fc.oneof(headerText, fc.string({ unit: 'binary', maxLength: 40 }));

interface Delivery {
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

test('queue-manager answers every generated CloudEvent with a 2xx or a 4xx with its reason, never a 5xx, and its workflows still read back', async (t) => {
  const logger = createLogger({ service: 'cloudevent-fuzz', level: 'fatal' });
  const dir = mkdtempSync(join(tmpdir(), 'sf-cloudevent-fuzz-'));
  const prefix = `${uniqueName('cefuzz')}.`;
  await ensureTopics(testKafka(), { prefix });
  // The module reads its configuration at init: its own topics, store and Job folder.
  Object.assign(process.env, {
    KAFKA_TOPIC_PREFIX: prefix,
    STORE_URL: `sqlite:${join(dir, 'store.sqlite')}`,
    STREAMFORGE_HOME: dir,
    JOB_LAUNCHER: 'local',
    STREAMFORGE_API_TOKEN: '',
  });
  // As the local platform starts it: its local Job launcher registered first.
  await import('@streamforge/platform/local-integrations');
  const module = (await import('../src/index.ts')) as FunctionModule;
  const running = await serveFunction(module, { name: 'queue-manager', port: 0, host: '127.0.0.1', logger });
  t.after(async () => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Workflows the events can name (their start commands go to topics nobody reads here).
  const start = async (request: Record<string, unknown>): Promise<string> => {
    const response = await fetch(`${running.url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { queue_id: string }).queue_id;
  };
  const queueIds = [
    await start({ symbol: 'DUMMYUSDT', type: 'dummy_fuzz' }),
    await start({ symbol: 'DUMMYUSDT', type: 'dummy_fuzz', params: { steps: 2 } }),
    await start({ symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2024-08-01:2024-08-02' }),
  ];

  const queueId = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...queueIds) },
    fc.constant('wf-btcusdt-api_candles_1m-20240801-zzzzzz'),
    anyText,
  );
  const count = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string({ maxLength: 3 }));
  // Telemetry as the services send it, with values anywhere in their ranges, and anything at all.
  const rightTelemetry = fc.record(
    {
      queue_id: fc.constantFrom(...queueIds),
      producer: fc.constantFrom('dummy-service__fuzz01', 'loader-api', 'arango-connector'),
      symbol: fc.constantFrom('DUMMYUSDT', 'BTCUSDT'),
      type: fc.constantFrom('dummy_fuzz', 'api_candles_1h'),
      status: fc.constantFrom(...TELEMETRY_STATUSES),
      message: anyText,
      finished: fc.boolean(),
      records_written: fc.nat(),
      rejected: fc.nat(),
      progress: fc.record({ done: fc.nat(), total: fc.nat(), unit: fc.constantFrom('pages', 'steps') }),
      timestamp: fc.double({ min: 0, max: 4e9, noNaN: true }),
      error: fc.record({
        code: fc.constantFrom('SF_INTERNAL', 'SF_CONTRACT_INVALID'),
        message: anyText,
        retryable: fc.boolean(),
      }),
    },
    { requiredKeys: ['queue_id', 'producer', 'symbol', 'type', 'status', 'timestamp'] },
  );
  const telemetry = fc.record(
    {
      queue_id: queueId,
      producer: fc.oneof(fc.constantFrom('dummy-service__fuzz01', 'loader-api', 'arango-connector'), anyText),
      symbol: fc.oneof(fc.constantFrom('DUMMYUSDT', 'BTCUSDT'), anyText),
      type: fc.oneof(fc.constantFrom('dummy_fuzz', 'api_candles_1h'), anyText),
      status: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TELEMETRY_STATUSES) }, anyText),
      message: anyText,
      finished: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 })),
      records_written: count,
      rejected: count,
      progress: fc.oneof(
        fc.record({ done: count, total: count, unit: anyText }, { requiredKeys: [] }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      timestamp: fc.oneof(fc.double({ min: 0, max: 4e9, noNaN: true }), fc.jsonValue({ maxDepth: 0 })),
      error: fc.oneof(
        fc.record({ code: anyText, message: anyText, retryable: fc.boolean() }, { requiredKeys: [] }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      extra: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: ['queue_id', 'status'] },
  );
  const data = fc.oneof(
    { weight: 4, arbitrary: rightTelemetry.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: telemetry.map((v) => JSON.stringify(v)) },
    fc.jsonValue().map((v) => JSON.stringify(v)),
    anyText,
    fc.constantFrom(
      '',
      'null',
      '{',
      `"${'x'.repeat(1_100_000)}"`,
      `{"queue_id":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    ),
  );
  const eventType = fc.oneof(
    { weight: 4, arbitrary: fc.constant(EVENT_TYPES.telemetry) },
    fc.constantFrom(...Object.values(EVENT_TYPES), 'dev.streamforge.data.nothing', 'dev.streamforge.control.'),
    headerText,
  );
  // Binary mode: attributes as ce-* headers, any of them missing or wrong.
  const attributes = {
    'ce-specversion': fc.oneof(
      { weight: 5, arbitrary: fc.constant('1.0') },
      fc.constantFrom('0.3', '2.0', ''),
      headerText,
    ),
    'ce-id': fc.oneof(fc.uuid(), headerText),
    'ce-source': fc.oneof(fc.constantFrom('/streamforge/dummy-service', '/streamforge/loader-api'), headerText),
    'ce-type': eventType,
    'ce-subject': queueId.map((q) => q.replace(/[^\x20-\x7e]/g, '')),
    'ce-time': fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      headerText,
    ),
    'ce-partitionkey': headerText,
    // What a dead-letter sink adds (Knative's and the runtime's): the manager ends the workflow with the reason.
    'ce-knativeerrordest': fc.oneof(fc.constantFrom('http://dummy-service.streamforge.svc', ''), headerText),
    'ce-knativeerrorcode': fc.oneof(fc.constantFrom('400', '500', '-1', 'x'), headerText),
    'ce-knativeerrordata': headerText,
    'ce-streamforgeerror': fc.oneof(fc.constantFrom('SF_CONTRACT_INVALID', 'SF_INTERNAL'), headerText),
    'ce-streamforgereason': fc.oneof(
      anyText.map((s) => encodeURIComponent(s.toWellFormed())),
      fc.constantFrom('%E0%A4%A', '%'),
    ),
    'content-type': fc.oneof(
      { weight: 3, arbitrary: fc.constant('application/json') },
      fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/octet-stream'),
      headerText,
    ),
  };
  // Attributes as a KafkaSource sends them, sometimes with the dead-letter sink's extensions.
  const deadLetterExtensions = [
    'ce-knativeerrordest',
    'ce-knativeerrorcode',
    'ce-knativeerrordata',
    'ce-streamforgeerror',
    'ce-streamforgereason',
  ] as const;
  const right = fc.record({
    'ce-specversion': fc.constant('1.0'),
    'ce-id': fc.uuid(),
    'ce-source': fc.constantFrom('/streamforge/dummy-service', '/streamforge/loader-api'),
    'ce-type': eventType,
    'ce-subject': fc.constantFrom(...queueIds),
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  });
  const deadLetter = fc
    .tuple(
      right,
      fc.record(Object.fromEntries(deadLetterExtensions.map((name) => [name, attributes[name]])), {
        requiredKeys: ['ce-knativeerrordest'],
      }),
    )
    .map(([a, b]) => ({ ...a, ...b }));
  const binary = fc.oneof(
    { weight: 2, arbitrary: right },
    deadLetter,
    fc.record(attributes, { requiredKeys: ['ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'content-type'] }),
    fc.record(attributes, { requiredKeys: [] }),
  );
  const deliveries: fc.Arbitrary<Delivery> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(right, rightTelemetry).map(([headers, body]) => ({
        method: 'POST' as const,
        headers: { ...headers, 'ce-type': EVENT_TYPES.telemetry },
        body: JSON.stringify(body),
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(deadLetter, data).map(([headers, body]) => ({ method: 'POST' as const, headers, body })),
    },
    {
      weight: 5,
      arbitrary: fc.tuple(binary, data).map(([headers, body]) => ({ method: 'POST' as const, headers, body })),
    },
    // Structured mode: the whole event as JSON.
    fc.tuple(binary, telemetry).map(([headers, value]) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: headers['ce-specversion'],
        id: headers['ce-id'],
        source: headers['ce-source'],
        type: headers['ce-type'],
        subject: headers['ce-subject'],
        datacontenttype: 'application/json',
        data: value,
      }),
    })),
    // Not a CloudEvent at all.
    fc
      .tuple(
        fc.constantFrom('POST' as const, 'GET' as const),
        fc.dictionary(fc.constantFrom('content-type', 'x-request-id', 'ce-id'), headerText, { maxKeys: 2 }),
        fc.option(anyText, { nil: undefined }),
      )
      .map(([method, headers, body]) => ({
        method,
        headers,
        ...(method === 'POST' && body !== undefined ? { body } : {}),
      })),
  );

  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(deliveries, async (delivery) => {
      const response = await fetch(`${running.url}/`, {
        method: delivery.method,
        headers: delivery.headers,
        ...(delivery.body === undefined ? {} : { body: delivery.body }),
      });
      checkAnswer(response.status, await response.text(), statuses);
    }),
    { seed: SEED, numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );

  for (const id of queueIds) {
    for (const path of [`/workflows/${id}`, `/workflows/${id}/events?limit=5000`]) {
      const response = await fetch(`${running.url}${path}`);
      assert.equal(response.status, 200, `${path}: ${await response.text()}`);
    }
  }
  assert.equal((await fetch(`${running.url}/workflows`)).status, 200);
  t.diagnostic(`seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok(
    [...statuses.keys()].some((s) => s < 300) && [...statuses.keys()].some((s) => s >= 400),
    'events reach both sides',
  );
});
