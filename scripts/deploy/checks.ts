/**
 * The checks that prove the manifests deploy, without a cluster. Each returns readable
 * problems (empty when all is well); test/deploy asserts each is empty and
 * scripts/check-manifests.ts (`make manifests`) prints them all.
 *
 * - schemas: every manifest against the official schema of its kind (schemas.ts), and the
 *   Knative Services / ScaledObjects the cluster would derive from them (render.ts);
 * - rules: the values the CRDs type only as strings and that the Knative webhooks, func or
 *   KEDA check at apply time;
 * - cross-checks: names that must meet (sinks and functions, dead-letter sinks and
 *   KafkaSinks, topics and the topic plan, ConfigMap/Secret keys and func.yaml, service
 *   accounts), the Role's reach, and the environment each bundle reads.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { COMMAND_TARGETS, TOPIC_PLAN, controlTopicOf } from '@streamforge/core/bus';
import { parseIsoDuration, parseSchedule } from '@streamforge/platform';
import { NODE_MAJOR } from './bundle.ts';
import { envTable, envUsage } from './env-usage.ts';
import {
  PACK_BUILDER,
  PROJECT_DESCRIPTOR,
  RUN_IMAGE_USER,
  jobBuildDir,
  projectDescriptor,
  type JobImage,
} from './job-images.ts';
import { filesBelow, isExcluded, readFuncignore } from './image-contents.ts';
import { renderKnativeService } from './render.ts';
import {
  JOB_TEMPLATE_FILE,
  dataKeys,
  ofKind,
  parseEnvReference,
  where,
  type Doc,
  type FunctionManifest,
  type ManifestDoc,
  type Manifests,
} from './manifests.ts';
import { BUILD_SUBDIR, ROOT, functionDir } from './paths.ts';
import { renderAll, sourceScale } from './render.ts';
import { validateAgainst } from './schemas.ts';
import { DEFAULT_TOPIC_OPTIONS } from './topic-manifests.ts';

export const NAMESPACE = 'streamforge';
/** The func.yaml specVersion of knative/func knative-v1.23.1 (the version of its last migration). */
export const SPEC_VERSION = '0.36.0';
/**
 * The request timeout of every function's revision: Knative's default
 * revision-timeout-seconds. func.yaml has no field for timeoutSeconds, so a
 * KafkaSource's delivery timeout must stay below it or Knative cuts the request first.
 */
export const SERVICE_TIMEOUT_S = 300;
/** Builder image registries func trusts (knative/func pkg/buildpacks/builder.go trustedBuilderImagePrefixes). */
export const TRUSTED_BUILDERS = [
  'ghcr.io/knative/',
  'docker.io/paketobuildpacks/',
  'gcr.io/paketo-buildpacks/',
  'quay.io/boson/',
  'gcr.io/buildpacks/',
  'docker.io/heroku/',
];
/** Functions that keep an instance up, and why (every other one scales to zero). */
// Empty: the manager used to stay up to watch its Jobs; their changes now come as events (knative/job-events.yaml).
export const ALWAYS_ON: Record<string, string> = {};
/** Topics whose events must be handled in order per key (one symbol's commands, telemetry and batches). */
export const ORDERED_TOPICS = [
  ...COMMAND_TARGETS.map(controlTopicOf),
  'queue-events',
  'data-klines',
  'data-agg-trades',
  'data-trades',
  'data-depth',
  'data-book-ticker',
];
/** Topics whose history is work that must not be skipped when a source is created. */
export const EARLIEST_TOPICS = [
  'queue-events',
  'loader-api-work',
  'loader-producer-work',
  'data-klines',
  'data-agg-trades',
  'data-trades',
  'data-depth',
  'data-book-ticker',
];
/** The one thing the manager may do in the API (knative/rbac.yaml). */
export const MANAGER_RULE = {
  apiGroups: ['batch'],
  resources: ['jobs'],
  verbs: ['create', 'get', 'list', 'delete'],
};
/** Environment the platform gives every function without func.yaml: Knative's K_*. */
export const PLATFORM_ENV = ['K_SERVICE', 'K_REVISION', 'K_CONFIGURATION'];
/** Read by Node itself when the container starts, not by the bundle: func.yaml may set them. */
const NODE_RUNTIME_ENV = new Set(['NODE_OPTIONS']);

const KEDA_CLASS = 'keda.autoscaling.knative.dev';
const SOURCE_SCALE_PREFIX = 'autoscaling.eventing.knative.dev/';
const SOURCE_SCALE_KEYS = [
  'class',
  'min-scale',
  'max-scale',
  'polling-interval',
  'cooldown-period',
  'lag-threshold',
  'activation-lag-threshold',
];
const KNOWN_KINDS: Record<string, string[]> = {
  knative: [
    'Namespace',
    'ServiceAccount',
    'Role',
    'RoleBinding',
    'ConfigMap',
    'KafkaTopic',
    'NetworkPolicy',
    'ApiServerSource',
    'PingSource',
  ],
  kafkaSources: ['KafkaSource', 'KafkaSink'],
};

const plannedTopics = new Set(TOPIC_PLAN.map((t) => t.name));
const partitionsOf = (topic: string): number => TOPIC_PLAN.find((t) => t.name === topic)?.partitions ?? 0;
const isInt = (value: unknown): boolean => typeof value === 'string' && /^\d+$/.test(value);

function functionLabel(f: FunctionManifest): string {
  return `${f.file}`;
}

// ---------------------------------------------------------------- schemas

