/**
 * The kubernetes Job launcher against a real API server (the test run's kube-apiserver):
 * each test deploys knative/rbac.yaml into a namespace of its own and the launcher talks with
 * the queue-manager ServiceAccount's token, as in a pod. No controller runs there, so a Job
 * gets no pods and the test moves its status itself, as the Job controller would.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { createLogger } from '@streamforge/core/telemetry';
import { QUEUE_ID_LABEL, jobNameOf, type JobEnded, type JobLauncher } from '@streamforge/core/jobs';
import { JOB_ENV_ENTRY_MAX_BYTES, type LiveJobSpec } from '@streamforge/core/requests';
import { KubernetesJobLauncher } from '../src/kubernetes-job-launcher.ts';
import { createLiveJobs } from '../src/live-jobs.ts';
import {
  applyAll,
  createNamespace,
  inNamespace,
  kubeCall,
  kubeRequest,
  kubernetesSkipReason,
  serviceAccountToken,
  setJobCondition,
  startTcpCutProxy,
  testKubernetes,
  uniqueName,
  waitFor,
  type Manifest,
  type TestKubernetes,
} from '@streamforge/testing';

const SCHEMA = fileURLToPath(new URL('../../../test/fixtures/schemas/job-batch-v1.json', import.meta.url));
const RBAC = fileURLToPath(new URL('../../../knative/rbac.yaml', import.meta.url));
const skip = kubernetesSkipReason() ?? false;
const NAMESPACE = 'streamforge';
const logger = createLogger({ service: 'job-launcher-test', level: 'silent' });

/** batch/v1 Job schema of Kubernetes v1.32 (test/fixtures/README.md); `$schema` names no draft ajv knows, so it is dropped. */
function jobValidator(): (body: unknown) => string[] {
  const { $schema: _, ...schema } = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  return (body) => (validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
}

const spec = (queueId = 'wf-btcusdt-ws_candles_1m-20261128-a1b2c3'): LiveJobSpec => ({
  queue_id: queueId,
  type: 'ws_candles_1m',
  market: 'spot',
  symbols: ['BTCUSDT', 'ETHUSDT'],
  collection_name: 'btcusdt_ws_candles_1m_2026_11_28',
  kafka_topic: 'data-klines',
  telemetry_id: 'loader-ws__a1b2c3',
  params: { depth_levels: 50 },
});

/** client-node's configuration as a pod's would be: the server, its CA, the ServiceAccount's token. */
function kubeConfig(cluster: TestKubernetes, token: string, namespace: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'test', server: cluster.url, caData: Buffer.from(cluster.ca).toString('base64') }],
    users: [{ name: 'queue-manager', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'queue-manager', namespace }],
    currentContext: 'test',
  });
  return config;
}

interface Setup {
  cluster: TestKubernetes;
  namespace: string;
  launcher: KubernetesJobLauncher;
  /** The queue-manager account's token. */
  token: string;
  /** The Jobs in the namespace, as the admin reads them. */
  jobs(): Promise<Manifest[]>;
}

