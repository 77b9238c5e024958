/**
 * loader-ws Jobs in a cluster, through @kubernetes/client-node's BatchV1Api: a batch/v1 Job
 * rendered from knative/loader-ws-job.yaml (queue-id label, workflow environment,
 * resources, backoffLimit, ttlSecondsAfterFinished, the loader-ws service account), deleted
 * on stop with propagationPolicy Background (the garbage collector removes its pods, which
 * get SIGTERM and flush), and followed with a watch on the Jobs carrying the loader-ws label:
 * a Job whose Failed condition turns True, or that disappears without the manager deleting
 * it, is reported so the manager fails its workflow. The manager's Role allows exactly
 * create/get/list/watch/delete on jobs in its namespace (knative/rbac.yaml).
 */
import { ApiException, BatchV1Api, KubeConfig, Watch, type V1Job } from '@kubernetes/client-node';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Logger } from '@streamforge/core/telemetry';
import {
  APP_LABEL,
  JOB_TEMPLATE,
  QUEUE_ID_ANNOTATION,
  jobNameOf,
  loadJobTemplate,
  renderJob,
  type JobEnded,
  type JobLauncher,
  type JobManifest,
  type JobStatus,
} from '@streamforge/core/jobs';
import type { LiveJobSpec } from '@streamforge/core/requests';

export interface KubernetesJobLauncherOptions {
  /** Default: the in-cluster service account (configFrom). */
  kubeConfig?: KubeConfig;
  namespace: string;
  templatePath?: string;
  /** Replaces the template's image. */
  image?: string;
  logger: Logger;
  /** Pause before a watch that ended is opened again. Default 1 s. */
  watchRetryMs?: number;
}

function statusOf(job: V1Job): JobStatus {
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

function apiError(action: string, error: unknown): StreamForgeError {
  const body =
    error instanceof ApiException
      ? typeof error.body === 'string'
        ? error.body
        : JSON.stringify(error.body)
      : (error as Error).message;
  let message = body;
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    // not a Status object
  }
  return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `Kubernetes API: ${action}: ${message}`, {
    cause: error,
    details: error instanceof ApiException ? { status: error.code } : {},
  });
}

const codeOf = (error: unknown): number | undefined => (error instanceof ApiException ? error.code : undefined);

export class KubernetesJobLauncher implements JobLauncher {
  readonly kind = 'kubernetes' as const;
  readonly #options: KubernetesJobLauncherOptions;
  readonly #config: KubeConfig;
  readonly #api: BatchV1Api;
  readonly #template: JobManifest;
  /** Jobs this launcher deleted: their disappearance is not a failure. */
  readonly #stopping = new Set<string>();
  /** Job uids already reported, so a repeated watch event reports nothing twice. */
  readonly #reported = new Set<string>();
  #watch: AbortController | undefined;
  #closed = false;

  constructor(options: KubernetesJobLauncherOptions) {
    this.#options = options;
    this.#config = options.kubeConfig ?? KubernetesJobLauncher.configFrom();
    this.#api = this.#config.makeApiClient(BatchV1Api);
    this.#template = loadJobTemplate(options.templatePath ?? JOB_TEMPLATE);
  }

  /** A kubeconfig file when given (as kubectl takes KUBECONFIG), else the pod's service account. */
  static configFrom(kubeconfigFile?: string): KubeConfig {
    const config = new KubeConfig();
    if (kubeconfigFile) config.loadFromFile(kubeconfigFile);
    else config.loadFromCluster();
    return config;
  }

  /** The Job this launcher would create for a workflow (also what the schema test validates). */
  render(spec: LiveJobSpec): JobManifest {
    return renderJob(this.#template, spec, {
      namespace: this.#options.namespace,
      ...(this.#options.image ? { image: this.#options.image } : {}),
    });
  }

