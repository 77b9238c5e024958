/**
 * The ApiServerSources of knative/ run on the local platform: each one's Job events go to
 * its sink's activator (scaling the function from zero like any event). Which Jobs they
 * follow depends on the manager's launcher: `kubernetes`, the Jobs of a real API server
 * (KUBECONFIG, JOB_NAMESPACE, as the manager reads them); `local`, the platform's own Job
 * processes, for which the platform also plays the Job controller for Jobs whose manager
 * instance is gone (it runs again, or fails, a Job that died meanwhile).
 */
import { join } from 'node:path';
import type { Logger } from '@streamforge/core/telemetry';
import { deliverTo, kubeAccessFrom, startKubernetesJobSource, type JobSource } from './api-server-source.ts';
import { startLocalJobSource } from './local-job-events.ts';
import { LocalJobLauncher } from './local-job-launcher.ts';
import { loadApiServerSources } from './manifests.ts';

export interface JobEventSourcesOptions {
  root: string;
  stateDir: string;
  /** The environment the functions get (JOB_LAUNCHER, KUBECONFIG, JOB_NAMESPACE, what a local Job needs). */
  env: NodeJS.ProcessEnv;
  /** A function's stable address (its activator). */
  sinkUrl(name: string): string | undefined;
  /** The events' source for local Jobs: the platform's URL. */
  source: string;
  logger: Logger;
  /** How often the local Job files are read. */
  pollMs?: number;
}

export async function startJobEventSources(options: JobEventSourcesOptions): Promise<JobSource> {
  const { env, logger } = options;
  const specs = loadApiServerSources(join(options.root, 'knative')).filter(
    (s) => s.mode === 'Resource' && s.resources.some((r) => r.apiVersion === 'batch/v1' && r.kind === 'Job'),
  );
  const started: JobSource[] = [];
  let controller: LocalJobLauncher | undefined;
  for (const spec of specs) {
    const url = spec.sink.uri ?? options.sinkUrl(spec.sink.name);
    if (url === undefined) throw new Error(`ApiServerSource ${spec.name}: no function ${spec.sink.name} to send to`);
    const deliver = deliverTo(url, { logger });
    const labelSelector = spec.resources.find((r) => r.kind === 'Job')?.labelSelector ?? '';
    if (env.JOB_LAUNCHER === 'kubernetes') {
      // In a cluster the source watches under its own account (spec.serviceAccountName), which
      // may watch Jobs where the manager's may not: JOB_EVENTS_KUBECONFIG holds that account's.
      const kubeconfig = env.JOB_EVENTS_KUBECONFIG || env.KUBECONFIG;
      if (!kubeconfig)
        throw new Error(
          `ApiServerSource ${spec.name}: JOB_LAUNCHER is kubernetes, so the Jobs are watched through JOB_EVENTS_KUBECONFIG (or KUBECONFIG), and neither is set`,
        );
      started.push(
        await startKubernetesJobSource({
          access: kubeAccessFrom(kubeconfig),
          // Where the manager creates its Jobs (its JOB_NAMESPACE default).
          namespace: env.JOB_NAMESPACE || 'streamforge',
          labelSelector,
          deliver,
          logger,
        }),
      );
    } else {
      controller ??= new LocalJobLauncher({ stateDir: options.stateDir, env, logger });
      started.push(
        startLocalJobSource({
          stateDir: options.stateDir,
          namespace: spec.namespace,
          source: options.source,
          deliver,
          logger,
          ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        }),
      );
    }
    logger.info({ source: spec.name, sink: url, launcher: env.JOB_LAUNCHER ?? 'local' }, 'ApiServerSource started');
  }
  return {
    async close() {
      await Promise.all(started.map((s) => s.close()));
      // Stops the Jobs only when the stack goes down (LocalJobLauncher.close).
      await controller?.close();
    },
  };
}