/** knative/rbac.yaml in a fresh namespace, and a launcher with the queue-manager's token for `launcherNamespace`. */
async function setup(t: TestContext, launcherNamespace?: string): Promise<Setup> {
  const cluster = testKubernetes();
  const namespace = uniqueName('sf-jobs');
  await createNamespace(cluster, namespace);
  const rbac = loadAllYaml(readFileSync(RBAC, 'utf8')) as Manifest[];
  assert.deepEqual(
    await applyAll(
      cluster,
      rbac.map((doc) => ({ file: 'knative/rbac.yaml', doc: inNamespace(doc, namespace) })),
    ),
    [],
  );
  const token = await serviceAccountToken(cluster, namespace, 'queue-manager');
  const launcher = new KubernetesJobLauncher({
    kubeConfig: kubeConfig(cluster, token, namespace),
    namespace: launcherNamespace ?? namespace,
    logger,
    image: 'registry.local/streamforge/loader-ws:test',
    watchRetryMs: 50,
  });
  t.after(() => launcher.close());
  const jobs = async () =>
    (await kubeCall(cluster, { method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs` })).body.items;
  return { cluster, namespace, launcher, token, jobs };
}

test('the Job made from knative/loader-ws-job.yaml validates against the batch/v1 schema and carries what the workflow needs', () => {
  // Rendering needs no server: this configuration is never used.
  const offline = new KubeConfig();
  offline.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:9' }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  const launcher = new KubernetesJobLauncher({
    kubeConfig: offline,
    namespace: NAMESPACE,
    logger,
    image: 'registry.local/streamforge/loader-ws:test',
  });
  const job = launcher.render(spec());
  assert.deepEqual(jobValidator()(job), []);
  assert.equal(job.metadata.name, jobNameOf(spec().queue_id));
  assert.ok(job.metadata.name!.length <= 63);
  assert.equal(job.metadata.namespace, NAMESPACE);
  assert.equal(job.metadata.labels![QUEUE_ID_LABEL], spec().queue_id);
  assert.equal(job.spec.template.metadata!.labels![QUEUE_ID_LABEL], spec().queue_id, 'pods carry the queue id too');
  assert.equal(job.metadata.annotations!['streamforge.dev/queue-id'], spec().queue_id);
  assert.equal(job.spec.backoffLimit, 3);
  assert.equal(job.spec.ttlSecondsAfterFinished, 3600);
  assert.deepEqual(job.spec.podFailurePolicy!.rules[0]!.onExitCodes, {
    containerName: 'loader-ws',
    operator: 'In',
    values: [2],
  });
  const pod = job.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'loader-ws');
  assert.equal(pod.restartPolicy, 'Never');
  const container = pod.containers[0]!;
  assert.equal(container.image, 'registry.local/streamforge/loader-ws:test');
  assert.deepEqual(container.resources, {
    requests: { cpu: '250m', memory: '192Mi' },
    limits: { cpu: '1', memory: '512Mi' },
  });
  const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.deepEqual(
    {
      QUEUE_ID: env.QUEUE_ID,
      TYPE: env.TYPE,
      SYMBOLS: env.SYMBOLS,
      MARKET: env.MARKET,
      COLLECTION_NAME: env.COLLECTION_NAME,
      KAFKA_TOPIC: env.KAFKA_TOPIC,
      TELEMETRY_PRODUCER_ID: env.TELEMETRY_PRODUCER_ID,
      LOADER_WS_PARAMS: env.LOADER_WS_PARAMS,
    },
    {
      QUEUE_ID: spec().queue_id,
      TYPE: 'ws_candles_1m',
      SYMBOLS: 'BTCUSDT,ETHUSDT',
      MARKET: 'spot',
      COLLECTION_NAME: 'btcusdt_ws_candles_1m_2026_11_28',
      KAFKA_TOPIC: 'data-klines',
      TELEMETRY_PRODUCER_ID: 'loader-ws__a1b2c3',
      LOADER_WS_PARAMS: '{"depth_levels":50}',
    },
  );
  assert.deepEqual(env.KAFKA_BROKERS, { configMapKeyRef: { name: 'streamforge-config', key: 'KAFKA_BROKERS' } });
  const long = launcher.render(spec(`wf-${'x'.repeat(120)}-ws_trades-20261128-zzzzzz`));
  assert.deepEqual(jobValidator()(long), []);
  assert.ok(
    long.metadata.name!.length <= 63 && long.metadata.labels![QUEUE_ID_LABEL]!.length <= 63,
    'long queue ids still make valid names and labels',
  );
});

/** The launcher as the manager holds it, with what its watch reports also kept in `ended`. */
function reporting(launcher: KubernetesJobLauncher, ended: JobEnded[]): JobLauncher {
  return {
    kind: launcher.kind,
    launch: (s) => launcher.launch(s),
    stop: (queueId) => launcher.stop(queueId),
    get: (queueId) => launcher.get(queueId),
    list: () => launcher.list(),
    watch: (onEnded) =>
      launcher.watch((e) => {
        ended.push(e);
        onEnded(e);
      }),
    close: () => launcher.close(),
  };
}

test('a workflow whose params would not fit one variable of a process environment gets no Job: Linux would refuse to start it (MAX_ARG_STRLEN)', {
  skip,
}, async (t) => {
  const { launcher, jobs } = await setup(t);
  const tooLarge = { ...spec(), params: { note: 'x'.repeat(JOB_ENV_ENTRY_MAX_BYTES) } };
  await assert.rejects(
    launcher.launch(tooLarge),
    /^StreamForgeError: LOADER_WS_PARAMS: 131101 bytes as the Job's LOADER_WS_PARAMS, more than the 131072 one variable of a process environment may take/,
  );
  assert.deepEqual(await jobs(), []);
});

test('launch creates the Job the server accepts, a second launch finds the existing one, stop deletes it with propagationPolicy Background', {
  skip,
}, async (t) => {
  const { cluster, namespace, launcher, jobs } = await setup(t);
  const name = jobNameOf(spec().queue_id);
  const first = await launcher.launch(spec());
  assert.deepEqual(first, { name, queueId: spec().queue_id, state: 'running' });
  const [stored] = await jobs();
  assert.equal(stored.metadata.name, name);
  assert.equal(stored.metadata.labels[QUEUE_ID_LABEL], spec().queue_id);
  assert.equal(stored.spec.template.spec.containers[0].image, 'registry.local/streamforge/loader-ws:test');
  assert.equal(stored.spec.template.spec.serviceAccountName, 'loader-ws');
  assert.deepEqual(stored.spec.podFailurePolicy.rules[0].onExitCodes.values, [2]);
  // The server generated the pod selector from the Job's uid: it took the Job as a Job.
  assert.equal(stored.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], stored.metadata.uid);
  const again = await launcher.launch(spec());
  assert.deepEqual(again, first, 'the existing Job (409 from the server) is the Job');
  assert.equal((await jobs()).length, 1);
  assert.deepEqual(
    (await launcher.list()).map((j) => j.queueId),
    [spec().queue_id],
  );
  assert.equal(await launcher.stop(spec().queue_id), true);
  // Background propagation removes the Job at once and leaves its pods to the garbage collector;
  // the API's default for Jobs (orphan) or foreground would keep it, with a finalizer, until a
  // garbage collector runs, and none runs here.
  assert.deepEqual(await jobs(), []);
  assert.equal(await launcher.stop(spec().queue_id), false, 'a Job that is gone: nothing to stop');
  assert.equal(await launcher.get(spec().queue_id), undefined);
  // The contrast: the same deletion without a policy leaves the Job in place, orphaning.
  await launcher.launch(spec());
  await kubeCall(cluster, { method: 'DELETE', path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}` });
  const [orphaning] = await jobs();
  assert.deepEqual(orphaning.metadata.finalizers, ['orphan']);
  assert.ok(orphaning.metadata.deletionTimestamp);
});

