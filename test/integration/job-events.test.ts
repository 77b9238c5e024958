/**
 * The manager at zero still learns that a loader-ws Job died: `streamforge up` with the
 * kubernetes launcher against the test run's real API server. A live workflow's Job is made
 * there by the manager; once the manager has scaled to zero (the platform's /status says so;
 * the cooldown is shortened for the test), the Job is failed through its status subresource
 * (no Job controller runs). The platform's ApiServerSource sends the change to the manager's
 * activator, which starts an instance for it, and the workflow ends in `error` with the Job's
 * reason. The test reads the workflow from the store, not the API, so only the event can have
 * started the manager.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobNameOf } from '@streamforge/core/jobs';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import {
  applyAll,
  createNamespace,
  inNamespace,
  kubeCall,
  kubeconfigFor,
  kubeRequest,
  kubernetesSkipReason,
  serviceAccountToken,
  setJobCondition,
  stackApi,
  startTestStack,
  testKubernetes,
  uniqueName,
  waitFor,
  type TestStack,
} from '@streamforge/testing';
import { loadManifests } from '../../scripts/deploy/manifests.ts';

const skip =
  kubernetesSkipReason() ?? (process.env.STREAMFORGE_TEST_NO_KAFKA === '1' ? 'needs the Kafka broker' : false);
const rbac = loadManifests().knative.filter((d) => d.file === 'knative/rbac.yaml');

let dir: string;
let namespace: string;
let stack: TestStack | undefined;
let store: Store | undefined;

before(async () => {
  if (skip) return;
  const cluster = testKubernetes();
  namespace = uniqueName('sf-qm-zero');
  await createNamespace(cluster, namespace);
  assert.deepEqual(
    await applyAll(
      cluster,
      rbac.map((d) => ({ file: d.file, doc: inNamespace(d.doc, namespace) })),
    ),
    [],
  );
  dir = mkdtempSync(join(tmpdir(), 'sf-qm-zero-'));
  const kubeconfig = join(dir, 'queue-manager.kubeconfig');
  const token = await serviceAccountToken(cluster, namespace, 'queue-manager');
  writeFileSync(kubeconfig, kubeconfigFor({ ...cluster, token }, 'queue-manager'));
  // The Jobs are watched under the ApiServerSource's own account, as in a cluster: the manager's may not watch.
  const eventsKubeconfig = join(dir, 'job-events.kubeconfig');
  const eventsToken = await serviceAccountToken(cluster, namespace, 'loader-ws-job-events');
  writeFileSync(eventsKubeconfig, kubeconfigFor({ ...cluster, token: eventsToken }, 'loader-ws-job-events'));
  stack = await startTestStack({
    EXCHANGE: 'simulator',
    JOB_LAUNCHER: 'kubernetes',
    KUBECONFIG: kubeconfig,
    JOB_EVENTS_KUBECONFIG: eventsKubeconfig,
    JOB_NAMESPACE: namespace,
    // Scale-to-zero within seconds instead of the manifests' cooldown-period.
    STREAMFORGE_POLLING_INTERVAL_MS: '200',
    STREAMFORGE_COOLDOWN_SECONDS: '1',
  });
  store = await openSqliteStore(stack.state.store_url!.replace(/^sqlite:/, ''));
});

after(async () => {
  await store?.close();
  await stack?.down();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a loader-ws Job that fails while the manager has no instance turns its workflow to error with the Job’s reason', {
  skip,
}, async () => {
  const cluster = testKubernetes();
  const api = stackApi(() => stack!.state.api_url);
  const workflow = await api.start({ type: 'ws_trades', symbol: 'BTCUSDT' });
  const name = jobNameOf(workflow.queue_id);
  const job = await kubeCall(cluster, { method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}` });
  assert.equal(
    job.body.metadata.annotations['streamforge.dev/queue-id'],
    workflow.queue_id,
    'the manager made the Job',
  );

  await waitFor('the manager to scale to zero', async () => (await stack!.instances('queue-manager')) === 0, {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  const failedAt = new Date().toISOString();
  await setJobCondition(cluster, namespace, name, {
    type: 'Failed',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
  });

  const ended = await waitFor(
    'the workflow to end in error',
    async () => {
      const w = await store!.getWorkflow(workflow.queue_id);
      return w?.status === 'error' ? w : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  assert.equal(
    ended.error,
    `loader-ws Job ${name} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`,
  );
  const woken = (await stack!.platformStatus()).decisions.filter(
    (d) => d.function === 'queue-manager' && d.from === 0 && d.to === 1 && d.at >= failedAt,
  );
  assert.ok(woken.length > 0, 'the Job event scaled the manager from zero');
  // The failed Job stays, as in a cluster, until its TTL: the manager only recorded the failure.
  assert.equal(
    (await kubeRequest(cluster, { method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}` })).status,
    200,
  );
});
