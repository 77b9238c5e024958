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
import { JOB_EVENT_TYPES, QUEUE_ID_LABEL, jobNameOf, type JobEventType } from '@streamforge/core/jobs';
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
  testKubernetes,
  uniqueName,
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

/** A Job as the API serves it now (what an ApiServerSource's event carries as data). */
async function jobObject(cluster: TestKubernetes, namespace: string, name: string): Promise<Manifest> {
  return (await kubeCall(cluster, { method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}` })).body;
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

test('a Job whose status turns Failed is failed for get(), list() and for the manager’s Job events, which fail its workflow with the reason', {
  skip,
}, async (t) => {
  const { cluster, namespace, launcher } = await setup(t);
  const failedWorkflows: Array<[string, string]> = [];
  const live = createLiveJobs({
    launcher,
    logger,
    failWorkflow: async (queueId, reason) => failedWorkflows.push([queueId, reason]),
  });
  const event = async (type: JobEventType, id: string, job?: Manifest) =>
    live.onJobEvent(type, job ?? (await jobObject(cluster, namespace, jobNameOf(id))));
  const ids = ['wf-a-ws_trades-20261128-aaaaaa', 'wf-b-ws_trades-20261128-bbbbbb', 'wf-d-ws_trades-20261128-dddddd'];
  for (const id of ids) await launcher.launch(spec(id));
  assert.equal(await event(JOB_EVENT_TYPES.add, ids[0]!), undefined, 'a Job just created changes nothing');
  await setJobCondition(cluster, namespace, jobNameOf(ids[0]!), {
    type: 'Failed',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
  });
  await event(JOB_EVENT_TYPES.update, ids[0]!);
  // Someone else deletes a running Job (kubectl delete): the delete event carries the Job as it was.
  const running = await jobObject(cluster, namespace, jobNameOf(ids[1]!));
  await kubeCall(cluster, {
    method: 'DELETE',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs/${jobNameOf(ids[1]!)}`,
    body: { propagationPolicy: 'Background' },
  });
  await event(JOB_EVENT_TYPES.delete, ids[1]!, running);
  await setJobCondition(cluster, namespace, jobNameOf(ids[2]!), {
    type: 'Failed',
    reason: 'PodFailurePolicy',
    message: 'Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0',
  });
  await event(JOB_EVENT_TYPES.update, ids[2]!);
  assert.deepEqual(await launcher.get(ids[0]!), {
    name: jobNameOf(ids[0]!),
    queueId: ids[0],
    state: 'failed',
    reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
  });
  assert.deepEqual(
    (await launcher.list()).map((j) => [j.queueId, j.state]),
    [
      [ids[0], 'failed'],
      [ids[2], 'failed'],
    ],
  );
  assert.deepEqual(failedWorkflows, [
    [
      ids[0],
      `loader-ws Job ${jobNameOf(ids[0]!)} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
    ],
    [ids[1], `loader-ws Job ${jobNameOf(ids[1]!)} was deleted: Job ${jobNameOf(ids[1]!)} was deleted while it ran`],
    [
      ids[2],
      `loader-ws Job ${jobNameOf(ids[2]!)} failed: PodFailurePolicy: Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0`,
    ],
  ]);
});

test('a Job that completes is succeeded, and its events leave the workflow alone, its deletion too', {
  skip,
}, async (t) => {
  const { cluster, namespace, launcher } = await setup(t);
  const failedWorkflows: string[] = [];
  const live = createLiveJobs({
    launcher,
    logger,
    failWorkflow: async (queueId) => failedWorkflows.push(queueId),
  });
  const id = 'wf-e-ws_trades-20261128-eeeeee';
  await launcher.launch(spec(id));
  await setJobCondition(cluster, namespace, jobNameOf(id), {
    type: 'Complete',
    reason: 'CompletionsReached',
    message: 'Reached expected number of succeeded pods',
  });
  const completed = await jobObject(cluster, namespace, jobNameOf(id));
  assert.equal((await launcher.get(id))?.state, 'succeeded');
  assert.equal(await live.onJobEvent(JOB_EVENT_TYPES.update, completed), undefined);
  assert.equal(await launcher.stop(id), true);
  assert.equal(await live.onJobEvent(JOB_EVENT_TYPES.delete, completed), undefined);
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