test('a Job whose status turns Failed is failed for get(), list(), the watch and the manager, which fails its workflow with the reason', {
  skip,
}, async (t) => {
  const { cluster, namespace, launcher } = await setup(t);
  const ended: JobEnded[] = [];
  const failedWorkflows: Array<[string, string]> = [];
  const live = createLiveJobs({
    launcher: reporting(launcher, ended),
    logger,
    failWorkflow: async (queueId, reason) => failedWorkflows.push([queueId, reason]),
  });
  await live.watch();
  const ids = ['wf-a-ws_trades-20261128-aaaaaa', 'wf-b-ws_trades-20261128-bbbbbb', 'wf-c-ws_trades-20261128-cccccc'];
  for (const id of ids) await launcher.launch(spec(id));
  await setJobCondition(cluster, namespace, jobNameOf(ids[0]!), {
    type: 'Failed',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
  });
  // Someone else deletes a running Job (kubectl delete); the launcher itself stops the third.
  await kubeCall(cluster, {
    method: 'DELETE',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs/${jobNameOf(ids[1]!)}`,
    body: { propagationPolicy: 'Background' },
  });
  await launcher.stop(ids[2]!);
  await waitFor('two reports', () => ended.length >= 2 && failedWorkflows.length >= 2);
  assert.deepEqual(await launcher.get(ids[0]!), {
    name: jobNameOf(ids[0]!),
    queueId: ids[0],
    state: 'failed',
    reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
  });
  assert.deepEqual(
    (await launcher.list()).map((j) => [j.queueId, j.state]),
    [[ids[0], 'failed']],
  );
  await launcher.launch(spec('wf-d-ws_trades-20261128-dddddd'));
  await setJobCondition(cluster, namespace, jobNameOf('wf-d-ws_trades-20261128-dddddd'), {
    type: 'Failed',
    reason: 'PodFailurePolicy',
    message: 'Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0',
  });
  await waitFor('the third report', () => ended.length >= 3 && failedWorkflows.length >= 3);
  assert.deepEqual(ended, [
    {
      queueId: ids[0],
      name: jobNameOf(ids[0]!),
      outcome: 'failed',
      reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
    },
    {
      queueId: ids[1],
      name: jobNameOf(ids[1]!),
      outcome: 'deleted',
      reason: `Job ${jobNameOf(ids[1]!)} was deleted while it ran`,
    },
    {
      queueId: 'wf-d-ws_trades-20261128-dddddd',
      name: jobNameOf('wf-d-ws_trades-20261128-dddddd'),
      outcome: 'failed',
      reason:
        'PodFailurePolicy: Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0',
    },
  ]);
  assert.deepEqual(failedWorkflows, [
    [
      ids[0],
      `loader-ws Job ${jobNameOf(ids[0]!)} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
    ],
    [ids[1], `loader-ws Job ${jobNameOf(ids[1]!)} was deleted: Job ${jobNameOf(ids[1]!)} was deleted while it ran`],
    [
      'wf-d-ws_trades-20261128-dddddd',
      `loader-ws Job ${jobNameOf('wf-d-ws_trades-20261128-dddddd')} failed: PodFailurePolicy: Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0`,
    ],
  ]);
});

