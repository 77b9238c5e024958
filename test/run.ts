/**
 * The test run: one real Kafka broker for the whole suite (or the cluster in KAFKA_BROKERS),
 * then Node's test runner over every *.test.ts file, then the broker stops.
 *
 *   node test/run.ts                     all tests
 *   node test/run.ts packages/core/test/bus    only files under these paths
 *   node test/run.ts --no-kafka ...      without a broker (tests that need one fail fast)
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { PROJECT_ROOT, startLocalBroker, type LocalBroker } from '@streamforge/platform';

const args = process.argv.slice(2);
const noKafka = args.includes('--no-kafka');
const paths = args.filter((a) => !a.startsWith('--'));
const DEFAULT_GLOBS = ['packages/*/test/**/*.test.ts', 'functions/*/test/**/*.test.ts', 'test/**/*.test.ts'];
const globs =
  paths.length === 0
    ? DEFAULT_GLOBS
    : paths.map((p) => (p.endsWith('.ts') ? p : `${p.replace(/\/$/, '')}/**/*.test.ts`));

let broker: LocalBroker | undefined;
let scratch: string | undefined;
const env: NodeJS.ProcessEnv = { ...process.env };

async function stopBroker(): Promise<void> {
  if (broker) await broker.stop();
  broker = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopBroker().finally(() => process.exit(130));
  });
}

if (!noKafka && !process.env.KAFKA_BROKERS) {
  mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
  scratch = mkdtempSync(join(PROJECT_ROOT, '.cache', 'test-kafka-'));
  const started = Date.now();
  broker = await startLocalBroker({ dataDir: scratch });
  await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));
  env.KAFKA_BROKERS = broker.brokers;
  console.log(`test run: Kafka broker ${broker.brokers} ready in ${Date.now() - started} ms (pid ${broker.pid})`);
} else if (noKafka) {
  delete env.KAFKA_BROKERS;
  env.STREAMFORGE_TEST_NO_KAFKA = '1';
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const runnerArgs = [
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? 300_000}`,
  '--test-reporter=spec',
  // A file whose tests are over exits even with a handle left open by a set-up that failed
  // half-way: the failure is reported at once instead of the run hanging until CI's limit.
  '--test-force-exit',
  ...globs,
];
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, runnerArgs, { cwd: PROJECT_ROOT, env, stdio: 'inherit' });
  child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
});
await stopBroker();
process.exit(code);