/** Every manifest against its official schema; the Services and ScaledObjects the cluster derives too. */
export function schemaProblems(m: Manifests): string[] {
  const problems: string[] = [];
  for (const f of m.functions)
    problems.push(...validateAgainst('funcYaml', f.funcYaml).map((p) => `${functionLabel(f)}: ${p}`));
  for (const s of ofKind(m.kafkaSources, 'KafkaSource')) {
    if (s.doc.apiVersion !== 'sources.knative.dev/v1')
      problems.push(
        `${where(s)}: apiVersion must be sources.knative.dev/v1 (the version checked), not ${s.doc.apiVersion}`,
      );
    problems.push(...validateAgainst('kafkaSource', s.doc).map((p) => `${where(s)}: ${p}`));
  }
  if (m.jobTemplateError) problems.push(m.jobTemplateError);
  if (m.jobTemplate)
    problems.push(
      ...validateAgainst('job', m.jobTemplate.doc).map((p) => `${where(m.jobTemplate as ManifestDoc)}: ${p}`),
    );
  const rendered = renderAll(m.functions, m.kafkaSources);
  for (const svc of rendered.services)
    problems.push(
      ...validateAgainst('knativeService', svc).map(
        (p) => `Service/${svc.metadata.name} (as func deploy renders it): ${p}`,
      ),
    );
  for (const so of rendered.scaledObjects)
    problems.push(
      ...validateAgainst('scaledObject', so).map(
        (p) => `ScaledObject/${so.metadata.name} (as the KafkaSource controller renders it): ${p}`,
      ),
    );
  for (const [group, kinds] of Object.entries(KNOWN_KINDS)) {
    for (const d of group === 'knative' ? m.knative : m.kafkaSources) {
      if (!kinds.includes(d.doc.kind))
        problems.push(`${d.file}: kind ${d.doc.kind} does not belong here (expected one of ${kinds.join(', ')})`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- labels

/** Functions reachable from outside the cluster; every other one is cluster-local. */
export const PUBLIC_FUNCTIONS = ['queue-manager'];
const PART_OF = 'app.kubernetes.io/part-of';
/**
 * What the OpenShift developer console's topology reads beyond the app.kubernetes.io labels:
 * the runtime label picks a workload's icon; the connects-to annotation, a JSON list of
 * `{apiVersion, kind, name}` (a comma-separated list of names in older consoles), draws an
 * arrow from the annotated object to each one it names.
 */
export const RUNTIME_LABEL = 'app.openshift.io/runtime';
export const RUNTIME = 'nodejs';
export const CONNECTS_TO = 'app.openshift.io/connects-to';

interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
}

/** The objects a KafkaSource's connects-to must name: its function, then its dead-letter sink. */
export function expectedConnections(source: Doc): ObjectReference[] {
  return [source.spec?.sink?.ref, source.spec?.delivery?.deadLetterSink?.ref]
    .filter((ref): ref is ObjectReference => ref !== undefined)
    .map((ref) => ({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name }));
}

function connectsToProblem(source: Doc): string | undefined {
  const value = source.metadata?.annotations?.[CONNECTS_TO];
  const expected = JSON.stringify(expectedConnections(source));
  if (value === undefined) return `annotation ${CONNECTS_TO} is missing (want '${expected}')`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(value));
  } catch {
    return `annotation ${CONNECTS_TO} is not JSON (want '${expected}')`;
  }
  const named = Array.isArray(parsed)
    ? parsed.map((r: Partial<ObjectReference>) => ({ apiVersion: r?.apiVersion, kind: r?.kind, name: r?.name }))
    : parsed;
  return JSON.stringify(named) === expected
    ? undefined
    : `annotation ${CONNECTS_TO} must name its sink and dead-letter sink: '${expected}'`;
}

/**
 * Every Service, KafkaSource, KafkaSink and the Job template carry the labels the Knative and
 * OpenShift developer consoles group one application by (part-of, name, component); the
 * workloads (Services, the Job and its pods) the runtime label, and every KafkaSource a
 * connects-to annotation naming its function and its dead-letter sink, so the topology draws
 * source → function. Only the public functions answer outside the cluster.
 */
export function labelProblems(m: Manifests): string[] {
  const problems: string[] = [];
  const check = (at: string, labels: Record<string, string> | undefined, name: string): void => {
    if (labels?.[PART_OF] !== 'streamforge') problems.push(`${at}: label ${PART_OF} must be streamforge`);
    if (labels?.['app.kubernetes.io/name'] !== name)
      problems.push(`${at}: label app.kubernetes.io/name must be ${name}`);
    if (!labels?.['app.kubernetes.io/component']) problems.push(`${at}: label app.kubernetes.io/component is missing`);
  };
  const runtime = (at: string, labels: Record<string, string> | undefined): void => {
    if (labels?.[RUNTIME_LABEL] !== RUNTIME) problems.push(`${at}: label ${RUNTIME_LABEL} must be ${RUNTIME}`);
  };
  for (const f of m.functions) {
    const labels = renderKnativeService(f.funcYaml).metadata.labels as Record<string, string>;
    const at = functionLabel(f);
    check(at, labels, f.folder);
    runtime(at, labels);
    const local = labels['networking.knative.dev/visibility'] === 'cluster-local';
    if (PUBLIC_FUNCTIONS.includes(f.folder) === local)
      problems.push(
        `${at}: ${local ? 'is cluster-local but serves the API' : 'must be networking.knative.dev/visibility: cluster-local (only the manager is public)'}`,
      );
  }
  for (const { file, doc } of m.kafkaSources) {
    const at = `${file} ${doc.kind}/${doc.metadata?.name}`;
    check(at, doc.metadata?.labels, String(doc.metadata?.name));
    const connection = doc.kind === 'KafkaSource' ? connectsToProblem(doc) : undefined;
    if (connection) problems.push(`${at}: ${connection}`);
  }
  // The sources of knative/ (Job events, the deadline ping): labelled, and drawn as arrows to their function.
  for (const { file, doc } of [...ofKind(m.knative, 'ApiServerSource'), ...ofKind(m.knative, 'PingSource')]) {
    const at = `${file} ${doc.kind}/${doc.metadata?.name}`;
    check(at, doc.metadata?.labels, String(doc.metadata?.name));
    const connection = connectsToProblem(doc);
    if (connection) problems.push(`${at}: ${connection}`);
  }
  if (m.jobTemplate) {
    const { file, doc } = m.jobTemplate;
    check(`${file} Job`, doc.metadata?.labels, 'loader-ws');
    check(`${file} Job pod template`, doc.spec?.template?.metadata?.labels, 'loader-ws');
    runtime(`${file} Job`, doc.metadata?.labels);
    runtime(`${file} Job pod template`, doc.spec?.template?.metadata?.labels);
  }
  return problems;
}

// ---------------------------------------------------------------- func.yaml rules

export function funcYamlProblems(m: Manifests): string[] {
  const problems: string[] = [];
  for (const f of m.functions) {
    const y = f.funcYaml;
    const at = functionLabel(f);
    const p = (message: string) => problems.push(`${at}: ${message}`);
    if (y.specVersion !== SPEC_VERSION) p(`specVersion is ${y.specVersion}, the current one is ${SPEC_VERSION}`);
    if (y.name !== f.folder)
      p(
        `name ${y.name} differs from its folder ${f.folder} (the local platform and the checks find functions by folder)`,
      );
    if (y.runtime !== 'typescript' && y.runtime !== 'node') p(`runtime ${y.runtime} is not typescript or node`);
    if (y.namespace !== NAMESPACE) p(`namespace must be ${NAMESPACE} (top-level: where func deploys it)`);
    if (y.deploy?.namespace !== undefined && y.deploy.namespace !== y.namespace)
      p(`deploy.namespace ${y.deploy.namespace} (where func last deployed it) differs from namespace ${y.namespace}`);
    // Build: pack with a trusted builder, on Node 24, from build/ (the bundle).
    if (y.build?.builder !== 'pack')
      p('build.builder must be pack (the Paketo Node buildpacks build the bundle folder)');
    const builder: string | undefined = y.build?.builderImages?.pack;
    if (!builder) p('build.builderImages.pack must name the builder image, so the Node version is a choice');
    else if (!TRUSTED_BUILDERS.some((prefix) => builder.startsWith(prefix)))
      p(`build.builderImages.pack ${builder} is not a builder func trusts`);
    const buildEnv = new Map<string, string>(
      ((y.build?.buildEnvs ?? []) as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]),
    );
    if (buildEnv.get('BP_NODE_VERSION')?.split('.')[0] !== String(NODE_MAJOR))
      p(
        `build.buildEnvs BP_NODE_VERSION must be ${NODE_MAJOR} (the bundle's target), is ${buildEnv.get('BP_NODE_VERSION')}`,
      );
    if (buildEnv.get('BP_NODE_PROJECT_PATH') !== BUILD_SUBDIR)
      p(`build.buildEnvs BP_NODE_PROJECT_PATH must be ${BUILD_SUBDIR}: the image is built from the bundle folder`);
    if (buildEnv.get('BP_NODE_RUN_SCRIPTS') !== 'build')
      p('build.buildEnvs BP_NODE_RUN_SCRIPTS must be build (build/verify.mjs checks the image folder)');
    // Health endpoints: the routes the runtime serves.
    if (y.deploy?.healthEndpoints?.readiness !== '/health/readiness')
      p('deploy.healthEndpoints.readiness must be /health/readiness (the runtime route)');
    if (y.deploy?.healthEndpoints?.liveness !== '/health/liveness')
      p('deploy.healthEndpoints.liveness must be /health/liveness (the runtime route)');
    // Scaling only through deploy.options.scale (func puts annotations on the Service too, where Serving rejects scaling ones).
    for (const key of Object.keys(y.deploy?.annotations ?? {})) {
      if (key.startsWith('autoscaling.knative.dev/'))
        p(
          `deploy.annotations has ${key}: scaling belongs in deploy.options.scale (func copies annotations to the Service metadata, which Serving rejects)`,
        );
    }
    const scale = y.deploy?.options?.scale;
    if (!scale) p('deploy.options.scale is missing (min, max, target)');
    else {
      const always = ALWAYS_ON[f.folder];
      if (!Number.isInteger(scale.min)) p('deploy.options.scale.min must be set');
      else if (scale.min !== 0 && always === undefined)
        p(`deploy.options.scale.min is ${scale.min}: functions scale to zero unless listed in ALWAYS_ON with a reason`);
      if (!Number.isInteger(scale.max) || scale.max < 1)
        p('deploy.options.scale.max must be a whole number of at least 1 (0 would mean unbounded)');
      else if (Number.isInteger(scale.min) && scale.max < scale.min)
        p(`deploy.options.scale.max ${scale.max} is below min ${scale.min}`);
      if (typeof scale.target !== 'number' || scale.target < 0.01)
        p('deploy.options.scale.target must be at least 0.01 (Serving rejects less)');
      if (scale.metric !== undefined && scale.metric !== 'concurrency' && scale.metric !== 'rps')
        p(`deploy.options.scale.metric ${scale.metric} is not concurrency or rps (KPA)`);
    }
    const concurrency = y.deploy?.options?.resources?.limits?.concurrency;
    if (concurrency !== undefined && (concurrency < 0 || concurrency > 1000))
      p('deploy.options.resources.limits.concurrency must be 0..1000 (container-concurrency-max-limit)');
    // Values: credentials only by Secret reference.
    for (const e of (y.run?.envs ?? []) as Array<{ name: string; value?: string }>) {
      const ref = e.value === undefined ? undefined : parseEnvReference(e.value);
      if (e.value?.includes('{{') && !ref)
        p(
          `run.envs ${e.name}: "${e.value}" is not a {{ configMap:NAME:KEY }}, {{ secret:NAME:KEY }} or {{ env:NAME }} reference`,
        );
      if (/(PASSWORD|TOKEN|SECRET|_KEY|CREDENTIALS?)$/.test(e.name) && ref?.kind !== 'secret')
        p(
          `run.envs ${e.name} looks like a credential: take it from a Secret ({{ secret:NAME:KEY }}), never a value in the repository`,
        );
    }
  }
  return problems;
}

