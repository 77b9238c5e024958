/**
 * Workflows through the whole control path, measured: prints one JSON document.
 *
 *   node bench/workflows-load.ts [--count 50] [--steps 5] [--interval-ms 0]
 *
 * A stack started as `streamforge up` starts it (on KAFKA_BROKERS, or a broker started
 * here); the load generator (packages/load/src/load-generator.ts) starts `count`
 * simulated workflows (`dummy_load`: dummy-service plays started, `steps` × loading,
 * finished) through the manager's API, all at once, and follows them on the manager's
 * live stream (GET /console/stream) until each is final. Measured:
 *
 * - workflows/s: workflows over the time from the first start request to the last final
 *   status seen on the stream;
 * - status latency p50/p99: from a telemetry event's timestamp (set by dummy-service when
 *   it emits) to the workflow version that event produced arriving on the stream; over
 *   every pushed version, and for the final status alone;
 * - telemetry lost: the manager's trail of each workflow against the events dummy-service
 *   says it sent.
 *
 * Baseline, measured in the same run on the same stack: the same workflows one after
 * another (each started when the previous one is final).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { PROJECT_ROOT, startLocalBroker, type LocalBroker } from '@streamforge/platform';
import { runWorkflowLoad, type WorkflowLoadResult } from '@streamforge/load';
import { startTestStack } from '@streamforge/testing';

const { values } = parseArgs({
  options: { count: { type: 'string' }, steps: { type: 'string' }, 'interval-ms': { type: 'string' } },
});
const count = Number(values.count ?? 50);
const params = {
  steps: Number(values.steps ?? 5),
  records_per_step: 100,
  interval_ms: Number(values['interval-ms'] ?? 0),
};

let broker: LocalBroker | undefined;
let scratch: string | undefined;
if (!process.env.KAFKA_BROKERS) {
  mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
  scratch = mkdtempSync(join(PROJECT_ROOT, '.cache', 'bench-workflows-'));
  broker = await startLocalBroker({ dataDir: scratch });
  await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));
  process.env.KAFKA_BROKERS = broker.brokers;
}

const summary = (r: WorkflowLoadResult) => ({
  workflows: r.started,
  by_status: r.by_status,
  elapsed_ms: r.elapsed_ms,
  workflows_per_second: r.workflows_per_second,
  status_latency_ms: r.status_latency_ms,
  final_status_latency_ms: r.final_latency_ms,
  start_request_ms: r.accept_ms,
  telemetry: r.trails,
});

const stack = await startTestStack({ LOG_LEVEL: 'warn' });
try {
  const apiUrl = stack.state.api_url as string;
  // Warm-up: JIT, connections, the manager's event tail and the dummy's consumer positions.
  await runWorkflowLoad({ apiUrl, count: 5, params, checkTrails: false });
  const sequential = await runWorkflowLoad({ apiUrl, count, params, sequential: true });
  const concurrent = await runWorkflowLoad({ apiUrl, count, params });
  const ok = (r: WorkflowLoadResult) =>
    r.by_status.completed === count && r.trails?.lost === 0 && r.failed_to_start.length === 0;
  console.log(
    JSON.stringify(
      {
        benchmark: 'workflows-load',
        node: process.version,
        cpus: cpus().length,
        broker: broker ? 'started by the benchmark' : 'KAFKA_BROKERS',
        workflow: { type: 'dummy_load', params, telemetry_events_each: params.steps + 2 },
        concurrent: summary(concurrent),
        baseline_one_after_another: summary(sequential),
        speedup_workflows_per_second:
          Math.round((concurrent.workflows_per_second / Math.max(sequential.workflows_per_second, 1e-9)) * 100) / 100,
        all_final_and_nothing_lost: ok(concurrent) && ok(sequential),
      },
      null,
      2,
    ),
  );
} finally {
  await stack.down();
  await broker?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
