import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { createLogger } from '@streamforge/core/telemetry';
import { QUEUE_ID_LABEL, jobNameOf, type JobEnded } from '@streamforge/core/jobs';
import { JOB_ENV_ENTRY_MAX_BYTES, type LiveJobSpec } from '@streamforge/core/requests';
import { KubernetesJobLauncher } from '../src/kubernetes-job-launcher.ts';
import { startKubernetesApiStandin, type KubernetesApiStandin } from '@streamforge/testing';
import { waitFor } from '@streamforge/testing';

const SCHEMA = fileURLToPath(new URL('../../../test/fixtures/schemas/job-batch-v1.json', import.meta.url));
const NAMESPACE = 'streamforge';
const TOKEN = 'standin-token';
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

function kubeConfig(url: string, token = TOKEN): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'standin', server: url, skipTLSVerify: true }],
    users: [{ name: 'queue-manager', token }],
    contexts: [{ name: 'standin', cluster: 'standin', user: 'queue-manager', namespace: NAMESPACE }],
    currentContext: 'standin',
  });
  return config;
}

async function setup(
  t: TestContext,
  namespace = NAMESPACE,
): Promise<{ api: KubernetesApiStandin; launcher: KubernetesJobLauncher }> {
  const api = await startKubernetesApiStandin({ namespace: NAMESPACE, token: TOKEN, validateJob: jobValidator() });
  const launcher = new KubernetesJobLauncher({
    kubeConfig: kubeConfig(api.url),
    namespace,
    logger,
    image: 'registry.local/streamforge/loader-ws:test',
    watchRetryMs: 50,
  });
  t.after(async () => {
    await launcher.close();
    await api.close();
  });
  return { api, launcher };
}