// ---------------------------------------------------------------- KafkaSource / KafkaSink rules

export function kafkaSourceProblems(m: Manifests): string[] {
  const problems: string[] = [];
  const groups = new Map<string, string>();
  for (const s of ofKind(m.kafkaSources, 'KafkaSource')) {
    const at = where(s);
    const p = (message: string) => problems.push(`${at}: ${message}`);
    const spec = s.doc.spec ?? {};
    const annotations: Record<string, unknown> = s.doc.metadata?.annotations ?? {};
    const topics: string[] = spec.topics ?? [];
    // Consumer group: named (the default is a random one, and it is immutable) and not shared.
    if (!spec.consumerGroup) p('spec.consumerGroup must be named (the default is random and it cannot change later)');
    else if (groups.has(spec.consumerGroup))
      p(
        `spec.consumerGroup ${spec.consumerGroup} is also used by ${groups.get(spec.consumerGroup)}: the two would split the records between them`,
      );
    else groups.set(spec.consumerGroup, at);
    if (spec.initialOffset === undefined)
      p(
        'spec.initialOffset must be explicit (the default, latest, skips what was published before the source existed)',
      );
    for (const t of topics.filter((t) => EARLIEST_TOPICS.includes(t)))
      if (spec.initialOffset !== 'earliest')
        p(`reads ${t}, whose history is work or data: initialOffset must be earliest`);
    if (spec.ordering === undefined) p('spec.ordering must be explicit');
    for (const t of topics.filter((t) => ORDERED_TOPICS.includes(t)))
      if (spec.ordering !== 'ordered')
        p(`reads ${t}, whose events are keyed by symbol and must stay in order: ordering must be ordered`);
    // Delivery: retries, backoff, a timeout below the Service's, a dead-letter sink.
    const d = spec.delivery;
    if (!d) p('spec.delivery is missing (retry, backoff, timeout, deadLetterSink)');
    else {
      if (!Number.isInteger(d.retry) || d.retry < 1)
        p('spec.delivery.retry must be at least 1 (with spec.delivery set, an unset retry means no retry at all)');
      if (d.backoffPolicy !== 'exponential' && d.backoffPolicy !== 'linear')
        p('spec.delivery.backoffPolicy must be explicit: exponential or linear');
      const duration = (field: string): number | undefined => {
        if (d[field] === undefined) return undefined;
        try {
          return parseIsoDuration(String(d[field]));
        } catch {
          p(`spec.delivery.${field} "${d[field]}" is not an ISO-8601 duration such as PT0.5S`);
          return undefined;
        }
      };
      const backoff = duration('backoffDelay');
      const timeout = duration('timeout');
      if (d.backoffDelay === undefined) p('spec.delivery.backoffDelay must be explicit');
      else if (backoff !== undefined && backoff <= 0) p('spec.delivery.backoffDelay must be above zero');
      if (d.timeout === undefined)
        p(
          `spec.delivery.timeout must be explicit (the default, 600 s, outlives the Service's ${SERVICE_TIMEOUT_S} s request timeout)`,
        );
      else if (timeout !== undefined && (timeout <= 0 || timeout >= SERVICE_TIMEOUT_S * 1000))
        p(
          `spec.delivery.timeout ${d.timeout} must be above zero and below the Service's ${SERVICE_TIMEOUT_S} s request timeout`,
        );
      const dls = d.deadLetterSink?.ref;
      if (!dls)
        p('spec.delivery.deadLetterSink.ref must name a KafkaSink (without one, what fails for good is dropped)');
      else if (dls.kind !== 'KafkaSink' || dls.apiVersion !== 'eventing.knative.dev/v1alpha1')
        p('spec.delivery.deadLetterSink.ref must be a KafkaSink (eventing.knative.dev/v1alpha1)');
    }
    const sink = spec.sink?.ref;
    if (sink?.apiVersion !== 'serving.knative.dev/v1' || sink.kind !== 'Service')
      p('spec.sink.ref must be a Knative Service (serving.knative.dev/v1), the function');
    // KEDA scaling of the consumers.
    for (const key of Object.keys(annotations)) {
      if (key.startsWith(SOURCE_SCALE_PREFIX) && !SOURCE_SCALE_KEYS.includes(key.slice(SOURCE_SCALE_PREFIX.length)))
        p(`unknown annotation ${key} (known: ${SOURCE_SCALE_KEYS.join(', ')})`);
      if (key.startsWith('autoscaling.knative.dev/') || key.startsWith('keda.autoscaling.knative.dev/'))
        p(`legacy annotation ${key}: use ${SOURCE_SCALE_PREFIX}*`);
    }
    const a = (key: string) => annotations[SOURCE_SCALE_PREFIX + key];
    if (a('class') !== KEDA_CLASS) p(`${SOURCE_SCALE_PREFIX}class must be ${KEDA_CLASS}`);
    if (a('min-scale') !== '0') p(`${SOURCE_SCALE_PREFIX}min-scale must be "0": consumers scale to zero`);
    if (!isInt(a('max-scale')) || Number(a('max-scale')) < 1)
      p(`${SOURCE_SCALE_PREFIX}max-scale must be a whole number of at least 1, as a string`);
    else {
      const partitions = Math.max(0, ...topics.map(partitionsOf));
      if (sourceScale(s.doc, 'max-scale') < sourceScale(s.doc, 'min-scale')) p('max-scale is below min-scale');
      if (partitions > 0 && sourceScale(s.doc, 'max-scale') > partitions)
        p(
          `max-scale ${a('max-scale')} exceeds the ${partitions} partitions of its topics: KEDA never uses consumers beyond them`,
        );
    }
    if (!isInt(a('lag-threshold')) || Number(a('lag-threshold')) < 1)
      p(`${SOURCE_SCALE_PREFIX}lag-threshold must be a whole number above 0, as a string`);
    for (const key of ['polling-interval', 'cooldown-period'])
      if (a(key) !== undefined && (!isInt(a(key)) || Number(a(key)) < 1))
        p(`${SOURCE_SCALE_PREFIX}${key} must be a whole number of seconds above 0, as a string`);
    if (a('activation-lag-threshold') !== undefined && !isInt(a('activation-lag-threshold')))
      p(`${SOURCE_SCALE_PREFIX}activation-lag-threshold must be a whole number, as a string`);
  }
  for (const k of ofKind(m.kafkaSources, 'KafkaSink')) {
    const p = (message: string) => problems.push(`${where(k)}: ${message}`);
    if (k.doc.apiVersion !== 'eventing.knative.dev/v1alpha1') p('apiVersion must be eventing.knative.dev/v1alpha1');
    if (!k.doc.spec?.topic) p('spec.topic is required');
    if (!Array.isArray(k.doc.spec?.bootstrapServers) || k.doc.spec.bootstrapServers.length === 0)
      p('spec.bootstrapServers is required');
    if (k.doc.spec?.contentMode !== undefined && !['binary', 'structured'].includes(k.doc.spec.contentMode))
      p('spec.contentMode must be binary or structured');
    for (const key of Object.keys(k.doc.spec ?? {}))
      if (!['topic', 'bootstrapServers', 'contentMode', 'numPartitions', 'replicationFactor', 'auth'].includes(key))
        p(`unknown field spec.${key}`);
  }
  return problems;
}

