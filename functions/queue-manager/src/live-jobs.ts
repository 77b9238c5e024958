/**
 * Live workflows (`ws_*`) run as loader-ws Jobs: the manager starts
 * the Job when it starts the workflow, deletes it when the workflow is stopped, and marks
 * the workflow `error` with the reason when the Job dies on its own. The launcher is chosen
 * by JOB_LAUNCHER: Kubernetes Jobs in a cluster, local processes on one machine. How a Job
 * ends arrives as an event (an ApiServerSource's, or the local platform's), whichever
 * instance takes it, started for it if none runs.
 */
import { declareEnv, env } from '@streamforge/core/config';
import { parseWorkflowType } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import {
  APP_LABEL,
  createJobLauncher,
  JOB_EVENT_TYPES,
  jobStatusOf,
  registerJobLauncher,
  type JobEventType,
  type JobLauncher,
  type JobObject,
} from '@streamforge/core/jobs';
import { jobSpecOf } from '@streamforge/core/requests';
import type { WorkflowRecord } from '@streamforge/core/store';
import type { Logger } from '@streamforge/core/telemetry';

declareEnv({
  JOB_LAUNCHER: {
    default: 'kubernetes',
    description:
      'How loader-ws Jobs run: kubernetes (batch/v1 Jobs through the API server) or local (processes of the local platform, which sets it).',
  },
  JOB_NAMESPACE: {
    default: 'streamforge',
    description: "Namespace of the loader-ws Jobs (the manager's Role is in it).",
  },
  LOADER_WS_IMAGE: {
    default: '',
    description: 'Image of the loader-ws Jobs; empty: the one in knative/loader-ws-job.yaml.',
  },
  KUBECONFIG: {
    default: '',
    description: "A kubeconfig file for the kubernetes launcher; empty: the pod's service account.",
  },
});

// @kubernetes/client-node takes most of a second to load, and only a cluster needs it.
registerJobLauncher('kubernetes', async ({ env: source, logger }) => {
  const { KubernetesJobLauncher } = await import('./kubernetes-job-launcher.ts');
  const image = env('LOADER_WS_IMAGE', source);
  const kubeconfig = env('KUBECONFIG', source);
  return new KubernetesJobLauncher({
    kubeConfig: KubernetesJobLauncher.configFrom(kubeconfig === '' ? undefined : kubeconfig),
    namespace: env('JOB_NAMESPACE', source),
    logger,
    ...(image === '' ? {} : { image }),
  });
});

/** The launcher JOB_LAUNCHER names: `kubernetes` here, `local` where the local platform registered it. */
export async function jobLauncherFromEnv(
  logger: Logger,
  source: NodeJS.ProcessEnv = process.env,
): Promise<JobLauncher> {
  return await createJobLauncher(env('JOB_LAUNCHER', source), { env: source, logger });
}

export function isLive(workflow: Pick<WorkflowRecord, 'type'>): boolean {
  try {
    return parseWorkflowType(workflow.type).source === 'ws';
  } catch {
    return false;
  }
}

/** A loader-ws Job that died: the workflow it ran and why, in the words the workflow's error keeps. */
export interface DeadJob {
  queueId: string;
  name: string;
  reason: string;
}

/**
 * What one Job event means for its workflow: a Job with a true `Failed` condition failed
 * (whatever the event, a delete included); a Job deleted while it still ran was deleted under
 * its workflow; anything else (added, running, completed after the stop it heard) changes
 * nothing. Whether the workflow still runs is the manager's to check: a Job it deleted
 * itself belongs to a workflow already stopped or failed, which no change touches.
 */
export function deadJobOf(type: JobEventType, job: JobObject): DeadJob | undefined {
  if (job.metadata?.labels?.[APP_LABEL] !== 'loader-ws') return undefined;
  const status = jobStatusOf(job);
  if (status.queueId === '' || status.name === '') return undefined;
  const { queueId, name } = status;
  if (status.state === 'failed') return { queueId, name, reason: `loader-ws Job ${name} failed: ${status.reason}` };
  if (type === JOB_EVENT_TYPES.delete && status.state === 'running')
    return { queueId, name, reason: `loader-ws Job ${name} was deleted: Job ${name} was deleted while it ran` };
  return undefined;
}

export interface LiveJobs {
  onStarted(workflow: WorkflowRecord): Promise<void>;
  onStopped(workflow: WorkflowRecord): Promise<void>;
  /** One Job event: a Job that failed, or was deleted while it ran, fails its workflow if it still runs. */
  onJobEvent(type: JobEventType, data: unknown): Promise<DeadJob | undefined>;
  close(): Promise<void>;
}

export function createLiveJobs(deps: {
  launcher: JobLauncher;
  logger: Logger;
  failWorkflow(queueId: string, reason: string): Promise<unknown>;
}): LiveJobs {
  const { launcher, logger } = deps;
  return {
    async onStarted(workflow) {
      if (!isLive(workflow)) return;
      try {
        const job = await launcher.launch(jobSpecOf(workflow));
        logger.info({ queue_id: workflow.queue_id, job: job.name, launcher: launcher.kind }, 'loader-ws Job started');
      } catch (error) {
        const reason = `loader-ws Job could not be started: ${(error as Error).message}`;
        await deps.failWorkflow(workflow.queue_id, reason);
        throw new StreamForgeError(
          'SF_DEPENDENCY_UNAVAILABLE',
          `workflow ${workflow.queue_id} is registered but ${reason}; it is marked error`,
          { cause: error },
        );
      }
    },
    async onStopped(workflow) {
      if (!isLive(workflow)) return;
      // The Job also hears the stop on queue-control.loader-ws; deleting it makes sure it ends even if not.
      const stopped = await launcher.stop(workflow.queue_id);
      logger.info({ queue_id: workflow.queue_id, job_found: stopped }, 'loader-ws Job stopped');
    },
    async onJobEvent(type, data) {
      if (typeof data !== 'object' || data === null || Array.isArray(data))
        throw new StreamForgeError('SF_EVENT_MALFORMED', `${type}: the data is not a Job object`);
      const dead = deadJobOf(type, data as JobObject);
      if (!dead) return undefined;
      // Logged for every such event (a failed Job is updated and deleted later too); the workflow changes once.
      logger.error({ queue_id: dead.queueId, job: dead.name, reason: dead.reason, event: type }, 'loader-ws Job died');
      await deps.failWorkflow(dead.queueId, dead.reason);
      return dead;
    },
    close: () => launcher.close(),
  };
}
