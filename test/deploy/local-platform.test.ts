/**
 * The local platform (`npx streamforge up`) reads the same func.yaml and kafka-sources/
 * files `make deploy` applies (packages/platform/src/functions.ts, manifests.ts): what these
 * tests see it read is what every end-to-end test then runs on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  discoverFunctions,
  loadKafkaSinks,
  loadKafkaSources,
  parseIsoDuration,
  resolveRunEnvs,
} from '@streamforge/platform';
import { loadManifests, ofKind, parseEnvReference } from '../../scripts/deploy/manifests.ts';
import { FUNCTIONS_DIR, KAFKA_SOURCES_DIR, functionNames } from '../../scripts/deploy/paths.ts';

const m = loadManifests();

test('the local platform runs exactly the functions func deploy would deploy, with their scale options', () => {
  const local = discoverFunctions(FUNCTIONS_DIR);
  assert.deepEqual(
    local.map((f) => f.name).sort(),
    functionNames()
      .map((n) => m.functions.find((f) => f.folder === n)!.funcYaml.name)
      .sort(),
  );
  for (const f of local) {
    const scale = m.functions.find((x) => x.funcYaml.name === f.name)!.funcYaml.deploy.options.scale;
    assert.deepEqual(f.scale, { min: scale.min, max: scale.max, target: scale.target }, f.name);
  }
});

test('the local dispatcher wires the same KafkaSources: topics, groups, order, delivery, dead letters and KEDA numbers', () => {
  const local = loadKafkaSources(KAFKA_SOURCES_DIR);
  const manifests = ofKind(m.kafkaSources, 'KafkaSource');
  assert.equal(local.length, manifests.length);
  const sinks = new Set(loadKafkaSinks(KAFKA_SOURCES_DIR).map((s) => s.name));
  const functions = new Set(discoverFunctions(FUNCTIONS_DIR).map((f) => f.name));
  for (const source of local) {
    const doc = manifests.find((d) => d.doc.metadata.name === source.name)!.doc;
    assert.deepEqual(source.topics, doc.spec.topics);
    assert.equal(source.consumerGroup, doc.spec.consumerGroup);
    assert.equal(source.initialOffset, doc.spec.initialOffset);
    assert.equal(source.ordering, doc.spec.ordering);
    assert.equal(source.delivery.retry, doc.spec.delivery.retry);
    assert.equal(source.delivery.timeoutMs, parseIsoDuration(doc.spec.delivery.timeout));
    assert.ok(functions.has(source.sink.name), `${source.name} delivers to a function the platform runs`);
    assert.ok(
      source.delivery.deadLetterSink && sinks.has(source.delivery.deadLetterSink.name),
      `${source.name} dead-letters to a KafkaSink`,
    );
    assert.equal(source.autoscaling.minScale, 0);
    assert.equal(
      String(source.autoscaling.maxScale),
      doc.metadata.annotations['autoscaling.eventing.knative.dev/max-scale'],
    );
    assert.equal(
      String(source.autoscaling.lagThreshold),
      doc.metadata.annotations['autoscaling.eventing.knative.dev/lag-threshold'],
    );
  }
});

test("func.yaml's ConfigMap references resolve to the platform's values, Secrets without one fall back to defaults", () => {
  for (const f of discoverFunctions(FUNCTIONS_DIR)) {
    const env = resolveRunEnvs(f.funcYaml, { KAFKA_BROKERS: '127.0.0.1:19092', STORE_URL: 'sqlite::memory:' }, {});
    assert.equal(env.KAFKA_BROKERS, '127.0.0.1:19092', f.name);
    for (const e of f.funcYaml.run?.envs ?? []) {
      const ref = parseEnvReference(e.value ?? '');
      if (ref?.kind === 'secret')
        assert.equal(e.name in env, false, `${f.name}: ${e.name} has no local value, so its default applies`);
      if (!ref) assert.equal(env[e.name], e.value, `${f.name}: ${e.name} passes as written`);
    }
  }
});