// ---------------------------------------------------------------- cross-checks

function configMaps(m: Manifests): Map<string, Doc> {
  return new Map(ofKind(m.knative, 'ConfigMap').map((d) => [d.doc.metadata.name as string, d.doc]));
}

/** KafkaSource sinks are functions; dead-letter sinks are KafkaSinks of the project. */
export function sinkProblems(m: Manifests): string[] {
  const problems: string[] = [];
  const functionNames = new Set(m.functions.map((f) => f.funcYaml.name as string));
  const sinkNames = new Set(ofKind(m.kafkaSources, 'KafkaSink').map((k) => k.doc.metadata?.name as string));
  for (const s of ofKind(m.kafkaSources, 'KafkaSource')) {
    const sink = s.doc.spec?.sink?.ref?.name;
    if (sink === undefined || !functionNames.has(sink))
      problems.push(`${where(s)}: sink ${sink} is not a function (functions: ${[...functionNames].join(', ')})`);
    const dls = s.doc.spec?.delivery?.deadLetterSink?.ref?.name;
    if (dls !== undefined && !sinkNames.has(dls))
      problems.push(`${where(s)}: dead-letter sink ${dls} is not a KafkaSink in kafka-sources/`);
  }
  return problems;
}

/**
 * A PingSource sends to a function, on a schedule the local platform runs the same way (every
 * N minutes, UTC), with JSON data when it says application/json (the manager reads it as JSON).
 */
