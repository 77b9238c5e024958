/**
 * The local platform's ApiServerSource (packages/platform/src/api-server-source.ts) against the
 * test run's real kube-apiserver: it follows the Jobs knative/job-events.yaml selects, with
 * the token of the account knative/rbac.yaml gives the ApiServerSource, and POSTs each change
 * to a sink as the binary-mode CloudEvent an ApiServerSource in Resource mode sends. The Jobs
 * are made by the manager's own launcher from the template; no controller runs, so the test
 * fails a Job itself (the status subresource, as the Job controller would).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOB_EVENT_TYPES, jobNameOf, type JobObject } from '@streamforge/core/jobs';
import type { LiveJobSpec } from '@streamforge/core/requests';
import { createLogger } from '@streamforge/core/telemetry';
import {
  deliverTo,
  kubeAccessFrom,
  loadApiServerSources,
  startKubernetesJobSource,
  type JobSource,
} from '@streamforge/platform';
import {
  applyAll,
  createNamespace,
  inNamespace,
  kubeCall,
  kubeconfigFor,
  kubernetesSkipReason,
  serviceAccountToken,
  setJobCondition,
  startRecordingSink,
  startTcpCutProxy,
  testKubernetes,
  uniqueName,
  waitFor,
  type RecordedRequest,
  type RecordingSink,
} from '@streamforge/testing';
import { KubernetesJobLauncher } from '../../functions/queue-manager/src/kubernetes-job-launcher.ts';
import { deadJobOf } from '../../functions/queue-manager/src/live-jobs.ts';
import { loadManifests } from '../../scripts/deploy/manifests.ts';
import { KNATIVE_DIR } from '../../scripts/deploy/paths.ts';

const skip = kubernetesSkipReason() ?? false;
const logger = createLogger({ service: 'job-events-source-test', level: 'silent' });
const rbac = loadManifests().knative.filter((d) => d.file === 'knative/rbac.yaml');
const [source] = loadApiServerSources(KNATIVE_DIR);

const spec = (queueId: string): LiveJobSpec => ({
  queue_id: queueId,
  type: 'ws_trades',
  market: 'spot',
  symbols: ['BTCUSDT'],
  collection_name: 'btcusdt_ws_trades_2026_11_28',
  kafka_topic: 'data-trades',
  telemetry_id: 'loader-ws__a1b2c3',
});

interface Setup {
  namespace: string;
  launcher: KubernetesJobLauncher;
  sink: RecordingSink;
  /** A kubeconfig with the ApiServerSource account's token, through `server` when given. */
  sourceKubeconfig(server?: string): string;
  start(kubeconfig: string): Promise<JobSource>;
}

async function setup(t: TestContext): Promise<Setup> {
  const cluster = testKubernetes();
  const namespace = uniqueName('sf-job-events');
  await createNamespace(cluster, namespace);
  assert.deepEqual(
    await applyAll(
      cluster,
      rbac.map((d) => ({ file: d.file, doc: inNamespace(d.doc, namespace) })),
    ),
    [],
  );
  const dir = mkdtempSync(join(tmpdir(), 'sf-job-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = (user: string, token: string, server = cluster.url): string => {
    const file = join(dir, `${user}-${uniqueName('k')}.kubeconfig`);
    writeFileSync(file, kubeconfigFor({ ...cluster, url: server, token }, user));
    return file;
  };
  const managerToken = await serviceAccountToken(cluster, namespace, 'queue-manager');
  const eventsToken = await serviceAccountToken(cluster, namespace, 'loader-ws-job-events');
  const launcher = new KubernetesJobLauncher({
    kubeConfig: KubernetesJobLauncher.configFrom(kubeconfig('queue-manager', managerToken)),
    namespace,
    logger,
  });
  const sink = await startRecordingSink();
  t.after(() => sink.close());
  return {
    namespace,
    launcher,
    sink,
    sourceKubeconfig: (server) => kubeconfig('loader-ws-job-events', eventsToken, server),
    async start(file) {
      const started = await startKubernetesJobSource({
        access: kubeAccessFrom(file),
        namespace,
        labelSelector: source!.resources[0]!.labelSelector,
        deliver: deliverTo(sink.url, { logger, backoffBaseMs: 50 }),
        logger,
        retryMs: 50,
      });
      t.after(() => started.close());
      return started;
    },
  };
}

const events = (sink: RecordingSink, name: string): RecordedRequest[] =>
  sink.accepted.filter((r) => r.headers['ce-subject']?.toString().endsWith(`/jobs/${name}`));
const typesOf = (requests: RecordedRequest[]) => requests.map((r) => r.headers['ce-type']);
const jobOf = (request: RecordedRequest): JobObject => JSON.parse(request.body) as JobObject;

test('knative/job-events.yaml selects the loader-ws Jobs in Resource mode and sends to the queue-manager', () => {
  assert.equal(source?.mode, 'Resource');
  assert.deepEqual(source?.resources, [
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      labelSelector: 'app.kubernetes.io/part-of=streamforge,app.kubernetes.io/name=loader-ws',
    },
  ]);
  assert.deepEqual(source?.sink, { kind: 'Service', name: 'queue-manager' });
});

