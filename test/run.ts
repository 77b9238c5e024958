/**
 * The test run: one real Kafka broker for the whole suite (or the cluster in KAFKA_BROKERS)
 * and one real Kubernetes API server (etcd and kube-apiserver, the CRD fixtures installed),
 * started side by side, then Node's test runner over every *.test.ts file, then both stop.
 *
 *   node test/run.ts                     all tests
 *   node test/run.ts packages/core/test/bus    only files under these paths
 *   node test/run.ts --no-kafka ...      without a broker (tests that need one fail fast)
 *   node test/run.ts --no-kubernetes ... without the API server (the Kubernetes tests skip)
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { PROJECT_ROOT, startLocalBroker, type LocalBroker } from '@streamforge/platform';
import {
  installCrds,
  kubeApiServerUnavailable,
  kubernetesTestEnv,
  startKubeApiServer,
  type KubeApiServer,
} from '@streamforge/testing';
import { loadCrdFixtures } from '../scripts/deploy/crds.ts';

const args = process.argv.slice(2);
const noKafka = args.includes('--no-kafka');
const noKubernetes = args.includes('--no-kubernetes');
const paths = args.filter((a) => !a.startsWith('--'));
const DEFAULT_GLOBS = ['packages/*/test/**/*.test.ts', 'functions/*/test/**/*.test.ts', 'test/**/*.test.ts'];
const globs =
  paths.length === 0
    ? DEFAULT_GLOBS
    : paths.map((p) => (p.endsWith('.ts') ? p : `${p.replace(/\/$/, '')}/**/*.test.ts`));

let broker: LocalBroker | undefined;
let scratch: string | undefined;
let kubernetes: KubeApiServer | undefined;
const env: NodeJS.ProcessEnv = { ...process.env };

async function stopServers(): Promise<void> {
  await Promise.all([broker?.stop(), kubernetes?.stop()]);
  broker = undefined;
  kubernetes = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopServers().finally(() => process.exit(130));
  });
}

async function startBroker(): Promise<void> {
  mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
  scratch = mkdtempSync(join(PROJECT_ROOT, '.cache', 'test-kafka-'));
  const started = Date.now();
  broker = await startLocalBroker({ dataDir: scratch });
  await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));
  env.KAFKA_BROKERS = broker.brokers;
  console.log(`test run: Kafka broker ${broker.brokers} ready in ${Date.now() - started} ms (pid ${broker.pid})`);
}

/** The API server and the CRDs `make deploy` needs; without a binary or etcd the Kubernetes tests skip and say why. */
async function startKubernetes(): Promise<void> {
  const unavailable = noKubernetes ? 'the test run was started with --no-kubernetes' : kubeApiServerUnavailable();
  if (unavailable) {
    Object.assign(env, kubernetesTestEnv({ unavailable }));
    console.log(`test run: no Kubernetes API server, its tests skip: ${unavailable}`);
    return;
  }
  // A free port taken by someone else between the pick and etcd's bind fails a start: once more.
  kubernetes = await startKubeApiServer().catch((error: unknown) => {
    console.log(`test run: the Kubernetes API server did not start, trying again: ${(error as Error).message}`);
    return startKubeApiServer();
  });
  const installing = Date.now();
  await installCrds(kubernetes, loadCrdFixtures());
  Object.assign(env, kubernetesTestEnv(kubernetes));
  console.log(
    `test run: Kubernetes API server ${kubernetes.url} ready in ${kubernetes.startMs} ms, CRDs installed in ${Date.now() - installing} ms (pids ${kubernetes.pids.join(', ')})`,
  );
}

if (noKafka) {
  delete env.KAFKA_BROKERS;
  env.STREAMFORGE_TEST_NO_KAFKA = '1';
}
// Both settle before anything is stopped: a server still starting when the other failed is stopped too.
const starts = await Promise.allSettled([
  !noKafka && !process.env.KAFKA_BROKERS ? startBroker() : undefined,
  startKubernetes(),
]);
const failed = starts.find((s) => s.status === 'rejected');
if (failed) {
  await stopServers();
  throw failed.reason;
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
await stopServers();
process.exit(code);