export function pingSourceProblems(m: Manifests): string[] {
  const problems: string[] = [];
  for (const d of ofKind(m.knative, 'PingSource')) {
    const at = where(d);
    const spec = d.doc.spec ?? {};
    const sink = spec.sink?.ref?.name;
    if (spec.sink?.ref?.kind !== 'Service' || !m.functions.some((f) => f.folder === sink))
      problems.push(`${at}: sink must be a function's Knative Service, not ${sink}`);
    try {
      parseSchedule(String(spec.schedule ?? '* * * * *'), at);
    } catch (error) {
      problems.push((error as Error).message);
    }
    if (spec.timezone !== undefined) problems.push(`${at}: timezone is not run locally; schedules are UTC`);
    if (spec.dataBase64 !== undefined) problems.push(`${at}: data goes in data, as text`);
    if (spec.contentType !== 'application/json') problems.push(`${at}: contentType must be application/json`);
    else {
      try {
        JSON.parse(String(spec.data));
      } catch {
        problems.push(`${at}: data '${spec.data}' is not JSON, which contentType says it is`);
      }
    }
  }
  return problems;
}

function brokersOf(m: Manifests): string[] {
  return String(configMaps(m).get('streamforge-config')?.data?.KAFKA_BROKERS ?? '')
    .split(',')
    .filter((b) => b !== '');
}

/** Every topic named anywhere is in the topic plan, on the Kafka cluster KAFKA_BROKERS names. */
export function topicProblems(m: Manifests): string[] {
  const problems: string[] = [];
  const brokers = brokersOf(m);
  if (brokers.length === 0) problems.push('knative/config.yaml: ConfigMap streamforge-config must set KAFKA_BROKERS');
  for (const s of ofKind(m.kafkaSources, 'KafkaSource')) {
    for (const t of s.doc.spec?.topics ?? [])
      if (!plannedTopics.has(t))
        problems.push(`${where(s)}: topic ${t} is not in the topic plan (packages/core/src/bus/topics.ts)`);
    if (brokers.length > 0 && JSON.stringify(s.doc.spec?.bootstrapServers) !== JSON.stringify(brokers))
      problems.push(
        `${where(s)}: bootstrapServers ${JSON.stringify(s.doc.spec?.bootstrapServers)} differ from KAFKA_BROKERS in knative/config.yaml`,
      );
  }
  for (const k of ofKind(m.kafkaSources, 'KafkaSink')) {
    const topic = k.doc.spec?.topic;
    if (!plannedTopics.has(topic)) problems.push(`${where(k)}: topic ${topic} is not in the topic plan`);
    else if (!String(topic).endsWith('-dlq'))
      problems.push(`${where(k)}: topic ${topic} is not a dead-letter topic of the plan`);
    if (brokers.length > 0 && JSON.stringify(k.doc.spec?.bootstrapServers) !== JSON.stringify(brokers))
      problems.push(`${where(k)}: bootstrapServers differ from KAFKA_BROKERS in knative/config.yaml`);
  }
  const host = brokers[0]?.split(':')[0] ?? '';
  const topicsInFile = new Set<string>();
  for (const t of ofKind(m.knative, 'KafkaTopic')) {
    const name = t.doc.spec?.topicName ?? t.doc.metadata?.name;
    topicsInFile.add(name);
    if (!plannedTopics.has(name)) problems.push(`${where(t)}: topic ${name} is not in the topic plan`);
    if (t.doc.metadata?.namespace !== DEFAULT_TOPIC_OPTIONS.namespace)
      problems.push(
        `${where(t)}: KafkaTopics belong in the Kafka cluster's namespace ${DEFAULT_TOPIC_OPTIONS.namespace}`,
      );
    const cluster = t.doc.metadata?.labels?.['strimzi.io/cluster'];
    const expectedHost = `${cluster}-kafka-bootstrap.${t.doc.metadata?.namespace}`;
    if (host !== '' && host !== expectedHost && !host.startsWith(`${expectedHost}.`))
      problems.push(
        `${where(t)}: KafkaTopic of cluster ${cluster} in ${t.doc.metadata?.namespace}, but KAFKA_BROKERS points at ${host} (expected ${expectedHost})`,
      );
  }
  for (const t of plannedTopics)
    if (!topicsInFile.has(t))
      problems.push(`knative/topics.yaml: no KafkaTopic for ${t} of the topic plan (run \`make topics\`)`);
  return problems;
}