test('a Job made by the launcher, failed, then deleted: an add, an update naming the reason, a delete, each as the ApiServerSource sends it', {
  skip,
}, async (t) => {
  const cluster = testKubernetes();
  const { namespace, launcher, sink, sourceKubeconfig, start } = await setup(t);
  await start(sourceKubeconfig());
  const id = 'wf-btcusdt-ws_trades-20261128-e1e2e3';
  const name = jobNameOf(id);
  await launcher.launch(spec(id));
  await waitFor('the add event', () => events(sink, name).length >= 1);
  await setJobCondition(cluster, namespace, name, {
    type: 'Failed',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
  });
  await waitFor('the update with the Failed condition', () =>
    events(sink, name).some((r) => jobOf(r).status?.conditions?.some((c) => c.type === 'Failed')),
  );
  await launcher.stop(id);
  await waitFor('the delete event', () => typesOf(events(sink, name)).includes(JOB_EVENT_TYPES.delete));
  const received = events(sink, name);
  assert.equal(received[0]!.headers['ce-type'], JOB_EVENT_TYPES.add);
  assert.equal(received.at(-1)!.headers['ce-type'], JOB_EVENT_TYPES.delete);
  assert.ok(
    typesOf(received.slice(1, -1)).every((type) => type === JOB_EVENT_TYPES.update),
    `updates between: ${typesOf(received).join(', ')}`,
  );
  for (const r of received) {
    assert.equal(r.headers['ce-specversion'], '1.0');
    assert.equal(r.headers['ce-source'], cluster.url);
    assert.equal(r.headers['ce-subject'], `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.ok(r.headers['ce-id'], 'every event has an id');
    // The data is the whole Job: its spec as the launcher rendered it, its metadata as the server keeps it.
    const job = jobOf(r);
    assert.equal(job.kind, 'Job');
    assert.equal(job.metadata?.name, name);
    assert.equal(job.metadata?.annotations?.['streamforge.dev/queue-id'], id);
    assert.ok(job.metadata?.uid);
  }
  assert.equal(new Set(received.map((r) => r.headers['ce-id'])).size, received.length, 'ids are unique');
  const failedUpdate = received.find((r) => jobOf(r).status?.conditions?.some((c) => c.type === 'Failed'))!;
  assert.deepEqual(deadJobOf(JOB_EVENT_TYPES.update, jobOf(failedUpdate)), {
    queueId: id,
    name,
    reason: `loader-ws Job ${name} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
  });
});

test('Jobs the selector does not pick send nothing, and the first list sends nothing either', { skip }, async (t) => {
  const cluster = testKubernetes();
  const { namespace, launcher, sink, sourceKubeconfig, start } = await setup(t);
  const before = 'wf-btcusdt-ws_trades-20261128-b0b0b0';
  await launcher.launch(spec(before));
  await start(sourceKubeconfig());
  await kubeCall(cluster, {
    method: 'POST',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    body: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'not-a-loader', labels: { 'app.kubernetes.io/name': 'other' } },
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.example/x' }] } },
      },
    },
  });
  // A Job it does pick, made last: once its add arrives, anything earlier would have too.
  const after = 'wf-btcusdt-ws_trades-20261128-a0a0a0';
  await launcher.launch(spec(after));
  await waitFor('the add of the last Job', () => events(sink, jobNameOf(after)).length >= 1);
  assert.deepEqual(
    sink.accepted.map((r) => r.headers['ce-subject']),
    [`/apis/batch/v1/namespaces/${namespace}/jobs/${jobNameOf(after)}`],
  );
});

test('a watch cut off is opened again from where it was: a Job failed afterwards is still sent', {
  skip,
}, async (t) => {
  const cluster = testKubernetes();
  const { namespace, launcher, sink, sourceKubeconfig, start } = await setup(t);
  const proxy = await startTcpCutProxy(Number(new URL(cluster.url).port));
  t.after(() => proxy.close());
  await start(sourceKubeconfig(`https://127.0.0.1:${proxy.port}`));
  const id = 'wf-btcusdt-ws_trades-20261128-c0c0c0';
  const name = jobNameOf(id);
  await launcher.launch(spec(id));
  await waitFor('the add event', () => events(sink, name).length >= 1);
  const connections = proxy.accepted();
  proxy.cut();
  await setJobCondition(cluster, namespace, name, { type: 'Failed', reason: 'PodFailurePolicy', message: 'exit 2' });
  await waitFor('the failure, sent after the watch was opened again', () =>
    events(sink, name).some((r) => jobOf(r).status?.conditions?.some((c) => c.type === 'Failed')),
  );
  assert.ok(proxy.accepted() > connections, 'the source connected again');
});
