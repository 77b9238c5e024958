/**
 * Every function of a running stack, and the KafkaSource dispatcher, serve /metrics with
 * the names the Grafana dashboard (knative/monitoring/) queries, named by Prometheus
 * conventions. The stack does some of everything first, so labelled series exist.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { controlTopicOf, createEventProducer } from '@streamforge/core/bus';
import { EVENT_TYPES } from '@streamforge/core/contracts';
import { openWorkflowStream, type WorkflowStream } from '@streamforge/load';
import { startTestStack, testKafka, waitFor, type TestStack } from '@streamforge/testing';

let stack: TestStack;
let stream: WorkflowStream;

async function post(path: string, body: unknown): Promise<{ queue_id: string }> {
  const response = await fetch(`${stack.state.api_url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { queue_id: string };
}

before(async () => {
  stack = await startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity' });
  // A console client (the manager's event tail starts with it), a backfill, a simulated
  // workflow, and a command no service can take (dead-lettered by the dispatcher).
  stream = await openWorkflowStream({ apiUrl: stack.state.api_url as string });
  const backfill = await post('/workflows', {
    symbol: 'BTCUSDT',
    type: 'api_candles_1h',
    time_range: '2024-08-01:2024-08-02',
  });
  const dummy = await post('/workflows', { symbol: 'DUMMYUSDT', type: 'dummy_metrics', params: { steps: 2 } });
  await Promise.all([backfill, dummy].map((w) => stream.waitFor(w.queue_id, (s) => s.status === 'completed', 60_000)));
  const producer = await createEventProducer(testKafka(), { topicPrefix: stack.prefix });
  await producer.send(controlTopicOf('dummy-service'), [
    {
      type: EVENT_TYPES.controlStart,
      source: '/streamforge/test',
      subject: 'bad-command',
      partitionKey: 'X',
      data: { command: 'start', queue_id: 'bad-command' },
    },
  ]);
  await producer.disconnect();
});

after(async () => {
  stream?.close();
  await stack?.down();
});

interface Family {
  type: string;
  samples: string[];
}

async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  const families = new Map<string, Family>();
  for (const line of (await response.text()).split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) families.set(type[1] as string, { type: type[2] as string, samples: [] });
    else if (line && !line.startsWith('#')) {
      const name = line.split(/[{ ]/)[0] as string;
      const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
      family?.samples.push(line);
    }
  }
  return families;
}

function expectFamilies(where: string, families: Map<string, Family>, expected: Record<string, string>): void {
  for (const [name, type] of Object.entries(expected)) {
    assert.equal(families.get(name)?.type, type, `${where} serves ${name} as a ${type}`);
  }
}

function expectConventions(where: string, families: Map<string, Family>): void {
  for (const [name, family] of families) {
    if (!name.startsWith('streamforge_')) continue;
    if (family.type === 'counter') assert.match(name, /_total$/, `${where}: counter ${name} ends in _total`);
    else assert.doesNotMatch(name, /_total$/, `${where}: ${family.type} ${name} does not end in _total`);
    if (family.type === 'histogram') assert.match(name, /_seconds$/, `${where}: histogram ${name} is in seconds`);
  }
}

const EVERY_FUNCTION = {
  streamforge_events_handled_total: 'counter',
  streamforge_handler_duration_seconds: 'histogram',
  streamforge_records_written_total: 'counter',
  streamforge_dead_lettered_total: 'counter',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
};

const OWN: Record<string, Record<string, string>> = {
  'queue-manager': {
    streamforge_console_clients: 'gauge',
    streamforge_console_pushes_total: 'counter',
    streamforge_kafka_consumer_lag_messages: 'gauge',
  },
  'loader-api': {
    streamforge_exchange_weight_used: 'gauge',
    streamforge_exchange_weight_limit: 'gauge',
    streamforge_exchange_requests_total: 'counter',
    streamforge_exchange_rate_limited_total: 'counter',
    streamforge_exchange_weight_wait_seconds_total: 'counter',
  },
  'arango-connector': {},
  'dummy-service': { streamforge_dummy_pings_total: 'counter', streamforge_dummy_simulations_total: 'counter' },
};

test('every function serves the shared metrics, its own, and only conventional names', async () => {
  for (const [name, info] of Object.entries(stack.state.functions)) {
    const families = await scrape(info.url as string);
    expectFamilies(name, families, { ...EVERY_FUNCTION, ...OWN[name] });
    expectConventions(name, families);
    const handled = families.get('streamforge_events_handled_total')?.samples ?? [];
    if (name !== 'queue-manager' || handled.length > 0)
      assert.ok(
        handled.every((s) => s.includes(`service="${name}"`)),
        `${name} labels its series with service`,
      );
  }
});

test('the metrics carry the work done: records written, exchange weight, events handled, console pushes', async () => {
  const connector = await scrape(stack.state.functions['arango-connector']?.url as string);
  assert.ok(
    connector
      .get('streamforge_records_written_total')
      ?.samples.some((s) => /collection="btcusdt_api_candles_1h_2024_08_01"[^}]*} 24$/.test(s)),
    'the connector counted the 24 candles it wrote',
  );
  const loader = await scrape(stack.state.functions['loader-api']?.url as string);
  assert.ok(
    loader.get('streamforge_exchange_weight_used')?.samples.some((s) => s.includes('market="spot"')),
    'the weight the exchange reported is exported per market',
  );
  assert.ok(Number(loader.get('streamforge_exchange_requests_total')?.samples[0]?.split(' ').at(-1)) >= 1);
  const manager = await scrape(stack.state.api_url as string);
  assert.ok(
    manager.get('streamforge_console_clients')?.samples.some((s) => / 1$/.test(s)),
    'one console client is connected',
  );
  assert.ok(
    manager
      .get('streamforge_events_handled_total')
      ?.samples.some((s) => s.includes('type="dev.streamforge.telemetry"') && s.includes('outcome="ok"')),
  );
});

test('the dispatcher serves delivery metrics, consumer lag per KafkaSource and what it dead-lettered', async () => {
  const url = stack.state.dispatcher?.url as string;
  const families = await waitFor(
    'the dead-lettered command to be counted',
    async () => {
      const f = await scrape(url);
      return f
        .get('streamforge_dead_lettered_total')
        ?.samples.some((s) => s.includes('source="dummy-service-control"') && s.includes('reason="http_400"'))
        ? f
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  expectFamilies('dispatcher', families, {
    streamforge_dispatch_events_total: 'counter',
    streamforge_dispatch_attempts_total: 'counter',
    streamforge_dispatch_delivery_seconds: 'histogram',
    streamforge_dead_lettered_total: 'counter',
    streamforge_kafka_consumer_lag_messages: 'gauge',
  });
  expectConventions('dispatcher', families);
  const lag = families.get('streamforge_kafka_consumer_lag_messages')?.samples ?? [];
  for (const group of ['queue-manager-events', 'arango-connector-data', 'dummy-service-control']) {
    assert.ok(
      lag.some((s) => s.includes(`consumer_group="${stack.prefix}${group}"`)),
      `lag of ${group} is exported: ${lag.join('\n')}`,
    );
  }
});
