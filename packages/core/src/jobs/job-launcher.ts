/**
 * Launching loader-ws Jobs: one per live workflow, started and stopped by queue-manager.
 * In a cluster a batch/v1 Job made from knative/loader-ws-job.yaml; on one machine a
 * process running the same program with the same environment. Both implement JobLauncher,
 * and both render the Job from the same template, so what a local run tests is what a
 * cluster runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The Job template, at the project root in the repository and at the same place in an image. */
export const JOB_TEMPLATE = fileURLToPath(new URL('../../../../knative/loader-ws-job.yaml', import.meta.url));
export const APP_LABEL = 'app.kubernetes.io/name';
export const QUEUE_ID_LABEL = 'streamforge.dev/queue-id';
/** The full queue id (a label value holds at most 63 characters, a queue id up to 200). */
export const QUEUE_ID_ANNOTATION = 'streamforge.dev/queue-id';

import { jobEnvOf, type LiveJobSpec } from '../requests/live-job.ts';

export type JobState = 'running' | 'succeeded' | 'failed';

export interface JobStatus {
  name: string;
  queueId: string;
  state: JobState;
  reason?: string;
}

/** A Job that ended without the launcher stopping it (the local launcher's report to the platform's Job events). */
export interface JobEnded {
  queueId: string;
  name: string;
  outcome: 'succeeded' | 'failed' | 'deleted';
  reason: string;
}

/**
 * Creates and deletes Jobs; how they end reaches the manager as Job events (below), not
 * through the launcher, so no manager instance has to stay up to follow them.
 */
export interface JobLauncher {
  readonly kind: 'local' | 'kubernetes';
  /** Starts the Job of a workflow; a Job that already exists for it is kept and returned. */
  launch(spec: LiveJobSpec): Promise<JobStatus>;
  /** Stops and removes the Job; false when there was none. */
  stop(queueId: string): Promise<boolean>;
  get(queueId: string): Promise<JobStatus | undefined>;
  list(): Promise<JobStatus[]>;
  close(): Promise<void>;
}

/**
 * The CloudEvents a Knative ApiServerSource in Resource mode sends for the Jobs it watches:
 * one type per add, update and delete, `source` the API server's URL, `subject`
 * `/apis/batch/v1/namespaces/<ns>/jobs/<name>`, and the whole Job object as JSON data. The
 * local platform sends the same for its Jobs.
 */
export const JOB_EVENT_TYPES = {
  add: 'dev.knative.apiserver.resource.add',
  update: 'dev.knative.apiserver.resource.update',
  delete: 'dev.knative.apiserver.resource.delete',
} as const;

export type JobEventType = (typeof JOB_EVENT_TYPES)[keyof typeof JOB_EVENT_TYPES];

export function isJobEventType(type: string): type is JobEventType {
  return Object.values(JOB_EVENT_TYPES).includes(type as JobEventType);
}

/** The subject of a Job's events: the path of the Job in the API. */
export function jobSubjectOf(namespace: string, name: string): string {
  return `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`;
}

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string;
}

/** A Job as the API serves it: what this code reads of its metadata and status. */
export interface JobObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  status?: {
    conditions?: JobCondition[];
    active?: number;
    failed?: number;
    succeeded?: number;
    startTime?: string;
    completionTime?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** What a Job's conditions say: failed (with `Reason: message`), succeeded, or still running. */
export function jobStatusOf(job: {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { conditions?: Array<Pick<JobCondition, 'type' | 'status' | 'reason' | 'message'>> };
}): JobStatus {
  const name = job.metadata?.name ?? '';
  const queueId = job.metadata?.annotations?.[QUEUE_ID_ANNOTATION] ?? '';
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed)
    return {
      name,
      queueId,
      state: 'failed',
      reason: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the Job failed'}`,
    };
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  if (complete) return { name, queueId, state: 'succeeded', reason: complete.reason ?? 'Completed' };
  return { name, queueId, state: 'running' };
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A DNS-1123 name of at most 63 characters (also the pods' job-name label), unique per queue id. */
export function jobNameOf(queueId: string): string {
  const base = `loader-ws-${queueId.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.replace(/-+$/, '');
  if (base.length <= 63 && base === `loader-ws-${queueId}`) return base;
  // Sanitising can make two queue ids alike (`a_b`, `a.b`): a hash of the original keeps them apart.
  return `${base.slice(0, 54).replace(/-+$/, '')}-${shortHash(queueId)}`;
}

/** A label value (at most 63 characters, alphanumeric at both ends) that identifies the queue id. */
export function queueIdLabelOf(queueId: string): string {
  if (queueId.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(queueId)) return queueId;
  return `${queueId.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${shortHash(queueId)}`;
}

/** The parts of a batch/v1 Job this code reads and writes (the template may hold more). */
export interface JobManifest {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec: {
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
    podFailurePolicy?: {
      rules: Array<{
        action: string;
        onExitCodes?: { containerName?: string; operator: string; values: number[] };
        [k: string]: unknown;
      }>;
    };
    template: {
      metadata?: { labels?: Record<string, string>; [k: string]: unknown };
      spec: {
        serviceAccountName?: string;
        restartPolicy?: string;
        containers: Array<{
          name: string;
          image?: string;
          command?: string[];
          args?: string[];
          env?: EnvVar[];
          [k: string]: unknown;
        }>;
        [k: string]: unknown;
      };
    };
    [k: string]: unknown;
  };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export function loadJobTemplate(path: string = JOB_TEMPLATE): JobManifest {
  const doc = parse(readFileSync(path, 'utf8')) as JobManifest;
  if (
    doc?.apiVersion !== 'batch/v1' ||
    doc.kind !== 'Job' ||
    !Array.isArray(doc.spec?.template?.spec?.containers) ||
    doc.spec.template.spec.containers.length !== 1
  ) {
    throw new Error(`${path}: expected a batch/v1 Job with one container`);
  }
  return doc;
}

export interface RenderOptions {
  namespace?: string;
  /** Overrides the template's image (LOADER_WS_IMAGE). */
  image?: string;
}

/** The Job of one workflow: the template plus name, queue-id labels and the workflow's environment. */
export function renderJob(template: JobManifest, spec: LiveJobSpec, options: RenderOptions = {}): JobManifest {
  const job = structuredClone(template);
  const name = jobNameOf(spec.queue_id);
  const labels = { [QUEUE_ID_LABEL]: queueIdLabelOf(spec.queue_id) };
  job.metadata = {
    ...job.metadata,
    name,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    labels: { ...job.metadata.labels, ...labels },
    annotations: { ...job.metadata.annotations, [QUEUE_ID_ANNOTATION]: spec.queue_id },
  };
  job.spec.template.metadata = {
    ...job.spec.template.metadata,
    labels: { ...job.spec.template.metadata?.labels, ...labels },
  };
  const container = job.spec.template.spec.containers[0]!;
  if (options.image) container.image = options.image;
  const own = jobEnvOf(spec);
  container.env = [
    ...(container.env ?? []).filter((e) => !(e.name in own)),
    ...Object.entries(own).map(([n, value]) => ({ name: n, value })),
  ];
  return job;
}

/** Exit codes the template's podFailurePolicy turns into an immediate Job failure (FailJob). */
export function failJobExitCodes(job: JobManifest): number[] {
  return (job.spec.podFailurePolicy?.rules ?? [])
    .filter((r) => r.action === 'FailJob' && r.onExitCodes?.operator === 'In')
    .flatMap((r) => r.onExitCodes!.values);
}
