/**
 * Reads the cluster manifests the local platform obeys: KafkaSources (and the KafkaSinks
 * their dead letters go to) from kafka-sources/, and each function's func.yaml. Knative's
 * defaults are applied exactly where the cluster would apply them,
 * so local wiring is the cluster wiring.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { StreamForgeError } from '@streamforge/core/errors';
import { backoffDelay } from '@streamforge/core/retry';

export interface SinkRef {
  kind: string;
  name: string;
  uri?: string;
}

export interface DeliverySpec {
  retry: number;
  backoffPolicy: 'linear' | 'exponential';
  backoffDelayMs: number;
  timeoutMs: number;
  deadLetterSink: SinkRef | undefined;
}

export interface AutoscalingSpec {
  className: string;
  minScale: number;
  maxScale: number;
  lagThreshold: number;
  activationLagThreshold: number;
  pollingIntervalS: number;
  cooldownPeriodS: number;
}

export interface KafkaSourceSpec {
  name: string;
  file: string;
  topics: string[];
  consumerGroup: string;
  initialOffset: 'earliest' | 'latest';
  ordering: 'ordered' | 'unordered';
  delivery: DeliverySpec;
  sink: SinkRef;
  autoscaling: AutoscalingSpec;
}

export interface KafkaSinkSpec {
  name: string;
  topic: string;
  contentMode: 'binary' | 'structured';
}

export interface FuncYaml {
  name: string;
  runtime?: string;
  invoke?: string;
  deploy?: {
    options?: {
      scale?: { min?: number; max?: number; metric?: string; target?: number };
      resources?: { limits?: { concurrency?: number } };
    };
    [key: string]: unknown;
  };
  run?: { envs?: Array<{ name: string; value?: string }> };
  [key: string]: unknown;
}

/** `PT0.3S`, `PT30S`, `PT1M30S`, `P1D` → milliseconds (the durations Knative delivery specs use). */
export function parseIsoDuration(value: string): number {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value.endsWith('T'))
    throw new StreamForgeError('SF_CONFIG_INVALID', `"${value}" is not an ISO-8601 duration such as PT0.5S`);
  const [, d, h, min, s] = m;
  return Math.round(((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000);
}

// What the KafkaSource reconciler fills in for a source without spec.delivery, and the
// prefix of its KEDA scaling annotations.
const KNATIVE_DEFAULT_DELIVERY: Omit<DeliverySpec, 'deadLetterSink'> = {
  retry: 10,
  backoffPolicy: 'exponential',
  backoffDelayMs: 300,
  timeoutMs: 600_000,
};
const ANNOTATION = 'autoscaling.eventing.knative.dev/';

function refOf(value: unknown, where: string): SinkRef {
  const v = value as { ref?: { kind?: string; name?: string }; uri?: string } | undefined;
  if (v?.ref?.name && v.ref.kind) return { kind: v.ref.kind, name: v.ref.name, ...(v.uri ? { uri: v.uri } : {}) };
  if (v?.uri) return { kind: 'URI', name: v.uri, uri: v.uri };
  throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: a sink needs ref.kind and ref.name, or uri`);
}

function deliveryOf(spec: Record<string, unknown> | undefined, where: string): DeliverySpec {
  if (spec === undefined) return { ...KNATIVE_DEFAULT_DELIVERY, deadLetterSink: undefined };
  const retry = spec.retry === undefined ? 0 : Number(spec.retry);
  const policy = (spec.backoffPolicy as string | undefined) ?? 'exponential';
  if (policy !== 'linear' && policy !== 'exponential')
    throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: backoffPolicy must be linear or exponential`);
  return {
    retry,
    backoffPolicy: policy,
    backoffDelayMs: spec.backoffDelay === undefined ? 200 : parseIsoDuration(String(spec.backoffDelay)),
    timeoutMs: spec.timeout === undefined ? KNATIVE_DEFAULT_DELIVERY.timeoutMs : parseIsoDuration(String(spec.timeout)),
    deadLetterSink:
      spec.deadLetterSink === undefined ? undefined : refOf(spec.deadLetterSink, `${where}.deadLetterSink`),
  };
}

function autoscalingOf(annotations: Record<string, string>): AutoscalingSpec {
  const num = (key: string, fallback: number): number => {
    const raw = annotations[ANNOTATION + key];
    return raw === undefined ? fallback : Number(raw);
  };
  return {
    className: annotations[`${ANNOTATION}class`] ?? 'keda.autoscaling.knative.dev',
    minScale: num('min-scale', 0),
    maxScale: num('max-scale', 50),
    lagThreshold: num('lag-threshold', 100),
    activationLagThreshold: num('activation-lag-threshold', 0),
    pollingIntervalS: num('polling-interval', 10),
    cooldownPeriodS: num('cooldown-period', 30),
  };
}

/**
 * Backoff before retry `n` (1-based), as the Knative dispatcher computes it: linear delay × n,
 * exponential delay × 2^n. Without jitter, so a record's retries take locally the time the
 * manifest gives them on the cluster.
 */
export function backoffMs(delivery: DeliverySpec, n: number): number {
  const linear = delivery.backoffPolicy === 'linear';
  return backoffDelay(
    {
      baseMs: linear ? delivery.backoffDelayMs : 2 * delivery.backoffDelayMs,
      growth: linear ? 'linear' : 'exponential',
      jitter: 0,
    },
    n,
  );
}

