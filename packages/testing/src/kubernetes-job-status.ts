/**
 * A Job's end written into its status as the Job controller writes it, for a test API server
 * where no controller runs: the server checks a status change as it checks the controller's
 * (a finished Job has a start time and no active pods; Failed follows FailureTarget, Complete
 * follows SuccessCriteriaMet), so the Job a test fails is a Job a cluster could hold.
 */
import { type KubeCluster, kubeCall } from './kubernetes-client.ts';

export interface JobCondition {
  type: 'Failed' | 'Complete';
  reason: string;
  message: string;
}

export async function setJobCondition(
  cluster: KubeCluster,
  namespace: string,
  name: string,
  condition: JobCondition,
): Promise<void> {
  const now = new Date();
  // The start a minute back: a completion time may not come before it.
  const started = new Date(now.getTime() - 60_000).toISOString();
  const at = now.toISOString();
  const entry = (type: string) => ({
    type,
    status: 'True',
    reason: condition.reason,
    message: condition.message,
    lastProbeTime: at,
    lastTransitionTime: at,
  });
  const status =
    condition.type === 'Failed'
      ? { startTime: started, active: 0, failed: 1, conditions: [entry('FailureTarget'), entry('Failed')] }
      : {
          startTime: started,
          completionTime: at,
          active: 0,
          succeeded: 1,
          conditions: [entry('SuccessCriteriaMet'), entry('Complete')],
        };
  await kubeCall(cluster, {
    method: 'PATCH',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}/status`,
    contentType: 'application/merge-patch+json',
    body: { status },
  });
}
