/**
 * Event-driven autoscaling through `streamforge up`: functions start at zero, scale out by
 * Kafka lag (KEDA's rule on the KafkaSource annotations) and return to zero after the
 * cooldown. The polling interval and cooldown are shortened for the test
 * (STREAMFORGE_POLLING_INTERVAL_MS, STREAMFORGE_COOLDOWN_SECONDS); the rest comes from the manifests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlatformStatusDocument } from '@streamforge/platform';
import { simulatorStackForFile, startPinger, testKafka, waitFor } from '@streamforge/testing';

const stack = simulatorStackForFile({ STREAMFORGE_POLLING_INTERVAL_MS: '500', STREAMFORGE_COOLDOWN_SECONDS: '4' });

const status = (): Promise<PlatformStatusDocument> => stack().platformStatus();
const running = (s: PlatformStatusDocument, name: string) =>
  s.functions.find((f) => f.name === name)?.instances.filter((i) => i.state !== 'draining').length ?? 0;

test('an idle stack runs no function instance, the manager included, once the cooldown has passed', async () => {
  // `up` itself called the manager (its readiness); after the cooldown it is back at zero.
  await waitFor('the manager at zero', async () => running(await status(), 'queue-manager') === 0, {
    timeoutMs: 30_000,
  });
  const s = await status();
  for (const name of ['loader-api', 'arango-connector', 'dummy-service'])
    assert.equal(running(s, name), 0, `${name} waits at zero`);
  const ps = await stack().cli(['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  // The deadline ping (every 5 minutes, knative/deadline-ping.yaml) may have woken the manager since.
  assert.match(ps.stdout, /queue-manager\s+[01]\s+0\.\.4/);
  assert.match(ps.stdout, /loader-api\s+0\s+0\.\.6/);
});

test('a year of 1m candles scales loader-api and the connector out by lag, then back to zero, with exact counts', async () => {
  const response = await fetch(`${stack().state.api_url}/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ symbol: 'BTCUSDT', type: 'api_candles_1m', time_range: '2023-01-01:2024-01-01' }),
  });
  const workflow = (await response.json()) as { queue_id: string; collection_name: string };
  const most = { 'loader-api': 0, 'arango-connector': 0 };
  const done = await waitFor(
    'the backfill to end',
    async () => {
      const s = await status();
      for (const name of ['loader-api', 'arango-connector'] as const)
        most[name] = Math.max(most[name], running(s, name));
      const w = (await (await fetch(`${stack().state.api_url}/workflows/${workflow.queue_id}`)).json()) as {
        status: string;
        stored?: { records_written: number };
      };
      return ['completed', 'error', 'stopped'].includes(w.status) ? w : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 100 },
  );
  assert.equal(done.status, 'completed');
  assert.equal(done.stored?.records_written, 525_600);
  assert.ok(most['loader-api'] > 1, `loader-api scaled out (most ${most['loader-api']})`);
  assert.ok(most['arango-connector'] > 1, `arango-connector scaled out (most ${most['arango-connector']})`);
  const count = (await (await fetch(`${stack().state.api_url}/collections/${workflow.collection_name}`)).json()) as {
    count: number;
  };
  assert.equal(count.count, 525_600);

  const idle = await waitFor(
    'both back at zero after the cooldown',
    async () => {
      const s = await status();
      return running(s, 'loader-api') === 0 && running(s, 'arango-connector') === 0 ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const mine = idle.decisions.filter((d) => d.function === 'loader-api' || d.function === 'arango-connector');
  assert.ok(
    mine.some((d) => d.to > d.from && /lag \d+ on (loader-api-work|arango-connector-data)/.test(d.reason)),
    JSON.stringify(mine),
  );
  assert.ok(
    mine.some((d) => d.to === 0 && /no lag and no requests for 4 s/.test(d.reason)),
    JSON.stringify(mine),
  );
});

test('a ping to dummy-service at zero starts it, gets its pong, and the start is a recorded decision', async (t) => {
  assert.equal(running(await status(), 'dummy-service'), 0);
  const pinger = await startPinger(testKafka(), stack().prefix, { name: 'diag-cold', source: '/test' });
  t.after(() => pinger.close());
  const { pong } = await pinger.ping();
  const data = pong.data as { ping_ts: number; ponged_at: number };
  t.diagnostic(`cold start as the ping saw it: ${Math.round((data.ponged_at - data.ping_ts) * 1000)} ms`);
  const s = await status();
  assert.equal(running(s, 'dummy-service'), 1);
  assert.ok(
    s.decisions.some((d) => d.function === 'dummy-service' && d.from === 0 && d.to === 1),
    JSON.stringify(s.decisions),
  );
});
