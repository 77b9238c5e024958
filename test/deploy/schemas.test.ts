/**
 * Every manifest against the official schema of its kind (test/fixtures/schemas, copied from
 * knative/func, eventing-kafka-broker, knative/serving, KEDA and Kubernetes), and what the
 * cluster derives from them: the Knative Service `func deploy` renders from each func.yaml
 * and the ScaledObject the KafkaSource controller creates for each source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaProblems } from '../../scripts/deploy/checks.ts';
import { loadManifests, ofKind } from '../../scripts/deploy/manifests.ts';
import { renderKnativeService, renderScaledObject } from '../../scripts/deploy/render.ts';
import { validateAgainst } from '../../scripts/deploy/schemas.ts';

const m = loadManifests();
const sources = ofKind(m.kafkaSources, 'KafkaSource');

test('every func.yaml validates against the func.yaml schema of knative/func', () => {
  assert.ok(m.functions.length >= 1, 'there are functions');
  for (const f of m.functions) assert.deepEqual(validateAgainst('funcYaml', f.funcYaml), [], f.file);
});

test('every KafkaSource validates against the v1 KafkaSource CRD, closed to unknown fields', () => {
  assert.ok(sources.length >= 1, 'there are KafkaSources');
  for (const s of sources)
    assert.deepEqual(validateAgainst('kafkaSource', s.doc), [], `${s.file} ${s.doc.metadata.name}`);
});

test('the Knative Service func deploy renders from each func.yaml validates against the Serving CRD', () => {
  for (const f of m.functions) {
    const service = renderKnativeService(f.funcYaml);
    assert.deepEqual(validateAgainst('knativeService', service), [], f.file);
    // Scale options land on the revision template, never on the Service (Serving rejects them there).
    assert.equal(
      service.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'],
      String(f.funcYaml.deploy.options.scale.min),
    );
    assert.equal(
      Object.keys(service.metadata.annotations ?? {}).filter((k) => k.startsWith('autoscaling.knative.dev/')).length,
      0,
    );
  }
});

test('the ScaledObject KEDA gets for each KafkaSource validates against the KEDA CRD', () => {
  for (const s of sources) {
    const scaled = renderScaledObject(s.doc);
    assert.deepEqual(validateAgainst('scaledObject', scaled), [], s.doc.metadata.name);
    assert.equal(scaled.spec.minReplicaCount, 0, 'consumers scale to zero');
    assert.equal(scaled.spec.triggers.length, s.doc.spec.topics.length, 'one kafka trigger per topic');
  }
});

test('the loader-ws Job template validates against the batch/v1 Job schema', (t) => {
  assert.equal(m.jobTemplateError, undefined);
  if (!m.jobTemplate) {
    t.skip('knative/loader-ws-job.yaml does not exist yet');
    return;
  }
  assert.deepEqual(validateAgainst('job', m.jobTemplate.doc), []);
});

test('all manifests together pass the schema checks `make manifests` runs', () => {
  assert.deepEqual(schemaProblems(m), []);
});

test('a KafkaSource with a misspelt field, an unknown ordering or an unquoted annotation is refused', () => {
  const source = structuredClone(sources[0]!.doc);
  source.spec.initalOffset = 'earliest';
  source.spec.ordering = 'random';
  source.spec.delivery.retries = 3;
  source.metadata.annotations['autoscaling.eventing.knative.dev/min-scale'] = 0;
  assert.deepEqual(validateAgainst('kafkaSource', source).sort(), [
    'metadata.annotations.autoscaling.eventing.knative.dev/min-scale: must be string',
    'spec.delivery: unknown field "retries"',
    'spec.ordering: must be one of ordered, unordered',
    'spec: unknown field "initalOffset"',
  ]);
});

test('a func.yaml with a misspelt scale option or a malformed date fails the func schema', () => {
  const funcYaml = structuredClone(m.functions[0]!.funcYaml);
  funcYaml.deploy.options.scale.mni = 0;
  funcYaml.created = 'yesterday';
  assert.deepEqual(validateAgainst('funcYaml', funcYaml).sort(), [
    'created: must match format "date-time"',
    'deploy.options.scale: unknown field "mni"',
  ]);
});

test('a Job template with a field batch/v1 does not know is refused', () => {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'loader-ws' },
    spec: {
      backofLimit: 2,
      template: { spec: { containers: [{ name: 'loader-ws', image: 'x' }], restartPolicy: 'Never' } },
    },
  };
  assert.ok(validateAgainst('job', job).some((p) => p.includes('backofLimit')));
});