/** func.yaml references name ConfigMap/Secret keys and service accounts that exist; one namespace for all. */
export function referenceProblems(m: Manifests): string[] {
  const problems: string[] = [];
  const maps = configMaps(m);
  const secrets = new Map(ofKind(m.secretExamples, 'Secret').map((d) => [d.doc.metadata.name as string, d.doc]));
  const accounts = new Set(ofKind(m.knative, 'ServiceAccount').map((d) => d.doc.metadata.name as string));
  for (const f of m.functions) {
    for (const e of (f.funcYaml.run?.envs ?? []) as Array<{ name: string; value?: string }>) {
      const ref = e.value === undefined ? undefined : parseEnvReference(e.value);
      if (!ref || ref.kind === 'env') continue;
      const target = ref.kind === 'configMap' ? maps.get(ref.name) : secrets.get(ref.name);
      const file = ref.kind === 'configMap' ? 'knative/*.yaml' : 'knative/secrets.yaml.example';
      if (!target)
        problems.push(`${f.file}: run.envs ${e.name} references ${ref.kind} ${ref.name}, which is not in ${file}`);
      else if (ref.key !== undefined && !dataKeys(target).includes(ref.key))
        problems.push(
          `${f.file}: run.envs ${e.name} references key ${ref.key} of ${ref.kind} ${ref.name}, which has no such key`,
        );
    }
    const account = f.funcYaml.deploy?.serviceAccountName;
    if (account !== undefined && !accounts.has(account))
      problems.push(`${f.file}: deploy.serviceAccountName ${account} is not a ServiceAccount in knative/`);
  }
  // An ApiServerSource runs as an account of knative/, sends to a function, and picks the Jobs of the template.
  const templateLabels = (m.jobTemplate?.doc.metadata?.labels ?? {}) as Record<string, string>;
  for (const d of ofKind(m.knative, 'ApiServerSource')) {
    const at = where(d);
    if (!accounts.has(d.doc.spec?.serviceAccountName))
      problems.push(`${at}: serviceAccountName ${d.doc.spec?.serviceAccountName} is not a ServiceAccount in knative/`);
    const sink = d.doc.spec?.sink?.ref?.name;
    if (d.doc.spec?.sink?.ref?.kind !== 'Service' || !m.functions.some((f) => f.folder === sink))
      problems.push(`${at}: sink must be a function's Knative Service, not ${sink}`);
    for (const r of (d.doc.spec?.resources ?? []) as Doc[]) {
      // A template without labels is labelProblems' to report.
      if (r.apiVersion !== 'batch/v1' || r.kind !== 'Job' || Object.keys(templateLabels).length === 0) continue;
      const wanted = Object.entries((r.selector?.matchLabels ?? {}) as Record<string, string>);
      if (wanted.length === 0 || wanted.some(([k, v]) => templateLabels[k] !== v))
        problems.push(
          `${at}: the Job selector ${JSON.stringify(r.selector)} must pick the loader-ws Job template's labels`,
        );
    }
  }
  if (m.jobTemplate) {
    const at = where(m.jobTemplate);
    const pod = m.jobTemplate.doc.spec?.template?.spec ?? {};
    if (pod.serviceAccountName !== undefined && !accounts.has(pod.serviceAccountName))
      problems.push(`${at}: serviceAccountName ${pod.serviceAccountName} is not a ServiceAccount in knative/`);
    const ns = m.jobTemplate.doc.metadata?.namespace;
    if (ns !== undefined && ns !== NAMESPACE)
      problems.push(`${at}: metadata.namespace must be ${NAMESPACE}, where the manager may create Jobs`);
    // The Job's env references the same ConfigMap and Secrets as the functions.
    for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])] as Doc[]) {
      for (const e of (c.env ?? []) as Doc[]) {
        const cm = e.valueFrom?.configMapKeyRef;
        const sk = e.valueFrom?.secretKeyRef;
        if (cm && !cm.optional && !dataKeys(maps.get(cm.name) ?? {}).includes(cm.key))
          problems.push(
            `${at}: env ${e.name} references key ${cm.key} of ConfigMap ${cm.name}, which is not in knative/`,
          );
        if (sk && !sk.optional && !dataKeys(secrets.get(sk.name) ?? {}).includes(sk.key))
          problems.push(
            `${at}: env ${e.name} references key ${sk.key} of Secret ${sk.name}, which is not in knative/secrets.yaml.example`,
          );
      }
      for (const from of (c.envFrom ?? []) as Doc[]) {
        if (from.configMapRef && !from.configMapRef.optional && !maps.has(from.configMapRef.name))
          problems.push(`${at}: envFrom ConfigMap ${from.configMapRef.name} is not in knative/`);
        if (from.secretRef && !from.secretRef.optional && !secrets.has(from.secretRef.name))
          problems.push(`${at}: envFrom Secret ${from.secretRef.name} is not in knative/secrets.yaml.example`);
      }
    }
  }
  for (const d of [...m.knative, ...m.kafkaSources, ...m.secretExamples]) {
    if (['Namespace', 'KafkaTopic'].includes(d.doc.kind)) continue;
    if (d.doc.metadata?.namespace !== NAMESPACE) problems.push(`${where(d)}: metadata.namespace must be ${NAMESPACE}`);
  }
  for (const s of ofKind(m.secretExamples, 'Secret')) {
    for (const [key, value] of Object.entries({ ...(s.doc.data ?? {}), ...(s.doc.stringData ?? {}) }))
      if (value !== '' && value !== null)
        problems.push(`${where(s)}: ${key} has a value; placeholders hold none (never commit credentials)`);
  }
  return problems;
}

// ---------------------------------------------------------------- RBAC