test('the Job made from knative/loader-ws-job.yaml validates against the batch/v1 schema and carries what the workflow needs', async (t) => {
  const { launcher } = await setup(t);
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

test('a workflow whose params would not fit one variable of a process environment gets no Job: Linux would refuse to start it (MAX_ARG_STRLEN)', async (t) => {
  const { api, launcher } = await setup(t);
  const tooLarge = { ...spec(), params: { note: 'x'.repeat(JOB_ENV_ENTRY_MAX_BYTES) } };
  await assert.rejects(
    launcher.launch(tooLarge),
    /^StreamForgeError: LOADER_WS_PARAMS: 131101 bytes as the Job's LOADER_WS_PARAMS, more than the 131072 one variable of a process environment may take/,
  );
  assert.deepEqual(api.requests, []);
});

test('launch POSTs the Job to its namespace, a second launch finds the existing one, stop DELETEs it with propagationPolicy Background', async (t) => {
  const { api, launcher } = await setup(t);
  const first = await launcher.launch(spec());
  assert.deepEqual(first, { name: jobNameOf(spec().queue_id), queueId: spec().queue_id, state: 'running' });
  const again = await launcher.launch(spec());
  assert.equal(again.state, 'running');
  assert.deepEqual(
    (await launcher.list()).map((j) => j.queueId),
    [spec().queue_id],
  );
  assert.equal(await launcher.stop(spec().queue_id), true);
  assert.equal(await launcher.stop(spec().queue_id), false, 'a Job that is gone: nothing to stop');
  assert.equal(await launcher.get(spec().queue_id), undefined);
  const calls = api.requests.map((r) => [r.method, r.path, r.status]);
  const path = `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`;
  const name = jobNameOf(spec().queue_id);
  assert.deepEqual(calls, [
    ['POST', path, 201],
    ['POST', path, 409],
    ['GET', `${path}/${name}`, 200],
    ['GET', path, 200],
    ['DELETE', `${path}/${name}`, 200],
    ['DELETE', `${path}/${name}`, 404],
    ['GET', `${path}/${name}`, 404],
  ]);
  assert.equal(api.requests[3]!.query.labelSelector, 'app.kubernetes.io/name=loader-ws');
  assert.equal(api.requests[4]!.query.propagationPolicy, 'Background');
  assert.deepEqual(jobValidator()(api.requests[0]!.body), [], 'the body sent is a valid batch/v1 Job');
});

test('the watch reports a failed Job once with its reason, a Job deleted by someone else, and never a Job the launcher stopped', async (t) => {
  const { api, launcher } = await setup(t);
  const ended: JobEnded[] = [];
  await launcher.watch((e) => ended.push(e));
  for (const id of [
    'wf-a-ws_trades-20261128-aaaaaa',
    'wf-b-ws_trades-20261128-bbbbbb',
    'wf-c-ws_trades-20261128-cccccc',
  ])
    await launcher.launch(spec(id));
  api.failJob(
    jobNameOf('wf-a-ws_trades-20261128-aaaaaa'),
    'BackoffLimitExceeded',
    'Job has reached the specified backoff limit',
  );
  api.deleteJob(jobNameOf('wf-b-ws_trades-20261128-bbbbbb'));
  await launcher.stop('wf-c-ws_trades-20261128-cccccc');
  await waitFor('two reports', () => ended.length >= 2);
  api.closeWatches(); // the API server ends watches after a while: the launcher watches again
  await waitFor('a new watch', () => api.requests.filter((r) => r.query.watch === 'true').length >= 2);
  api.failJob(jobNameOf('wf-a-ws_trades-20261128-aaaaaa'), 'BackoffLimitExceeded', 'again');
  await launcher.launch(spec('wf-d-ws_trades-20261128-dddddd'));
  api.failJob(
    jobNameOf('wf-d-ws_trades-20261128-dddddd'),
    'PodFailurePolicy',
    'Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0',
  );
  await waitFor('the third report', () => ended.length >= 3);
  assert.deepEqual(ended, [
    {
      queueId: 'wf-a-ws_trades-20261128-aaaaaa',
      name: jobNameOf('wf-a-ws_trades-20261128-aaaaaa'),
      outcome: 'failed',
      reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
    },
    {
      queueId: 'wf-b-ws_trades-20261128-bbbbbb',
      name: jobNameOf('wf-b-ws_trades-20261128-bbbbbb'),
      outcome: 'deleted',
      reason: `Job ${jobNameOf('wf-b-ws_trades-20261128-bbbbbb')} was deleted while it ran`,
    },
    {
      queueId: 'wf-d-ws_trades-20261128-dddddd',
      name: jobNameOf('wf-d-ws_trades-20261128-dddddd'),
      outcome: 'failed',
      reason:
        'PodFailurePolicy: Container loader-ws for pod x failed with exit code 2 matching FailJob rule at index 0',
    },
  ]);
});

test('the Kubernetes API stand-in answers what a real one refuses with Status objects', async (t) => {
  const { api } = await setup(t);
  const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { kind: string; reason: string; code: number; message: string },
    };
  };
  const jobs = `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`;
  assert.deepEqual((await call('GET', jobs, undefined, 'wrong')).body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    code: 401,
  });
  assert.equal((await call('GET', '/apis/batch/v1/namespaces/kube-system/jobs')).body.reason, 'Forbidden');
  assert.equal((await call('GET', `${jobs}/nope`)).body.message, 'jobs.batch "nope" not found');
  const invalid = await call('POST', jobs, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'Bad_Name' },
    spec: { template: { spec: { containers: [], restartPolicy: 'Always' } } },
  });
  assert.equal(invalid.status, 422);
  assert.match(invalid.body.message, /metadata\.name: Invalid value/);
  assert.match(invalid.body.message, /restartPolicy: Unsupported value: "Always"/);
  assert.equal((await call('PUT', `${jobs}/x`, {})).status, 405);
});

test('a launcher without the right to the namespace fails with the API server’s reason', async (t) => {
  const { launcher } = await setup(t, 'other');
  await assert.rejects(
    launcher.launch(spec()),
    (error: Error & { code?: string }) =>
      error.code === 'SF_DEPENDENCY_UNAVAILABLE' &&
      /cannot post resource "jobs" in API group "batch" in the namespace "other"/.test(error.message),
  );
});
