/**
 * Live workflows (`ws_*`) run as loader-ws Jobs: the manager starts
 * the Job when it starts the workflow, deletes it when the workflow is stopped, and marks
 * the workflow `error` with the reason when the Job dies on its own. The launcher is chosen
 * by JOB_LAUNCHER: Kubernetes Jobs in a cluster, local processes on one machine.
 */
import { declareEnv, env } from '@streamforge/core/config';
import { parseWorkflowType } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { createJobLauncher, registerJobLauncher, type JobEnded, type JobLauncher } from '@streamforge/core/jobs';
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

export interface LiveJobs {
  onStarted(workflow: WorkflowRecord): Promise<void>;
  onStopped(workflow: WorkflowRecord): Promise<void>;
  /** Follows the Jobs; a Job that fails or disappears fails its workflow. */
  watch(): Promise<void>;
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
    async watch() {
      await launcher.watch((ended: JobEnded) => {
        if (ended.outcome === 'succeeded') return; // it ended after a stop it heard on queue-control.loader-ws
        const reason = `loader-ws Job ${ended.name} ${ended.outcome === 'deleted' ? 'was deleted' : 'failed'}: ${ended.reason}`;
        logger.error({ queue_id: ended.queueId, job: ended.name, reason }, 'loader-ws Job died');
        deps
          .failWorkflow(ended.queueId, reason)
          .catch((error: unknown) =>
            logger.error({ err: error, queue_id: ended.queueId }, 'could not mark the workflow failed'),
          );
      });
    },
    close: () => launcher.close(),
  };
}
