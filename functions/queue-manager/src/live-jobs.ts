/**
 * Live workflows (`ws_*`) run as loader-ws Jobs (DESIGN.md §2 step 4): the manager starts
 * the Job when it starts the workflow, deletes it when the workflow is stopped, and marks
 * the workflow `error` with the reason when the Job dies on its own. The launcher is chosen
 * by JOB_LAUNCHER: Kubernetes Jobs in a cluster, local processes on one machine.
 */
import { declareEnv, env } from '@streamforge/shared/config';
import { parseWorkflowType } from '@streamforge/shared/contracts';
import { StreamForgeError } from '@streamforge/shared/errors';
import { LocalJobLauncher, createKubernetesJobLauncher, stateDir, type JobEnded, type JobLauncher } from '@streamforge/shared/platform';
import { jobSpecOf } from '@streamforge/shared/requests';
import type { WorkflowRecord } from '@streamforge/shared/store';
import type { Logger } from '@streamforge/shared/telemetry';

declareEnv({
  JOB_LAUNCHER: { default: 'local', description: 'How loader-ws Jobs run: local (processes of the local platform) or kubernetes (batch/v1 Jobs through the API server).' },
  JOB_NAMESPACE: { default: 'streamforge', description: 'Namespace of the loader-ws Jobs (the manager\'s Role is in it).' },
  LOADER_WS_IMAGE: { default: '', description: 'Image of the loader-ws Jobs; empty: the one in knative/loader-ws-job.yaml.' },
});

export async function createJobLauncher(logger: Logger, source: NodeJS.ProcessEnv = process.env): Promise<JobLauncher> {
  const kind = env('JOB_LAUNCHER', source);
  if (kind === 'kubernetes') {
    const image = env('LOADER_WS_IMAGE', source);
    return await createKubernetesJobLauncher({ namespace: env('JOB_NAMESPACE', source), logger, ...(image === '' ? {} : { image }) });
  }
  if (kind === 'local') return new LocalJobLauncher({ stateDir: stateDir(source), env: source, logger });
  throw new StreamForgeError('SF_CONFIG_INVALID', `environment variable JOB_LAUNCHER must be local or kubernetes, got "${kind}"`);
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

export function createLiveJobs(deps: { launcher: JobLauncher; logger: Logger; failWorkflow(queueId: string, reason: string): Promise<unknown> }): LiveJobs {
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
        throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `workflow ${workflow.queue_id} is registered but ${reason}; it is marked error`, { cause: error });
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
        deps.failWorkflow(ended.queueId, reason).catch((error: unknown) => logger.error({ err: error, queue_id: ended.queueId }, 'could not mark the workflow failed'));
      });
    },
    close: () => launcher.close(),
  };
}