  async launch(spec: LiveJobSpec): Promise<JobStatus> {
    const body = this.render(spec);
    try {
      const created = await this.#api.createNamespacedJob({ namespace: this.#options.namespace, body: body as V1Job });
      this.#options.logger.info({ queue_id: spec.queue_id, job: created.metadata?.name }, 'Job created');
      return statusOf(created);
    } catch (error) {
      // Created before (a retried start, a second manager instance): the existing Job is the Job.
      if (codeOf(error) === 409)
        return (
          (await this.get(spec.queue_id)) ?? {
            name: jobNameOf(spec.queue_id),
            queueId: spec.queue_id,
            state: 'running',
          }
        );
      throw apiError(`create Job ${body.metadata.name}`, error);
    }
  }

  async stop(queueId: string): Promise<boolean> {
    const name = jobNameOf(queueId);
    this.#stopping.add(name);
    try {
      await this.#api.deleteNamespacedJob({
        name,
        namespace: this.#options.namespace,
        propagationPolicy: 'Background',
      });
      this.#options.logger.info({ queue_id: queueId, job: name }, 'Job deleted');
      return true;
    } catch (error) {
      this.#stopping.delete(name);
      if (codeOf(error) === 404) return false;
      throw apiError(`delete Job ${name}`, error);
    }
  }

  async get(queueId: string): Promise<JobStatus | undefined> {
    const name = jobNameOf(queueId);
    try {
      return statusOf(await this.#api.readNamespacedJob({ name, namespace: this.#options.namespace }));
    } catch (error) {
      if (codeOf(error) === 404) return undefined;
      throw apiError(`read Job ${name}`, error);
    }
  }

  async list(): Promise<JobStatus[]> {
    try {
      const list = await this.#api.listNamespacedJob({
        namespace: this.#options.namespace,
        labelSelector: `${APP_LABEL}=loader-ws`,
      });
      return list.items.map(statusOf);
    } catch (error) {
      throw apiError('list Jobs', error);
    }
  }

  /**
   * List, then watch from the list's resourceVersion; when the watch ends (the API server
   * closes watches after a while) list and watch again. Jobs that failed while nobody
   * watched are reported by the list.
   */
  async watch(onEnded: (ended: JobEnded) => void): Promise<void> {
    const ns = this.#options.namespace;
    const labelSelector = `${APP_LABEL}=loader-ws`;
    const observe = (type: string, job: V1Job): void => {
      const name = job.metadata?.name ?? '';
      const uid = job.metadata?.uid ?? name;
      const status = statusOf(job);
      if (type === 'DELETED') {
        const expected = this.#stopping.delete(name);
        if (!expected && status.state === 'running' && !this.#reported.has(uid)) {
          this.#reported.add(uid);
          onEnded({
            queueId: status.queueId,
            name,
            outcome: 'deleted',
            reason: `Job ${name} was deleted while it ran`,
          });
        }
        return;
      }
      if (status.state === 'running' || this.#reported.has(uid) || this.#stopping.has(name)) return;
      this.#reported.add(uid);
      onEnded({ queueId: status.queueId, name, outcome: status.state, reason: status.reason ?? status.state });
    };
    const start = async (): Promise<void> => {
      if (this.#closed) return;
      try {
        const list = await this.#api.listNamespacedJob({ namespace: ns, labelSelector });
        for (const job of list.items) observe('ADDED', job);
        this.#watch = await new Watch(this.#config).watch(
          `/apis/batch/v1/namespaces/${ns}/jobs`,
          { labelSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
          (type, job: V1Job) => observe(type, job),
          (error: unknown) => {
            if (this.#closed) return;
            if (error) this.#options.logger.warn({ err: error }, 'Job watch ended; watching again');
            setTimeout(() => void start(), this.#options.watchRetryMs ?? 1000).unref();
          },
        );
        // close() may have run while the watch was being opened.
        if (this.#closed) this.#watch.abort();
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'cannot list Jobs; trying again');
        setTimeout(() => void start(), this.#options.watchRetryMs ?? 1000).unref();
      }
    };
    await start();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watch?.abort();
  }
}
