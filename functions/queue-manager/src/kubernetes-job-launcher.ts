/**
 * loader-ws Jobs in a cluster, through @kubernetes/client-node's BatchV1Api: a batch/v1 Job
 * rendered from knative/loader-ws-job.yaml (queue-id label, workflow environment,
 * resources, backoffLimit, ttlSecondsAfterFinished, the loader-ws service account), deleted
 * on stop with propagationPolicy Background (the garbage collector removes its pods, which
 * get SIGTERM and flush). How a Job ends is not followed here: an ApiServerSource
 * (knative/job-events.yaml) sends the Job's changes to the manager as CloudEvents, so no
 * instance has to hold a watch. The manager's Role allows exactly create/get/list/watch/delete
 * on jobs in its namespace (knative/rbac.yaml).
 */
import { ApiException, BatchV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Logger } from '@streamforge/core/telemetry';
import {
  APP_LABEL,
  JOB_TEMPLATE,
  jobNameOf,
  jobStatusOf,
  loadJobTemplate,
  renderJob,
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
}

const statusOf = (job: V1Job): JobStatus => jobStatusOf(job);

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
    try {
      await this.#api.deleteNamespacedJob({
        name,
        namespace: this.#options.namespace,
        propagationPolicy: 'Background',
      });
      this.#options.logger.info({ queue_id: queueId, job: name }, 'Job deleted');
      return true;
    } catch (error) {
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

  async close(): Promise<void> {
    // Nothing held open: every call is one request.
  }
}
