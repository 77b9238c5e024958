/**
 * Manifests onto a real API server as `kubectl apply --server-side` puts them: the resource
 * found by discovery (so a kind the cluster does not serve is the server's finding too), a
 * PATCH with application/apply-patch+yaml and strict field validation (an unknown or
 * duplicate field is refused, not silently pruned). Also the namespaces, ServiceAccount
 * tokens and CRDs tests need.
 */
import { type KubeCluster, type KubeResponse, kubeCall, kubeRequest } from './kubernetes-client.ts';
import { waitFor } from './wait-for.ts';

// biome-ignore lint/suspicious/noExplicitAny: a manifest of any kind; callers read the fields they know
export type Manifest = Record<string, any>;

interface ApiResource {
  name: string;
  namespaced: boolean;
  kind: string;
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others. */
const groupPath = (apiVersion: string): string =>
  apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;

/** The resource serving `kind` in `apiVersion`, by discovery; undefined when the server does not serve it. */
export async function resourceOf(
  cluster: KubeCluster,
  apiVersion: string,
  kind: string,
): Promise<ApiResource | undefined> {
  const answer = await kubeRequest(cluster, { method: 'GET', path: groupPath(apiVersion) });
  if (answer.status !== 200) return undefined;
  return (answer.body.resources as ApiResource[]).find((r) => r.kind === kind && !r.name.includes('/'));
}

/** The path of the object a manifest names, or undefined when the server does not serve its kind. */
async function pathOf(cluster: KubeCluster, doc: Manifest): Promise<string | undefined> {
  const resource = await resourceOf(cluster, String(doc.apiVersion), String(doc.kind));
  if (!resource) return undefined;
  const namespace = resource.namespaced ? `/namespaces/${doc.metadata?.namespace ?? 'default'}` : '';
  const name = encodeURIComponent(String(doc.metadata?.name ?? ''));
  return `${groupPath(String(doc.apiVersion))}${namespace}/${resource.name}/${name}`;
}

/** The path of the object a manifest names (to read it back). */
export async function objectPath(cluster: KubeCluster, doc: Manifest): Promise<string> {
  const path = await pathOf(cluster, doc);
  if (path === undefined) throw new Error(`the server serves no ${doc.kind} in ${doc.apiVersion}`);
  return path;
}

export interface ApplyOptions {
  fieldManager?: string;
  /** Another identity than the cluster's token. */
  token?: string;
}

/** Server-side apply of one object: the server's answer, a `Status` when it refused. */
export async function applyServerSide(
  cluster: KubeCluster,
  doc: Manifest,
  options: ApplyOptions = {},
): Promise<KubeResponse> {
  const path = await pathOf(cluster, doc);
  // Discovery's answer, in the shape of the Status kubectl would show for it.
  if (path === undefined)
    return {
      status: 404,
      body: {
        kind: 'Status',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: `the server serves no ${doc.kind} in ${doc.apiVersion}`,
      },
    };
  const query = new URLSearchParams({
    fieldManager: options.fieldManager ?? 'streamforge-test',
    fieldValidation: 'Strict',
    force: 'true',
  });
  return await kubeRequest(cluster, {
    method: 'PATCH',
    path: `${path}?${query}`,
    // JSON is YAML, so an apply patch may be sent as JSON.
    contentType: 'application/apply-patch+yaml',
    body: doc,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
}

/** `Kind/name: the server's message` for every document the server refused, in order; empty when all applied. */
export async function applyAll(
  cluster: KubeCluster,
  docs: Array<{ file: string; doc: Manifest }>,
  options: ApplyOptions = {},
): Promise<string[]> {
  const refused: string[] = [];
  for (const { file, doc } of docs) {
    const answer = await applyServerSide(cluster, doc, options);
    if (answer.status !== 200 && answer.status !== 201)
      refused.push(`${file} ${doc.kind}/${doc.metadata?.name}: ${answer.body?.message ?? JSON.stringify(answer.body)}`);
  }
  return refused;
}

/** A copy of a manifest moved into `namespace`, with RoleBinding subjects that are ServiceAccounts moved along. */
export function inNamespace(doc: Manifest, namespace: string): Manifest {
  const copy = structuredClone(doc);
  if (copy.metadata?.namespace !== undefined) copy.metadata.namespace = namespace;
  for (const subject of copy.subjects ?? [])
    if (subject.kind === 'ServiceAccount' && subject.namespace !== undefined) subject.namespace = namespace;
  return copy;
}

export async function createNamespace(cluster: KubeCluster, name: string): Promise<void> {
  await kubeCall(cluster, {
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
}

/** A token of a ServiceAccount by TokenRequest, as the kubelet mounts one into a pod. */
export async function serviceAccountToken(cluster: KubeCluster, namespace: string, name: string): Promise<string> {
  const answer = await kubeCall(cluster, {
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  return String(answer.body.status.token);
}

/**
 * Installs CRDs and waits until each is Established and served. A conversion webhook is
 * dropped: no webhook runs here, and a CRD naming one cannot be served without it.
 */
export async function installCrds(cluster: KubeCluster, crds: Manifest[]): Promise<void> {
  for (const crd of crds) {
    const doc = structuredClone(crd);
    if (doc.spec?.conversion?.strategy === 'Webhook') delete doc.spec.conversion;
    const answer = await applyServerSide(cluster, doc, { fieldManager: 'streamforge-test-crds' });
    if (answer.status !== 200 && answer.status !== 201)
      throw new Error(`CRD ${doc.metadata?.name}: ${answer.body?.message ?? answer.status}`);
  }
  for (const crd of crds) {
    const name = String(crd.metadata.name);
    await waitFor(`CRD ${name} Established`, async () => {
      const answer = await kubeRequest(cluster, {
        method: 'GET',
        path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      });
      const conditions: Array<{ type: string; status: string }> = answer.body?.status?.conditions ?? [];
      return conditions.some((c) => c.type === 'Established' && c.status === 'True');
    });
    for (const version of crd.spec.versions as Array<{ name: string; served: boolean }>)
      if (version.served)
        await waitFor(`${crd.spec.names.kind} served in ${crd.spec.group}/${version.name}`, () =>
          resourceOf(cluster, `${crd.spec.group}/${version.name}`, crd.spec.names.kind),
        );
  }
}
