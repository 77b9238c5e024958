/**
 * knative/rbac.yaml on a real API server with RBAC authorisation: requests made with the
 * queue-manager ServiceAccount's own token (a TokenRequest, as a pod gets it) may create, get,
 * list and delete Jobs in its namespace and nothing else: no watch, no Secrets, no Pods, no Job
 * in another namespace, no changing a Job. The loader-ws account may do nothing at all. The
 * ApiServerSource's account (knative/job-events.yaml) may only get, list and watch Jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyAll,
  createNamespace,
  inNamespace,
  kubeRequest,
  kubernetesSkipReason,
  serviceAccountToken,
  testKubernetes,
  uniqueName,
  type TestKubernetes,
} from '@streamforge/testing';
import { loadManifests } from '../../scripts/deploy/manifests.ts';

const skip = kubernetesSkipReason() ?? false;
const rbac = loadManifests().knative.filter((d) => d.file === 'knative/rbac.yaml');

/** The Role in its own namespace, a second namespace beside it, and the accounts' tokens. */
async function deployRbac(
  cluster: TestKubernetes,
): Promise<{ namespace: string; other: string; manager: string; loader: string; events: string }> {
  const namespace = uniqueName('sf-rbac');
  const other = uniqueName('sf-other');
  await createNamespace(cluster, namespace);
  await createNamespace(cluster, other);
  assert.deepEqual(
    await applyAll(
      cluster,
      rbac.map((d) => ({ file: d.file, doc: inNamespace(d.doc, namespace) })),
    ),
    [],
  );
  return {
    namespace,
    other,
    manager: await serviceAccountToken(cluster, namespace, 'queue-manager'),
    loader: await serviceAccountToken(cluster, namespace, 'loader-ws'),
    events: await serviceAccountToken(cluster, namespace, 'loader-ws-job-events'),
  };
}

const job = (name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: {
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.example/busybox' }] } },
  },
});

/** What the server's authoriser answers for this token (SelfSubjectAccessReview), verb by verb. */
async function allowed(
  cluster: TestKubernetes,
  token: string,
  attributes: { verb: string; resource: string; group?: string; namespace: string; subresource?: string },
): Promise<boolean> {
  const answer = await kubeRequest(cluster, {
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    token,
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group: attributes.group ?? '', ...attributes } },
    },
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.status.allowed === true;
}

test('the queue-manager account creates, reads, lists and deletes Jobs in its namespace with its own token', {
  skip,
}, async () => {
  const cluster = testKubernetes();
  const { namespace, manager } = await deployRbac(cluster);
  const jobs = `/apis/batch/v1/namespaces/${namespace}/jobs`;
  const created = await kubeRequest(cluster, { method: 'POST', path: jobs, body: job('loader-ws-a'), token: manager });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(
    (await kubeRequest(cluster, { method: 'GET', path: `${jobs}/loader-ws-a`, token: manager })).status,
    200,
  );
  const listed = await kubeRequest(cluster, { method: 'GET', path: jobs, token: manager });
  assert.deepEqual(
    listed.body.items.map((j: { metadata: { name: string } }) => j.metadata.name),
    ['loader-ws-a'],
  );
  const deleted = await kubeRequest(cluster, {
    method: 'DELETE',
    path: `${jobs}/loader-ws-a`,
    body: { propagationPolicy: 'Background' },
    token: manager,
  });
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  for (const verb of ['create', 'get', 'list', 'delete'])
    assert.equal(await allowed(cluster, manager, { verb, group: 'batch', resource: 'jobs', namespace }), true, verb);
});

test('the queue-manager account is refused Secrets, Pods, changing Jobs and Jobs of other namespaces, with the server’s reason', {
  skip,
}, async () => {
  const cluster = testKubernetes();
  const { namespace, other, manager } = await deployRbac(cluster);
  const user = `system:serviceaccount:${namespace}:queue-manager`;
  const refusals: Array<[string, string, unknown, string]> = [
    [
      'GET',
      `/api/v1/namespaces/${namespace}/secrets`,
      undefined,
      `cannot list resource "secrets" in API group "" in the namespace "${namespace}"`,
    ],
    [
      'GET',
      `/api/v1/namespaces/${namespace}/pods`,
      undefined,
      `cannot list resource "pods" in API group "" in the namespace "${namespace}"`,
    ],
    [
      'GET',
      `/api/v1/namespaces/${namespace}/pods/x/log`,
      undefined,
      `cannot get resource "pods/log" in API group "" in the namespace "${namespace}"`,
    ],
    [
      'POST',
      `/apis/batch/v1/namespaces/${other}/jobs`,
      job('loader-ws-b'),
      `cannot create resource "jobs" in API group "batch" in the namespace "${other}"`,
    ],
    [
      'GET',
      `/apis/batch/v1/namespaces/${other}/jobs`,
      undefined,
      `cannot list resource "jobs" in API group "batch" in the namespace "${other}"`,
    ],
    ['GET', '/apis/batch/v1/jobs', undefined, 'cannot list resource "jobs" in API group "batch" at the cluster scope'],
  ];
  for (const [method, path, body, reason] of refusals) {
    const answer = await kubeRequest(cluster, { method, path, body, token: manager });
    assert.equal(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.reason, 'Forbidden');
    assert.match(answer.body.message, new RegExp(`User "${user}" ${reason.replace(/[()[\]/.]/g, '\\$&')}`));
  }
  // No watch: the Jobs' changes come to the manager from the ApiServerSource, under its own account.
  for (const verb of ['update', 'patch', 'watch'])
    assert.equal(await allowed(cluster, manager, { verb, group: 'batch', resource: 'jobs', namespace }), false, verb);
  assert.equal(
    await allowed(cluster, manager, {
      verb: 'patch',
      group: 'batch',
      resource: 'jobs',
      subresource: 'status',
      namespace,
    }),
    false,
    'jobs/status',
  );
  assert.equal(await allowed(cluster, manager, { verb: 'create', resource: 'pods', namespace }), false, 'create pods');
});

