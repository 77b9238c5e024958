/**
 * The values the CRDs type only as strings and that func, the Knative webhooks or KEDA check
 * at apply time: checked here, so a typo fails before a cluster
 * sees it. Each rule is shown passing on the project's manifests and catching a broken copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALWAYS_ON,
  CONNECTS_TO,
  RUNTIME_LABEL,
  SERVICE_TIMEOUT_S,
  funcYamlProblems,
  kafkaSourceProblems,
  labelProblems,
  pingSourceProblems,
} from '../../scripts/deploy/checks.ts';
import { loadManifests, ofKind, type Doc, type Manifests } from '../../scripts/deploy/manifests.ts';
import { parseIsoDuration } from '@streamforge/platform';

const m = loadManifests();

/** A copy of the manifests with one function's func.yaml or one KafkaSource changed. */
function withFunction(change: (funcYaml: Doc) => void): Manifests {
  const copy = structuredClone(m);
  change(copy.functions.find((f) => !(f.folder in ALWAYS_ON))!.funcYaml);
  return copy;
}
function withSource(change: (source: Doc) => void): Manifests {
  const copy = structuredClone(m);
  change(ofKind(copy.kafkaSources, 'KafkaSource')[0]!.doc);
  return copy;
}

test('every func.yaml uses the current specVersion, a Node 24 pack builder, the bundle folder and scale options', () => {
  assert.deepEqual(funcYamlProblems(m), []);
});

test('every Service, KafkaSource, sink and the Job template carry the console labels; only the manager is public', () => {
  assert.deepEqual(labelProblems(m), []);
  const unlabelled = withSource((source) => {
    delete source.metadata.labels['app.kubernetes.io/component'];
  });
  assert.match(labelProblems(unlabelled).join('\n'), /KafkaSource\/\S+: label app.kubernetes.io\/component is missing/);
  const exposed = withFunction((funcYaml) => {
    funcYaml.deploy.labels = funcYaml.deploy.labels.filter(
      (l: { key: string }) => l.key !== 'networking.knative.dev/visibility',
    );
  });
  assert.match(labelProblems(exposed).join('\n'), /must be networking.knative.dev\/visibility: cluster-local/);
});

