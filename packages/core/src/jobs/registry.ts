/**
 * Job launchers by kind (JOB_LAUNCHER). queue-manager brings the Kubernetes one; the local
 * platform registers its process launcher in the function processes it starts, so no
 * function's code imports the local platform.
 */
import { StreamForgeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { JobLauncher } from './job-launcher.ts';

export interface JobLauncherContext {
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export type JobLauncherFactory = (context: JobLauncherContext) => JobLauncher | Promise<JobLauncher>;

const factories = new Map<string, JobLauncherFactory>();

export function registerJobLauncher(kind: string, factory: JobLauncherFactory): void {
  factories.set(kind, factory);
}

export async function createJobLauncher(kind: string, context: JobLauncherContext): Promise<JobLauncher> {
  const factory = factories.get(kind);
  if (factory === undefined) {
    const known = [...factories.keys()].join(', ') || 'none';
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `JOB_LAUNCHER is "${kind}", but this process has no such Job launcher (registered: ${known}); "local" exists only in processes the local platform starts`,
    );
  }
  return await factory(context);
}