function yamlDocuments(dir: string): Array<{ file: string; doc: Record<string, unknown> }> {
  if (!existsSync(dir)) return [];
  const out: Array<{ file: string; doc: Record<string, unknown> }> = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (document.errors.length > 0)
        throw new StreamForgeError('SF_CONFIG_INVALID', `${file}: ${document.errors[0]?.message}`);
      const doc = document.toJS() as Record<string, unknown> | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

export function loadKafkaSources(dir: string): KafkaSourceSpec[] {
  return yamlDocuments(dir)
    .filter(({ doc }) => doc.kind === 'KafkaSource')
    .map(({ file, doc }) => {
      const metadata = doc.metadata as { name: string; annotations?: Record<string, string> };
      const spec = doc.spec as Record<string, unknown>;
      const where = `${file} KafkaSource ${metadata.name}`;
      if (!Array.isArray(spec.topics) || spec.topics.length === 0)
        throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: spec.topics is required`);
      const initialOffset = (spec.initialOffset as string | undefined) ?? 'latest';
      const ordering = (spec.ordering as string | undefined) ?? 'ordered';
      if (initialOffset !== 'earliest' && initialOffset !== 'latest')
        throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: initialOffset must be earliest or latest`);
      if (ordering !== 'ordered' && ordering !== 'unordered')
        throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: ordering must be ordered or unordered`);
      return {
        name: metadata.name,
        file,
        topics: spec.topics as string[],
        // The reconciler's default is a random group; the project's manifests always name one.
        consumerGroup: (spec.consumerGroup as string | undefined) ?? `knative-kafka-source-${metadata.name}`,
        initialOffset,
        ordering,
        delivery: deliveryOf(spec.delivery as Record<string, unknown> | undefined, where),
        sink: refOf(spec.sink, `${where}.sink`),
        autoscaling: autoscalingOf(metadata.annotations ?? {}),
      };
    });
}

export function loadKafkaSinks(dir: string): KafkaSinkSpec[] {
  return yamlDocuments(dir)
    .filter(({ doc }) => doc.kind === 'KafkaSink')
    .map(({ doc }) => {
      const metadata = doc.metadata as { name: string };
      const spec = doc.spec as { topic: string; contentMode?: 'binary' | 'structured' };
      return { name: metadata.name, topic: spec.topic, contentMode: spec.contentMode ?? 'binary' };
    });
}

export function loadFuncYaml(functionDir: string): FuncYaml {
  const path = join(functionDir, 'func.yaml');
  if (!existsSync(path)) throw new StreamForgeError('SF_CONFIG_INVALID', `${path} is missing`);
  return parseYaml(readFileSync(path, 'utf8')) as FuncYaml;
}

export interface ApiServerSourceSpec {
  name: string;
  namespace: string;
  mode: string;
  /** The watched kinds, each with its label selector as a query (`key=value,…`). */
  resources: Array<{ apiVersion: string; kind: string; labelSelector: string }>;
  sink: SinkRef;
}

/** The ApiServerSources among the manifests of `dir` (knative/job-events.yaml): what the local Job events follow. */
export function loadApiServerSources(dir: string): ApiServerSourceSpec[] {
  return yamlDocuments(dir)
    .filter(({ doc }) => doc.kind === 'ApiServerSource')
    .map(({ file, doc }) => {
      const metadata = doc.metadata as { name: string; namespace?: string };
      const spec = doc.spec as { mode?: string; resources?: Array<Record<string, unknown>>; sink?: unknown };
      const where = `${file} ApiServerSource ${metadata.name}`;
      const resources = (spec.resources ?? []).map((r) => {
        const selector = r.selector as
          | { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }
          | undefined;
        if (selector?.matchExpressions?.length)
          throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: the local platform reads matchLabels only`);
        return {
          apiVersion: String(r.apiVersion),
          kind: String(r.kind),
          labelSelector: Object.entries(selector?.matchLabels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        };
      });
      return {
        name: metadata.name,
        namespace: metadata.namespace ?? 'default',
        // The ApiServerSource's default mode is Reference (a reference, not the object).
        mode: spec.mode ?? 'Reference',
        resources,
        sink: refOf(spec.sink, `${where}.sink`),
      };
    });
}

export interface PingSourceSpec {
  name: string;
  namespace: string;
  /** The cron schedule as written; Knative's default is every minute. */
  schedule: string;
  timezone?: string;
  contentType?: string;
  /** The body of every event, as written (`dataBase64` decoded). */
  data?: string;
  sink: SinkRef;
}

/** The PingSources among the manifests of `dir` (knative/deadline-ping.yaml): what the local ping timers follow. */
export function loadPingSources(dir: string): PingSourceSpec[] {
  return yamlDocuments(dir)
    .filter(({ doc }) => doc.kind === 'PingSource')
    .map(({ file, doc }) => {
      const metadata = doc.metadata as { name: string; namespace?: string };
      const spec = (doc.spec ?? {}) as Record<string, unknown>;
      const where = `${file} PingSource ${metadata.name}`;
      const text = (key: string): string | undefined =>
        typeof spec[key] === 'string' && spec[key] !== '' ? (spec[key] as string) : undefined;
      const base64 = text('dataBase64');
      const data = base64 === undefined ? text('data') : Buffer.from(base64, 'base64').toString('utf8');
      const timezone = text('timezone');
      const contentType = text('contentType');
      return {
        name: metadata.name,
        namespace: metadata.namespace ?? 'default',
        schedule: text('schedule') ?? '* * * * *',
        ...(timezone === undefined ? {} : { timezone }),
        ...(contentType === undefined ? {} : { contentType }),
        ...(data === undefined ? {} : { data }),
        sink: refOf(spec.sink, `${where}.sink`),
      };
    });
}