test('every function and the Job carry the console runtime label, every KafkaSource connects-to its function and dead-letter sink', () => {
  for (const source of ofKind(m.kafkaSources, 'KafkaSource')) {
    const named = JSON.parse(source.doc.metadata.annotations[CONNECTS_TO]) as Array<{ kind: string; name: string }>;
    assert.deepEqual(
      named.map((r) => `${r.kind}/${r.name}`),
      [`Service/${source.doc.spec.sink.ref.name}`, `KafkaSink/${source.doc.spec.delivery.deadLetterSink.ref.name}`],
    );
  }
  const unconnected = withSource((source) => {
    delete source.metadata.annotations[CONNECTS_TO];
  });
  assert.match(
    labelProblems(unconnected).join('\n'),
    /KafkaSource\/\S+: annotation app\.openshift\.io\/connects-to is missing \(want '\[\{"apiVersion":"serving\.knative\.dev\/v1","kind":"Service"/,
  );
  // Planted: a source whose arrow points at another function than the one it delivers to.
  const miswired = withSource((source) => {
    source.metadata.annotations[CONNECTS_TO] = JSON.stringify([
      { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'dummy-service' },
    ]);
  });
  assert.match(labelProblems(miswired).join('\n'), /connects-to must name its sink and dead-letter sink/);
  const garbled = withSource((source) => {
    source.metadata.annotations[CONNECTS_TO] = '[{"kind":';
  });
  assert.match(labelProblems(garbled).join('\n'), /connects-to is not JSON/);
  const iconless = withFunction((funcYaml) => {
    funcYaml.deploy.labels = funcYaml.deploy.labels.filter((l: { key: string }) => l.key !== RUNTIME_LABEL);
  });
  assert.match(labelProblems(iconless).join('\n'), /func\.yaml: label app\.openshift\.io\/runtime must be nodejs/);
  const job = structuredClone(m);
  delete job.jobTemplate!.doc.spec.template.metadata.labels[RUNTIME_LABEL];
  assert.deepEqual(labelProblems(job), [
    'knative/loader-ws-job.yaml Job pod template: label app.openshift.io/runtime must be nodejs',
  ]);
});

test('the deadline PingSource is labelled and connects-to the manager like the ApiServerSource, with a schedule and JSON data the local platform runs', () => {
  assert.deepEqual(
    ofKind(m.knative, 'PingSource').map((d) => `${d.file} ${d.doc.spec.sink.ref.name}`),
    ['knative/deadline-ping.yaml queue-manager'],
  );
  assert.deepEqual(pingSourceProblems(m), []);
  const withPing = (change: (ping: Doc) => void): Manifests => {
    const copy = structuredClone(m);
    change(ofKind(copy.knative, 'PingSource')[0]!.doc);
    return copy;
  };
  const at = 'knative/deadline-ping.yaml PingSource/queue-manager-deadlines';
  assert.deepEqual(
    labelProblems(
      withPing((ping) => {
        delete ping.metadata.labels['app.kubernetes.io/component'];
        delete ping.metadata.annotations[CONNECTS_TO];
      }),
    ),
    [
      `${at}: label app.kubernetes.io/component is missing`,
      `${at}: annotation app.openshift.io/connects-to is missing (want '[{"apiVersion":"serving.knative.dev/v1","kind":"Service","name":"queue-manager"}]')`,
    ],
  );
  // Planted: the arrow drawn to another function than the one the pings go to.
  const miswired = withPing((ping) => {
    ping.spec.sink.ref.name = 'dummy-service';
  });
  assert.match(
    labelProblems(miswired).join('\n'),
    /PingSource\/queue-manager-deadlines: annotation .* must name its sink/,
  );
  const unrunnable = withPing((ping) => {
    ping.spec.schedule = '0 */2 * * *';
    ping.spec.data = '{"check":';
    ping.spec.sink.ref.name = 'queue-mgr';
  });
  assert.deepEqual(pingSourceProblems(unrunnable), [
    `${at}: sink must be a function's Knative Service, not queue-mgr`,
    `${at}: schedule "0 */2 * * *" is not one the local platform runs: use "*/N * * * *" (every N minutes, 1-59) or "* * * * *"`,
    `${at}: data '{"check":' is not JSON, which contentType says it is`,
  ]);
  // The ApiServerSource's arrow is checked the same way.
  const jobEvents = structuredClone(m);
  delete ofKind(jobEvents.knative, 'ApiServerSource')[0]!.doc.metadata.annotations[CONNECTS_TO];
  assert.match(
    labelProblems(jobEvents).join('\n'),
    /ApiServerSource\/loader-ws-jobs: annotation app\.openshift\.io\/connects-to is missing/,
  );
});

test('every function scales to zero, the queue-manager too (its Jobs’ ends come as events)', () => {
  for (const f of m.functions) {
    const scale = f.funcYaml.deploy.options.scale;
    assert.equal(scale.min, 0, f.folder);
    assert.ok(scale.max >= Math.max(1, scale.min) && scale.target > 0, f.folder);
  }
});

test('autoscaling keys in deploy.annotations are refused, as Serving refuses them on the Service', () => {
  const broken = withFunction((y) => {
    y.deploy.annotations = { 'autoscaling.knative.dev/min-scale': '0', team: 'data' };
  });
  const problems = funcYamlProblems(broken);
  assert.equal(problems.length, 1);
  assert.match(
    problems[0]!,
    /deploy\.annotations has autoscaling\.knative\.dev\/min-scale: scaling belongs in deploy\.options\.scale/,
  );
});

test('a func.yaml on an old specVersion, the default Node or with a credential as a value is refused', () => {
  const broken = withFunction((y) => {
    y.specVersion = '0.35.0';
    y.build.buildEnvs = y.build.buildEnvs.filter((e: { name: string }) => e.name !== 'BP_NODE_VERSION');
    y.run.envs.push({ name: 'ARANGO_PASSWORD', value: 'hunter2' });
    y.deploy.options.scale = { min: 1, max: 0, target: 0 };
  });
  const problems = funcYamlProblems(broken).map((p) => p.replace(/^\S+: /, ''));
  assert.deepEqual(problems, [
    'specVersion is 0.35.0, the current one is 0.36.0',
    "build.buildEnvs BP_NODE_VERSION must be 24 (the bundle's target), is undefined",
    'deploy.options.scale.min is 1: functions scale to zero unless listed in ALWAYS_ON with a reason',
    'deploy.options.scale.max must be a whole number of at least 1 (0 would mean unbounded)',
    'deploy.options.scale.target must be at least 0.01 (Serving rejects less)',
    'run.envs ARANGO_PASSWORD looks like a credential: take it from a Secret ({{ secret:NAME:KEY }}), never a value in the repository',
  ]);
});

test('every KafkaSource names its consumer group, offset, ordering, delivery and KEDA scaling', () => {
  assert.deepEqual(kafkaSourceProblems(m), []);
});

test(`every KafkaSource gives up on a delivery before the function's ${SERVICE_TIMEOUT_S} s request timeout`, () => {
  for (const s of ofKind(m.kafkaSources, 'KafkaSource')) {
    const timeout = parseIsoDuration(s.doc.spec.delivery.timeout);
    assert.ok(
      timeout > 0 && timeout < SERVICE_TIMEOUT_S * 1000,
      `${s.doc.metadata.name}: ${s.doc.spec.delivery.timeout}`,
    );
  }
});

test('a KafkaSource relying on delivery defaults is refused: no retry, the 600 s timeout, no dead-letter sink', () => {
  const broken = withSource((s) => {
    s.spec.delivery = { backoffDelay: 'PT0.2S' };
  });
  const problems = kafkaSourceProblems(broken).map((p) => p.replace(/^.*?: /, ''));
  assert.deepEqual(problems, [
    'spec.delivery.retry must be at least 1 (with spec.delivery set, an unset retry means no retry at all)',
    'spec.delivery.backoffPolicy must be explicit: exponential or linear',
    `spec.delivery.timeout must be explicit (the default, 600 s, outlives the Service's ${SERVICE_TIMEOUT_S} s request timeout)`,
    'spec.delivery.deadLetterSink.ref must name a KafkaSink (without one, what fails for good is dropped)',
  ]);
});

test('a KafkaSource with a malformed duration, a shared consumer group or unordered data is refused', () => {
  const copy = structuredClone(m);
  const [first, second] = ofKind(copy.kafkaSources, 'KafkaSource').filter((s) =>
    s.doc.spec.topics.some(
      (t: string) => t.startsWith('data-') || t === 'queue-events' || t.startsWith('queue-control.'),
    ),
  );
  first!.doc.spec.delivery.timeout = '30s';
  second!.doc.spec.consumerGroup = first!.doc.spec.consumerGroup;
  second!.doc.spec.ordering = 'unordered';
  const problems = kafkaSourceProblems(copy).map((p) => p.replace(/^.*?: /, ''));
  assert.ok(
    problems.includes('spec.delivery.timeout "30s" is not an ISO-8601 duration such as PT0.5S'),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.startsWith(`spec.consumerGroup ${first!.doc.spec.consumerGroup} is also used by`)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /must stay in order: ordering must be ordered$/.test(p)),
    problems.join('\n'),
  );
});

test('KEDA annotations must be the keda class, scale from zero, and carry whole numbers within the partitions', () => {
  const broken = withSource((s) => {
    const a = s.metadata.annotations;
    a['autoscaling.eventing.knative.dev/class'] = 'hpa.autoscaling.knative.dev';
    a['autoscaling.eventing.knative.dev/min-scale'] = '1';
    a['autoscaling.eventing.knative.dev/max-scale'] = '60';
    a['autoscaling.eventing.knative.dev/lag-threshold'] = '0';
    a['autoscaling.eventing.knative.dev/lagThreshold'] = '10';
    a['autoscaling.knative.dev/maxScale'] = '3';
  });
  const problems = kafkaSourceProblems(broken).map((p) => p.replace(/^.*?: /, ''));
  assert.deepEqual(
    problems.map((p) => p.split(' ').slice(0, 2).join(' ')),
    [
      'unknown annotation',
      'legacy annotation',
      'autoscaling.eventing.knative.dev/class must',
      'autoscaling.eventing.knative.dev/min-scale must',
      'max-scale 60',
      'autoscaling.eventing.knative.dev/lag-threshold must',
    ],
  );
});