/** The Role grants Jobs in one namespace and nothing else; nothing cluster-wide exists. */
export function rbacProblems(m: Manifests): string[] {
  const problems: string[] = [];
  const all = [...m.knative, ...m.kafkaSources, ...(m.jobTemplate ? [m.jobTemplate] : [])];
  for (const d of all)
    if (d.doc.kind === 'ClusterRole' || d.doc.kind === 'ClusterRoleBinding')
      problems.push(`${where(d)}: no cluster-wide RBAC: the manager's rights end at its namespace`);
  const roles = ofKind(m.knative, 'Role');
  if (roles.length === 0) problems.push('knative/: the queue-manager needs a Role for its Jobs');
  // The ApiServerSources' accounts read the Jobs for the manager (get/list/watch, checked below);
  // every other Role is the manager's, held to MANAGER_RULE.
  const sourceAccounts = ofKind(m.knative, 'ApiServerSource').map((d) => d.doc.spec?.serviceAccountName as string);
  const sourceRoles = new Set(
    ofKind(m.knative, 'RoleBinding')
      .filter((b) => (b.doc.subjects ?? []).some((s: Doc) => sourceAccounts.includes(s.name)))
      .map((b) => b.doc.roleRef?.name as string),
  );
  for (const r of roles) {
    if (r.doc.metadata?.namespace !== NAMESPACE) problems.push(`${where(r)}: must be in namespace ${NAMESPACE}`);
    const verbs = sourceRoles.has(r.doc.metadata?.name) ? ['get', 'list', 'watch'] : MANAGER_RULE.verbs;
    for (const rule of (r.doc.rules ?? []) as Doc[]) {
      const text = JSON.stringify(rule);
      if (text.includes('"*"')) problems.push(`${where(r)}: wildcard in ${text}`);
      if (rule.nonResourceURLs) problems.push(`${where(r)}: nonResourceURLs are not needed`);
      const extra = [
        ...(rule.apiGroups ?? [])
          .filter((g: string) => !MANAGER_RULE.apiGroups.includes(g))
          .map((g: string) => `apiGroup "${g}"`),
        ...(rule.resources ?? [])
          .filter((x: string) => !MANAGER_RULE.resources.includes(x))
          .map((x: string) => `resource ${x}`),
        ...(rule.verbs ?? []).filter((v: string) => !verbs.includes(v)).map((v: string) => `verb ${v}`),
      ];
      if (extra.length > 0)
        problems.push(`${where(r)}: grants ${extra.join(', ')} beyond ${verbs.join('/')} on batch jobs`);
    }
  }
  const managerAccount = m.functions.find((f) => f.folder === 'queue-manager')?.funcYaml.deploy?.serviceAccountName;
  for (const b of ofKind(m.knative, 'RoleBinding')) {
    if ((b.doc.subjects ?? []).some((s: Doc) => sourceAccounts.includes(s.name))) {
      const role = roles.find((r) => r.doc.metadata?.name === b.doc.roleRef?.name);
      const verbs = ((role?.doc.rules ?? []) as Doc[]).flatMap((rule) => rule.verbs ?? []);
      const writes = verbs.filter((v: string) => !['get', 'list', 'watch'].includes(v));
      if (writes.length > 0)
        problems.push(
          `${where(b)}: an ApiServerSource's account only reads Jobs, but its Role grants ${writes.join(', ')}`,
        );
    }
  }
  for (const b of ofKind(m.knative, 'RoleBinding')) {
    const ns = b.doc.metadata?.namespace;
    if (b.doc.roleRef?.kind !== 'Role')
      problems.push(`${where(b)}: roleRef must be a Role of the namespace, not ${b.doc.roleRef?.kind}`);
    else if (!roles.some((r) => r.doc.metadata?.name === b.doc.roleRef?.name && r.doc.metadata?.namespace === ns))
      problems.push(`${where(b)}: roleRef ${b.doc.roleRef?.name} is not a Role in ${ns}`);
    for (const s of (b.doc.subjects ?? []) as Doc[]) {
      if (s.kind !== 'ServiceAccount' || (s.namespace ?? ns) !== ns)
        problems.push(`${where(b)}: subject ${s.kind}/${s.name} must be a ServiceAccount of ${ns}`);
      else if (managerAccount !== undefined && s.name !== managerAccount && !sourceAccounts.includes(s.name))
        problems.push(`${where(b)}: binds ${s.name}, but only the queue-manager (${managerAccount}) needs the API`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- environment

export interface EnvReport {
  function: string;
  reads: string[];
  setByManifest: string[];
  problems: string[];
}

/** Every variable a function's bundle reads is set by its func.yaml (or the platform) or has a default; func.yaml sets nothing it never reads. */
export async function envProblems(m: Manifests, f: FunctionManifest, bundleInputs: string[]): Promise<EnvReport> {
  const usage = envUsage(bundleInputs);
  const { specs, table } = await envTable(usage.declaringFiles);
  const maps = configMaps(m);
  const set = new Set<string>(PLATFORM_ENV);
  /** Named one by one in run.envs (a whole ConfigMap may well hold keys this function does not read). */
  const named = new Set<string>();
  for (const e of (f.funcYaml.run?.envs ?? []) as Array<{ name: string; value?: string }>) {
    const ref = e.value === undefined ? undefined : parseEnvReference(e.value);
    if (ref && ref.kind !== 'env' && ref.key === undefined) {
      // A whole ConfigMap (envFrom): every key becomes a variable.
      for (const key of ref.kind === 'configMap' ? dataKeys(maps.get(ref.name) ?? {}) : []) set.add(key);
    } else if (e.value !== undefined) {
      set.add(e.name);
      named.add(e.name);
    }
  }
  const problems: string[] = [];
  const declaredHere = new Set([...table, ...usage.declared]);
  for (const read of usage.reads) {
    const at = read.at[0];
    if (!declaredHere.has(read.name))
      problems.push(
        `${f.folder}: reads ${read.name} (${at}), which is not declared in packages/core/src/config.ts nor by a declareEnv() in its bundle`,
      );
    else if (!set.has(read.name) && specs[read.name]?.default === undefined)
      problems.push(
        `${f.folder}: reads ${read.name} (${at}), which is required (no default) and not set by its func.yaml`,
      );
  }
  const read = new Set(usage.reads.map((r) => r.name));
  for (const name of named) {
    if (!read.has(name) && !NODE_RUNTIME_ENV.has(name))
      problems.push(
        `${f.file}: run.envs sets ${name}, which nothing in the ${f.folder} bundle reads (a typo, or a leftover)`,
      );
  }
  for (const at of usage.dynamic)
    problems.push(
      `${f.folder}: ${at} reads a variable whose name is not a literal; name it, so the manifests can be checked`,
    );
  return {
    function: f.folder,
    reads: usage.reads.map((r) => r.name),
    setByManifest: [...set].filter((n) => !PLATFORM_ENV.includes(n)).sort(),
    problems,
  };
}

// ---------------------------------------------------------------- image folder

/** What `func deploy` would build from: the bundle folder is there, complete, kept by .funcignore, with nothing of this machine in it. */
export function imageProblems(folder: string, buildDir = join(functionDir(folder), BUILD_SUBDIR)): string[] {
  const problems: string[] = [];
  const p = (message: string) => problems.push(`functions/${folder}: ${message}`);
  const dir = functionDir(folder);
  if (!existsSync(join(dir, '.funcignore')))
    p('.funcignore is missing: the sources and a local node_modules would go into the image build');
  if (!existsSync(join(buildDir, 'package.json')) || !existsSync(join(buildDir, 'index.mjs'))) {
    p(`${BUILD_SUBDIR}/ has no bundle: run \`make bundles\``);
    return problems;
  }
  const rules = readFuncignore(dir);
  for (const file of filesBelow(buildDir, `${BUILD_SUBDIR}/`))
    if (isExcluded(rules, file, false)) p(`.funcignore excludes ${file}, which the image needs`);
  for (const entry of readdirSync(buildDir, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink())
      p(
        `${BUILD_SUBDIR}/${relative(buildDir, join(entry.parentPath, entry.name))} is a symbolic link; the image gets plain files only`,
      );
  }
  const pkg = JSON.parse(readFileSync(join(buildDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    scripts?: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies ?? {}))
    if (!existsSync(join(buildDir, 'node_modules', dep, 'package.json')))
      p(
        `${BUILD_SUBDIR}/package.json depends on ${dep}, which is not vendored: the image build would fetch it from the registry`,
      );
  if (!pkg.scripts?.start || !pkg.scripts.build)
    p(`${BUILD_SUBDIR}/package.json needs start and build scripts (npm-start and node-run-script buildpacks)`);
  for (const file of ['index.mjs', 'index.mjs.map', 'package.json', 'verify.mjs']) {
    const path = join(buildDir, file);
    if (existsSync(path) && readFileSync(path, 'utf8').includes(ROOT))
      p(`${BUILD_SUBDIR}/${file} contains this machine's path ${ROOT}`);
    if (existsSync(path) && /(?:require|import)\(\s*["']\.\.\//.test(readFileSync(path, 'utf8')))
      p(`${BUILD_SUBDIR}/${file} loads a file through ../ at run time`);
  }
  return problems;
}

/**
 * A Job image (loader-ws, built by `make deploy` with pack): its image folder is complete, with
 * the project descriptor pack reads; it is built like the functions (the builder every
 * func.yaml names); and the Job template runs it as the image's non-root user, by its default
 * process, with the image reference coming from the ConfigMap the manager reads.
 */
export function jobImageProblems(m: Manifests, job: JobImage, buildDir = jobBuildDir(job)): string[] {
  const problems: string[] = [];
  const p = (message: string) => problems.push(`functions/${job.name}: ${message}`);
  if (!existsSync(join(buildDir, 'index.mjs')) || !existsSync(join(buildDir, 'package.json')))
    p(`${BUILD_SUBDIR}/ has no bundle: run \`make bundles\``);
  else {
    const descriptor = join(buildDir, PROJECT_DESCRIPTOR);
    if (!existsSync(descriptor) || readFileSync(descriptor, 'utf8') !== projectDescriptor(job))
      p(`${BUILD_SUBDIR}/${PROJECT_DESCRIPTOR} is missing or stale: run \`make bundles\``);
    const pkg = JSON.parse(readFileSync(join(buildDir, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    if (!pkg.scripts?.start?.includes('index.mjs') || !pkg.scripts.build)
      p(`${BUILD_SUBDIR}/package.json must start index.mjs and build with verify.mjs (npm-start, node-run-script)`);
    for (const file of ['index.mjs', 'index.mjs.map', 'package.json', 'verify.mjs', PROJECT_DESCRIPTOR]) {
      const path = join(buildDir, file);
      if (existsSync(path) && readFileSync(path, 'utf8').includes(ROOT))
        p(`${BUILD_SUBDIR}/${file} contains this machine's path ${ROOT}`);
    }
  }
  for (const f of m.functions) {
    const builder = f.funcYaml.build?.builderImages?.pack;
    if (builder !== PACK_BUILDER)
      p(`is built with ${PACK_BUILDER}, ${f.file} with ${builder}: one builder, one Node, one run image user`);
  }
  const template = m.jobTemplate;
  if (!template) return [...problems, `functions/${job.name}: no Job template (knative/${JOB_TEMPLATE_FILE})`];
  const at = (message: string) => problems.push(`${template.file}: ${message}`);
  const pod = template.doc.spec?.template?.spec ?? {};
  const container = ((pod.containers ?? []) as Doc[]).find((c) => c.name === job.container);
  if (!container) at(`has no container ${job.container}`);
  else {
    const security = { ...pod.securityContext, ...container.securityContext } as Doc;
    if (security.runAsNonRoot !== true) at(`container ${job.container} must set runAsNonRoot: true`);
    if (security.runAsUser !== RUN_IMAGE_USER.uid || security.runAsGroup !== RUN_IMAGE_USER.gid)
      at(
        `container ${job.container} must run as the image's user, runAsUser ${RUN_IMAGE_USER.uid} and runAsGroup ${RUN_IMAGE_USER.gid} (the builder's run image), not ${security.runAsUser}:${security.runAsGroup}`,
      );
    if (container.command !== undefined || container.args !== undefined)
      at(`container ${job.container} sets command or args: the image's default process (npm start) runs the program`);
  }
  const config = ofKind(m.knative, 'ConfigMap').find((d) => d.doc.metadata?.name === 'streamforge-config');
  if (!config || !(job.configKey in (config.doc.data ?? {})))
    at(`the ConfigMap streamforge-config has no ${job.configKey}, where make deploy writes the image reference`);
  const readers = m.functions.filter((f) =>
    ((f.funcYaml.run?.envs ?? []) as Array<{ name: string; value?: string }>).some((e) => {
      const ref = e.value === undefined ? undefined : parseEnvReference(e.value);
      return (
        e.name === job.configKey &&
        ref?.kind === 'configMap' &&
        ref.name === 'streamforge-config' &&
        ref.key === job.configKey
      );
    }),
  );
  if (readers.length === 0)
    at(
      `no func.yaml sets ${job.configKey} from the ConfigMap: the launcher would run the template's placeholder image`,
    );
  return problems;
}

// ---------------------------------------------------------------- dashboard

export const DASHBOARD_FILE = 'knative/monitoring/streamforge-functions.dashboard.json';

/** Metric names the project exports: StreamForge's own (declared in its sources) and prom-client's defaults. */
export async function exportedMetrics(): Promise<Set<string>> {
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const names = new Set<string>();
  const add = (name: string, type: string) => {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const metric of await registry.getMetricsAsJSON()) add(metric.name, String(metric.type));
  const sources = readdirSync(join(ROOT, 'packages'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && e.parentPath.includes(`${sep}src`))
    .map((e) => join(e.parentPath, e.name));
  for (const folder of readdirSync(join(ROOT, 'functions'))) {
    const src = join(ROOT, 'functions', folder, 'src');
    if (existsSync(src))
      sources.push(
        ...readdirSync(src, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && e.name.endsWith('.ts'))
          .map((e) => join(e.parentPath, e.name)),
      );
  }
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\s*\{\s*name:\s*'([a-z_:][a-z0-9_:]*)'/g))
      add(m[2] as string, (m[1] as string).toLowerCase());
  }
  return names;
}

/** The dashboard parses, and every metric its queries use is one the functions export. */
export async function dashboardProblems(file = DASHBOARD_FILE): Promise<string[]> {
  const problems: string[] = [];
  let dashboard: {
    uid?: string;
    panels?: Array<{ id?: number; type?: string; targets?: Array<{ expr?: string }> }>;
    templating?: { list?: Array<{ name: string }> };
  };
  try {
    dashboard = JSON.parse(readFileSync(isAbsolute(file) ? file : join(ROOT, file), 'utf8'));
  } catch (error) {
    return [`${file}: ${(error as Error).message}`];
  }
  const exported = await exportedMetrics();
  const ids = new Set<number>();
  const variables = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
  if (!dashboard.uid) problems.push(`${file}: the dashboard needs a uid (links and provisioning use it)`);
  for (const panel of dashboard.panels ?? []) {
    if (panel.id === undefined || ids.has(panel.id)) problems.push(`${file}: panel ids must be unique (${panel.id})`);
    else ids.add(panel.id);
    for (const target of panel.targets ?? []) {
      const expr = target.expr ?? '';
      for (const m of expr.matchAll(/\b((?:streamforge|process|nodejs)_[a-z0-9_]+)\b/g))
        if (!exported.has(m[1] as string))
          problems.push(`${file}: panel ${panel.id} queries ${m[1]}, which no function exports`);
      for (const m of expr.matchAll(/\$(\w+)/g))
        if (m[1] !== '__rate_interval' && !variables.has(m[1] as string))
          problems.push(`${file}: panel ${panel.id} uses $${m[1]}, which is not a dashboard variable`);
    }
  }
  return problems;
}