test('the loader-ws account may do nothing in the API', { skip }, async () => {
  const cluster = testKubernetes();
  const { namespace, loader } = await deployRbac(cluster);
  const answer = await kubeRequest(cluster, {
    method: 'GET',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    token: loader,
  });
  assert.equal(answer.status, 403);
  assert.match(
    answer.body.message,
    new RegExp(`User "system:serviceaccount:${namespace}:loader-ws" cannot list resource "jobs"`),
  );
  for (const [group, resource] of [
    ['batch', 'jobs'],
    ['', 'configmaps'],
    ['', 'secrets'],
    ['', 'pods'],
  ])
    assert.equal(await allowed(cluster, loader, { verb: 'get', group, resource, namespace }), false, resource);
});

test('the ApiServerSource account gets, lists and watches Jobs in its namespace, and may do nothing else', {
  skip,
}, async () => {
  const cluster = testKubernetes();
  const { namespace, other, events } = await deployRbac(cluster);
  const user = `system:serviceaccount:${namespace}:loader-ws-job-events`;
  const jobs = `/apis/batch/v1/namespaces/${namespace}/jobs`;
  await kubeRequest(cluster, { method: 'POST', path: jobs, body: job('loader-ws-b') });
  assert.equal((await kubeRequest(cluster, { method: 'GET', path: `${jobs}/loader-ws-b`, token: events })).status, 200);
  const listed = await kubeRequest(cluster, { method: 'GET', path: jobs, token: events });
  assert.deepEqual(
    listed.body.items.map((j: { metadata: { name: string } }) => j.metadata.name),
    ['loader-ws-b'],
  );
  // A watch answers 200 and streams; one that ends at once (timeoutSeconds=1) is enough to see it allowed.
  const watched = await kubeRequest(cluster, {
    method: 'GET',
    path: `${jobs}?watch=1&timeoutSeconds=1&resourceVersion=${listed.body.metadata.resourceVersion}`,
    token: events,
  });
  assert.equal(watched.status, 200, JSON.stringify(watched.body));
  for (const verb of ['get', 'list', 'watch'])
    assert.equal(await allowed(cluster, events, { verb, group: 'batch', resource: 'jobs', namespace }), true, verb);
  const refusals: Array<[string, string, unknown, string]> = [
    ['POST', jobs, job('loader-ws-c'), 'cannot create resource "jobs" in API group "batch"'],
    [
      'DELETE',
      `${jobs}/loader-ws-b`,
      { propagationPolicy: 'Background' },
      'cannot delete resource "jobs" in API group "batch"',
    ],
    ['GET', `/api/v1/namespaces/${namespace}/secrets`, undefined, 'cannot list resource "secrets" in API group ""'],
    ['GET', `/api/v1/namespaces/${namespace}/pods`, undefined, 'cannot list resource "pods" in API group ""'],
    [
      'GET',
      `/apis/batch/v1/namespaces/${other}/jobs`,
      undefined,
      `cannot list resource "jobs" in API group "batch" in the namespace "${other}"`,
    ],
  ];
  for (const [method, path, body, reason] of refusals) {
    const answer = await kubeRequest(cluster, { method, path, body, token: events });
    assert.equal(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    assert.match(answer.body.message, new RegExp(`User "${user}" ${reason.replace(/[()[\]/.]/g, '\\$&')}`));
  }
  for (const verb of ['create', 'update', 'patch', 'delete'])
    assert.equal(await allowed(cluster, events, { verb, group: 'batch', resource: 'jobs', namespace }), false, verb);
  assert.equal(await allowed(cluster, events, { verb: 'get', resource: 'secrets', namespace }), false, 'get secrets');
});
