/**
 * Autoscaling on the local platform, measured in one run and printed as JSON:
 *
 *  - cold start as an event sees it: a ping published on dummy-service's command topic while dummy-service
 *    is at zero, until its pong is written (the pong's ponged_at − the ping's sent_at),
 *    next to the same ping answered by a running instance;
 *  - the backfill rate with autoscaling next to a fixed single instance of every function
 *    (STREAMFORGE_MAX_SCALE=1), same workload, in two exchange conditions: the simulator
 *    answering at once (the machine's CPU is then the limit) and answering after a delay as
 *    a distant exchange does (a single instance is then limited by its concurrency).
 *
 *   node bench/autoscaling.ts [--cold-runs 5] [--range 2022-01-01:2024-01-01] [--latency-ms 500]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { startLocalBroker, type PlatformStatusDocument } from '@streamforge/platform';
import { startPinger, startTestStack, waitFor, type TestStack } from '@streamforge/testing';
import { quantile } from './quantile.ts';

const { values } = parseArgs({
  options: {
    'cold-runs': { type: 'string', default: '5' },
    range: { type: 'string', default: '2022-01-01:2024-01-01' },
    'latency-ms': { type: 'string', default: '500' },
    'cold-only': { type: 'boolean', default: false },
  },
});

const scratch = mkdtempSync(join(tmpdir(), 'sf-bench-scale-'));
const broker = await startLocalBroker({ dataDir: join(scratch, 'kafka') });
process.env.KAFKA_BROKERS = broker.brokers;
const kafka = createBusConnection({ brokers: [broker.brokers], clientId: 'bench-autoscaling' });
await waitForKafka(kafka);

const round = (x: number) => Math.round(x * 10) / 10;

const status = (stack: TestStack): Promise<PlatformStatusDocument> => stack.platformStatus();
const running = (s: PlatformStatusDocument, name: string) =>
  s.functions.find((f) => f.name === name)?.instances.filter((i) => i.state !== 'draining').length ?? 0;

async function coldStarts(runs: number): Promise<Record<string, unknown>> {
  const stack = await startTestStack({
    STREAMFORGE_COOLDOWN_SECONDS: '2',
    STREAMFORGE_POLLING_INTERVAL_MS: '1000',
    LOG_LEVEL: 'warn',
  });
  const pinger = await startPinger(kafka, stack.prefix, { name: 'bench-ping', source: '/bench' });
  try {
    const ping = async (): Promise<number> => {
      const { pong } = await pinger.ping({ timeoutMs: 30_000, intervalMs: 5 });
      const data = pong.data as { ping_ts: number; ponged_at: number };
      return (data.ponged_at - data.ping_ts) * 1000;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    const processStart: number[] = [];
    const woken = new Set<string>();
    for (let i = 0; i < runs; i++) {
      // At zero for real: the previous instances have not only stopped taking requests but exited.
      await waitFor(
        "the ping's subscribers back at zero",
        async () =>
          (await status(stack)).functions.every((f) => f.name === 'queue-manager' || f.instances.length === 0),
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      cold.push(await ping());
      const after = await status(stack);
      for (const f of after.functions) if (f.name !== 'queue-manager' && f.instances.length > 0) woken.add(f.name);
      const instance = after.functions.find((f) => f.name === 'dummy-service')?.instances[0];
      if (instance?.cold_start_ms !== undefined) processStart.push(instance.cold_start_ms);
      warm.push(await ping());
    }
    return {
      what: 'ping published while dummy-service is at zero → pong written (event-seen cold start); warm: the next ping',
      runs,
      cold_ms: { p50: round(quantile(cold, 0.5)), max: round(Math.max(...cold)), all: cold.map(round) },
      instance_start_to_ready_ms: { p50: round(quantile(processStart, 0.5)), all: processStart.map(round) },
      warm_ms: { p50: round(quantile(warm, 0.5)), max: round(Math.max(...warm)) },
      // Only dummy-service should wake: each service has its own command topic.
      functions_the_ping_woke: [...woken].sort(),
      goal_ms: 500,
    };
  } finally {
    await pinger.close();
    await stack.down();
  }
}

async function backfillRate(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const stack = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    LOG_LEVEL: 'warn',
    STREAMFORGE_POLLING_INTERVAL_MS: '1000',
    ...env,
  });
  try {
    const started = performance.now();
    const response = await fetch(`${stack.state.api_url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'BTCUSDT', type: 'api_candles_1m', time_range: values.range }),
    });
    const workflow = (await response.json()) as { queue_id: string };
    const most: Record<string, number> = {};
    const done = await waitFor(
      'the backfill to end',
      async () => {
        const s = await status(stack);
        for (const f of s.functions) most[f.name] = Math.max(most[f.name] ?? 0, running(s, f.name));
        const w = (await (await fetch(`${stack.state.api_url}/workflows/${workflow.queue_id}`)).json()) as {
          status: string;
          stored?: { records_written: number };
        };
        return ['completed', 'error', 'stopped'].includes(w.status) ? w : undefined;
      },
      { timeoutMs: 900_000, intervalMs: 200 },
    );
    const seconds = (performance.now() - started) / 1000;
    if (done.status !== 'completed') throw new Error(`backfill ended ${done.status}`);
    const candles = done.stored?.records_written ?? 0;
    return {
      candles,
      seconds: round(seconds),
      candles_per_s: Math.round(candles / seconds),
      most_instances: { 'loader-api': most['loader-api'], 'arango-connector': most['arango-connector'] },
    };
  } finally {
    await stack.down();
  }
}

try {
  const cold = await coldStarts(Number(values['cold-runs']));
  const scenarios: Record<string, unknown> = {};
  for (const [name, latency] of values['cold-only']
    ? []
    : ([
        ['exchange_answers_at_once', '0'],
        [`exchange_latency_${values['latency-ms']}ms`, values['latency-ms']],
      ] as const)) {
    const single = await backfillRate({ STREAMFORGE_MAX_SCALE: '1', SIM_LATENCY_MS: latency });
    const scaled = await backfillRate({ SIM_LATENCY_MS: latency });
    scenarios[name] = {
      single_instance: single,
      autoscaling: scaled,
      ratio: round((scaled.candles_per_s as number) / (single.candles_per_s as number)),
    };
  }
  console.log(
    JSON.stringify(
      {
        bench: 'autoscaling',
        node: process.version,
        cores: availableParallelism(),
        range: values.range,
        cold_start: cold,
        backfill: scenarios,
        goals: { cold_start_ms: 500, autoscaling_vs_single: 1.6 },
      },
      null,
      2,
    ),
  );
} finally {
  await broker.stop();
  rmSync(scratch, { recursive: true, force: true });
}
