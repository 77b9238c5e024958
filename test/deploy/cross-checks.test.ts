/**
 * Names that must meet across files (a sink and its function, a dead-letter sink and its
 * KafkaSink, a topic and the topic plan, a func.yaml reference and its ConfigMap or Secret
 * key), the reach of the manager's Role, the environment each bundle reads, and the
 * dashboard's metrics. Every check iterates over what exists, so a new function, source or
 * sink is covered without a change here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFunction } from '../../scripts/deploy/bundle.ts';
import {
  MANAGER_RULE,
  dashboardProblems,
  envProblems,
  rbacProblems,
  referenceProblems,
  sinkProblems,
  topicProblems,
} from '../../scripts/deploy/checks.ts';
import { declaredNames } from '../../scripts/deploy/env-usage.ts';
import { loadManifests, ofKind } from '../../scripts/deploy/manifests.ts';
import { ROOT } from '../../scripts/deploy/paths.ts';

const m = loadManifests();

test('every KafkaSource sink is a function and every dead-letter sink a KafkaSink of kafka-sources/', () => {
  assert.deepEqual(sinkProblems(m), []);
  const broken = structuredClone(m);
  const source = ofKind(broken.kafkaSources, 'KafkaSource')[0]!.doc;
  source.spec.sink.ref.name = 'no-such-function';
  source.spec.delivery.deadLetterSink.ref.name = 'no-such-sink';
  assert.deepEqual(
    sinkProblems(broken).map((p) => p.replace(/^.*?: /, '').split(' (')[0]),
    ['sink no-such-function is not a function', 'dead-letter sink no-such-sink is not a KafkaSink in kafka-sources/'],
  );
});

test('every topic named by a KafkaSource, a KafkaSink or topics.yaml is in the topic plan, on the cluster KAFKA_BROKERS names', () => {
  assert.deepEqual(topicProblems(m), []);
  const broken = structuredClone(m);
  ofKind(broken.kafkaSources, 'KafkaSource')[0]!.doc.spec.topics.push('data-candles');
  ofKind(broken.kafkaSources, 'KafkaSink')[0]!.doc.spec.topic = 'queue-control.loader-api';
  assert.deepEqual(
    topicProblems(broken).map((p) => p.replace(/^.*?: /, '').split(' (')[0]),
    [
      'topic data-candles is not in the topic plan',
      'topic queue-control.loader-api is not a dead-letter topic of the plan',
    ],
  );
});

test('every ConfigMap and Secret key a func.yaml references exists, and Secret placeholders hold no values', () => {
  assert.deepEqual(referenceProblems(m), []);
  const broken = structuredClone(m);
  broken.functions[0]!.funcYaml.run.envs.push(
    { name: 'S3_REGION', value: '{{ configMap:streamforge-config:S3_REGION }}' },
    { name: 'X_TOKEN', value: '{{ secret:streamforge-tokens:X_TOKEN }}' },
  );
  ofKind(broken.secretExamples, 'Secret')[0]!.doc.stringData.ARANGO_PASSWORD = 'hunter2';
  assert.deepEqual(
    referenceProblems(broken).map((p) => p.replace(/^.*?: /, '')),
    [
      'run.envs S3_REGION references key S3_REGION of configMap streamforge-config, which has no such key',
      'run.envs X_TOKEN references secret streamforge-tokens, which is not in knative/secrets.yaml.example',
      'ARANGO_PASSWORD has a value; placeholders hold none (never commit credentials)',
    ],
  );
});

test('the Role grants create, get, list and delete on Jobs in one namespace, and nothing else', () => {
  assert.deepEqual(rbacProblems(m), []);
  const [role] = ofKind(m.knative, 'Role');
  assert.deepEqual(role!.doc.rules, [MANAGER_RULE]);
  const [binding] = ofKind(m.knative, 'RoleBinding');
  assert.deepEqual(binding!.doc.subjects, [
    { kind: 'ServiceAccount', name: 'queue-manager', namespace: 'streamforge' },
  ]);
});

test('a Role that reads pods, patches or watches Jobs, or a ClusterRoleBinding is refused', () => {
  const broken = structuredClone(m);
  const role = ofKind(broken.knative, 'Role')[0]!.doc;
  role.rules[0].verbs.push('patch', 'watch');
  role.rules.push({ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] });
  broken.knative.push({
    file: 'knative/extra.yaml',
    doc: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'too-much' },
      roleRef: { kind: 'ClusterRole', name: 'edit' },
      subjects: [],
    },
  });
  assert.deepEqual(
    rbacProblems(broken).map((p) => p.replace(/^.*?: /, '')),
    [
      "no cluster-wide RBAC: the manager's rights end at its namespace",
      'grants verb patch, verb watch beyond create/get/list/delete on batch jobs',
      'grants apiGroup "", resource pods, resource pods/log beyond create/get/list/delete on batch jobs',
    ],
  );
});

test("every environment variable a function's bundle reads is set by its func.yaml or has a default", async () => {
  for (const f of m.functions) {
    const { inputs } = await bundleFunction(f.folder, { write: false });
    assert.ok(
      inputs.some((i) => i.startsWith('packages/core/src/config.ts')),
      `${f.folder}: shared is inlined, so its reads are scanned`,
    );
    const report = await envProblems(m, f, inputs);
    assert.deepEqual(report.problems, [], f.folder);
    assert.ok(
      report.reads.includes('KAFKA_BROKERS') && report.setByManifest.includes('KAFKA_BROKERS'),
      `${f.folder} reads and gets KAFKA_BROKERS`,
    );
  }
});

test('a variable read without a default or set without a reader is reported', async () => {
  const dir = mkdtempSync(join(ROOT, '.cache', 'env-check-'));
  try {
    const file = join(dir, 'reader.ts');
    writeFileSync(
      file,
      "import { declareEnv, env } from '@streamforge/core/config';\ndeclareEnv({ STREAMFORGE_TEST_REQUIRED: { default: undefined, description: 'test' } });\nexport const read = () => env('STREAMFORGE_TEST_REQUIRED') + env('STREAMFORGE_TEST_UNDECLARED');\n",
    );
    const relative = file.slice(ROOT.length + 1);
    const f = structuredClone(m.functions.find((x) => x.folder === 'dummy-service')!);
    f.funcYaml.run.envs.push({ name: 'KAFKA_BROKER', value: 'typo:9092' });
    const { inputs } = await bundleFunction('dummy-service', { write: false });
    const report = await envProblems(m, f, [...inputs, relative]);
    assert.deepEqual(
      report.problems.map((p) => p.replace(/ \([^()]*:\d+\)/, '').replace(/^\S+: /, '')),
      [
        'reads STREAMFORGE_TEST_REQUIRED, which is required (no default) and not set by its func.yaml',
        'reads STREAMFORGE_TEST_UNDECLARED, which is not declared in packages/core/src/config.ts nor by a declareEnv() in its bundle',
        'run.envs sets KAFKA_BROKER, which nothing in the dummy-service bundle reads (a typo, or a leftover)',
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('declareEnv() names are read from the object literal, nested descriptions aside', () => {
  const text =
    "declareEnv({\n  A_ONE: { default: 'x', description: 'B_NOT: a name' },\n  B_TWO: {\n    default: undefined,\n    description: 'y',\n  },\n});";
  assert.deepEqual(declaredNames(text), ['A_ONE', 'B_TWO']);
});

test('the Grafana dashboard charts only metrics the functions export', async () => {
  assert.deepEqual(await dashboardProblems(), []);
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
  try {
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'knative/monitoring/streamforge-functions.dashboard.json'), 'utf8'),
    );
    dashboard.panels.find((p: { targets?: unknown[] }) => p.targets)!.targets[0].expr =
      'sum(rate(streamforge_events_total{service=~"$svc"}[5m]))';
    const file = join(dir, 'd.json');
    writeFileSync(file, JSON.stringify(dashboard));
    const problems = await dashboardProblems(file);
    assert.deepEqual(
      problems.map((p) => p.replace(/^.*?: panel \d+ /, '')),
      ['queries streamforge_events_total, which no function exports', 'uses $svc, which is not a dashboard variable'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the loader-ws Job template's account, namespace, ConfigMap and Secret keys are checked like a function's", () => {
  const withJob = structuredClone(m);
  withJob.jobTemplate = {
    file: 'knative/loader-ws-job.yaml',
    doc: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { generateName: 'loader-ws-', namespace: 'default' },
      spec: {
        template: {
          spec: {
            serviceAccountName: 'loader',
            restartPolicy: 'Never',
            containers: [
              {
                name: 'loader-ws',
                image: 'registry.example/streamforge/loader-ws:latest',
                env: [
                  {
                    name: 'KAFKA_BROKERS',
                    valueFrom: { configMapKeyRef: { name: 'streamforge-config', key: 'KAFKA_BROKERS' } },
                  },
                  {
                    name: 'BINANCE_WS',
                    valueFrom: { configMapKeyRef: { name: 'streamforge-config', key: 'BINANCE_WS' } },
                  },
                  {
                    name: 'ARANGO_PASSWORD',
                    valueFrom: { secretKeyRef: { name: 'streamforge-arango', key: 'ARANGO_PASSWORD' } },
                  },
                ],
              },
            ],
          },
        },
      },
    },
  };
  assert.deepEqual(
    referenceProblems(withJob).map((p) => p.replace(/^.*?: /, '')),
    [
      'serviceAccountName loader is not a ServiceAccount in knative/',
      'metadata.namespace must be streamforge, where the manager may create Jobs',
      'env BINANCE_WS references key BINANCE_WS of ConfigMap streamforge-config, which is not in knative/',
    ],
  );
});