test('a watch cut off, as the API server ends watches after a while, is opened again: Jobs that fail afterwards are still reported', {
  skip,
}, async (t) => {
  const { cluster, namespace, token } = await setup(t);
  // The launcher reaches the server through a proxy that can cut its connections; the test does not.
  const proxy = await startTcpCutProxy(Number(new URL(cluster.url).port));
  t.after(() => proxy.close());
  const launcher = new KubernetesJobLauncher({
    kubeConfig: kubeConfig({ ...cluster, url: `https://127.0.0.1:${proxy.port}` }, token, namespace),
    namespace,
    logger,
    watchRetryMs: 50,
  });
  t.after(() => launcher.close());
  const ended: JobEnded[] = [];
  await launcher.watch((e) => ended.push(e));
  const [first, second] = ['wf-f-ws_trades-20261128-ffffff', 'wf-g-ws_trades-20261128-gggggg'];
  await launcher.launch(spec(first));
  const connections = proxy.accepted();
  proxy.cut();
  const failed = { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'gone' } as const;
  await setJobCondition(cluster, namespace, jobNameOf(first), failed);
  await waitFor('the Job that failed after the cut', () => ended.length >= 1);
  // Created after the launcher listed again: only the new watch can report it.
  await launcher.launch(spec(second));
  await setJobCondition(cluster, namespace, jobNameOf(second), failed);
  await waitFor('the Job that failed under the new watch', () => ended.length >= 2);
  assert.ok(proxy.accepted() > connections, 'the launcher connected again');
  assert.deepEqual(
    ended.map((e) => [e.queueId, e.outcome, e.reason]),
    [
      [first, 'failed', 'BackoffLimitExceeded: gone'],
      [second, 'failed', 'BackoffLimitExceeded: gone'],
    ],
  );
});

test('a Job that completes is reported as succeeded, and the manager leaves its workflow alone', {
  skip,
}, async (t) => {
  const { cluster, namespace, launcher } = await setup(t);
  const ended: JobEnded[] = [];
  const failedWorkflows: string[] = [];
  const live = createLiveJobs({
    launcher: reporting(launcher, ended),
    logger,
    failWorkflow: async (queueId) => failedWorkflows.push(queueId),
  });
  await live.watch();
  const id = 'wf-e-ws_trades-20261128-eeeeee';
  await launcher.launch(spec(id));
  await setJobCondition(cluster, namespace, jobNameOf(id), {
    type: 'Complete',
    reason: 'CompletionsReached',
    message: 'Reached expected number of succeeded pods',
  });
  await waitFor('the report', () => ended.length >= 1);
  assert.deepEqual(ended, [{ queueId: id, name: jobNameOf(id), outcome: 'succeeded', reason: 'CompletionsReached' }]);
  assert.equal((await launcher.get(id))?.state, 'succeeded');
  assert.deepEqual(failedWorkflows, []);
});

test('a launcher without the right to the namespace fails with the API server’s reason', { skip }, async (t) => {
  const other = uniqueName('sf-other');
  const { cluster, namespace, launcher } = await setup(t, other);
  await createNamespace(cluster, other);
  await assert.rejects(
    launcher.launch(spec()),
    (error: Error & { code?: string }) =>
      error.code === 'SF_DEPENDENCY_UNAVAILABLE' &&
      error.message.includes(
        `User "system:serviceaccount:${namespace}:queue-manager" cannot create resource "jobs" in API group "batch" in the namespace "${other}"`,
      ),
  );
  const listed = await kubeRequest(cluster, { method: 'GET', path: `/apis/batch/v1/namespaces/${other}/jobs` });
  assert.deepEqual(listed.body.items, []);
});
