/**
 * What `make deploy` applies, applied server-side to a real API server (the test run's
 * kube-apiserver with the official CRDs of Knative Serving, eventing-kafka-broker, Strimzi,
 * KEDA and the Prometheus Operator): every knative/ manifest but the Job template, the
 * KafkaSinks and KafkaSources, the Knative Services `func deploy` renders from each func.yaml,
 * the PodMonitor and the dashboard ConfigMap, in scripts/deploy.sh's order, with strict field
 * validation. The server's verdict replaces the offline schemas here: its own validation,
 * defaulting and size limits, no overlay of ours.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyAll,
  createNamespace,
  inNamespace,
  kubeCall,
  kubernetesSkipReason,
  objectPath,
  testKubernetes,
  uniqueName,
} from '@streamforge/testing';
import { type ManifestDoc, loadManifests, readYamlDocuments } from '../../scripts/deploy/manifests.ts';
import { KNATIVE_DIR } from '../../scripts/deploy/paths.ts';
import { renderKnativeService, renderScaledObject } from '../../scripts/deploy/render.ts';

const skip = kubernetesSkipReason() ?? false;
const m = loadManifests();
const onlySinks = (file: string) =>
  m.kafkaSources.filter((d) => d.file === file).every((d) => d.doc.kind === 'KafkaSink');
const DASHBOARD = 'streamforge-functions.dashboard.json';
const PODMONITOR = 'functions-podmonitor.yaml';

/** Everything scripts/deploy.sh applies, in its order (func deploy's Services where it runs func). */
function deployed(): ManifestDoc[] {
  // The sources of knative/ (Job events, the deadline ping) go after the functions they send to.
  const isSource = (d: ManifestDoc) => d.doc.kind === 'ApiServerSource' || d.doc.kind === 'PingSource';
  const knative = [...m.knative]
    .filter((d) => !isSource(d))
    .sort((a, b) => Number(b.doc.kind === 'Namespace') - Number(a.doc.kind === 'Namespace'));
  const services = m.functions.map((f) => ({ file: f.file, doc: renderKnativeService(f.funcYaml) }));
  const monitoring = readFileSync(join(KNATIVE_DIR, 'monitoring', DASHBOARD), 'utf8');
  const dashboard = {
    file: `knative/monitoring/${DASHBOARD}`,
    doc: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'streamforge-dashboard', namespace: 'streamforge', labels: { grafana_dashboard: '1' } },
      data: { [DASHBOARD]: monitoring },
    },
  };
  return [
    ...knative,
    ...m.kafkaSources.filter((d) => onlySinks(d.file)),
    ...services,
    ...m.knative.filter(isSource),
    ...m.kafkaSources.filter((d) => !onlySinks(d.file)),
    ...readYamlDocuments(join(KNATIVE_DIR, 'monitoring', PODMONITOR)).map((doc) => ({
      file: `knative/monitoring/${PODMONITOR}`,
      doc,
    })),
    dashboard,
  ];
}

/** `want` holds in `got`: every field `want` sets, `got` has with the same value (the server may add more). */
function missingIn(got: unknown, want: unknown, path = ''): string[] {
  if (want === null || typeof want !== 'object')
    return got === want ? [] : [`${path}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`];
  if (got === null || typeof got !== 'object') return [`${path}: missing`];
  return Object.entries(want as Record<string, unknown>).flatMap(([k, v]) =>
    missingIn((got as Record<string, unknown>)[k], v, `${path}.${k}`),
  );
}

test('every manifest make deploy applies is accepted server-side and stored as written', { skip }, async () => {
  const cluster = testKubernetes();
  // Strimzi's namespace, where the KafkaTopics go, exists before StreamForge is deployed.
  const kafkaNamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kafka' } };
  assert.deepEqual(await applyAll(cluster, [{ file: '(Strimzi)', doc: kafkaNamespace }]), []);
  const docs = deployed();
  const kinds = new Set(docs.map((d) => d.doc.kind));
  for (const kind of [
    'Namespace',
    'ConfigMap',
    'ServiceAccount',
    'Role',
    'RoleBinding',
    'KafkaTopic',
    'KafkaSink',
    'Service',
    'ApiServerSource',
    'PingSource',
    'KafkaSource',
    'PodMonitor',
  ])
    assert.ok(kinds.has(kind), `${kind} is among what make deploy applies`);
  assert.deepEqual(await applyAll(cluster, docs), []);
  // Nothing was pruned or changed: each object reads back with every field as written.
  for (const { file, doc } of docs) {
    const stored = (await kubeCall(cluster, { method: 'GET', path: await objectPath(cluster, doc) })).body;
    // Name and namespace found the object; the rest of its metadata (labels, annotations) is compared.
    const { name: _name, namespace: _namespace, ...metadata } = doc.metadata;
    assert.deepEqual(missingIn(stored, { ...doc, metadata }), [], `${file} ${doc.kind}/${doc.metadata.name}`);
  }
});

test('the ScaledObject the KafkaSource controller creates from each source is accepted by the KEDA CRD', {
  skip,
}, async () => {
  const cluster = testKubernetes();
  const namespace = uniqueName('sf-keda');
  await createNamespace(cluster, namespace);
  const scaled = m.kafkaSources
    .filter((s) => s.doc.kind === 'KafkaSource')
    .map((s) => ({ file: s.file, doc: inNamespace(renderScaledObject(s.doc), namespace) }));
  assert.ok(scaled.length > 0);
  assert.deepEqual(await applyAll(cluster, scaled), []);
});

test('a planted bad manifest fails with the API server’s own message', { skip }, async () => {
  const cluster = testKubernetes();
  const namespace = uniqueName('sf-bad');
  await createNamespace(cluster, namespace);
  const source = m.kafkaSources.find((d) => d.doc.kind === 'KafkaSource')!;
  const sink = m.kafkaSources.find((d) => d.doc.kind === 'KafkaSink')!;
  const misspelt = inNamespace(source.doc, namespace);
  misspelt.spec.initalOffset = misspelt.spec.initialOffset;
  delete misspelt.spec.initialOffset;
  const badEnum = inNamespace(sink.doc, namespace);
  badEnum.spec.contentMode = 'json';
  const refused = await applyAll(cluster, [
    { file: source.file, doc: misspelt },
    { file: sink.file, doc: badEnum },
    { file: source.file, doc: inNamespace(source.doc, namespace) },
  ]);
  assert.equal(refused.length, 2, refused.join('\n'));
  assert.match(
    refused[0]!,
    new RegExp(
      `^${source.file} KafkaSource/${source.doc.metadata.name}: .*\\.spec\\.initalOffset: field not declared in schema`,
    ),
  );
  assert.match(
    refused[1]!,
    new RegExp(`^${sink.file} KafkaSink/${sink.doc.metadata.name}: .*spec.contentMode: Unsupported value: "json"`),
  );
});
