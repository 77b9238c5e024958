/**
 * The ApiServerSource's events for local Jobs: the Job files of the stack's `jobs/` folder
 * (local-job-launcher.ts) read as the API server's Job objects, and each change sent as the
 * add, update or delete event a cluster's ApiServerSource sends for a batch/v1 Job. A Job
 * file holds the process's end (exit code 0: Complete; a FailJob exit code or backoffLimit
 * runs that failed: Failed, with the reason the Job controller would give), so a Job that
 * ends while no manager instance runs still reaches the manager.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  JOB_EVENT_TYPES,
  JOB_TEMPLATE,
  jobNameOf,
  loadJobTemplate,
  renderJob,
  type JobCondition,
  type JobEventType,
  type JobManifest,
  type JobObject,
} from '@streamforge/core/jobs';
import type { Logger } from '@streamforge/core/telemetry';
import { jobEventOf, type DeliverJobEvent, type JobSource } from './api-server-source.ts';
import type { JobFile } from './local-job-launcher.ts';

/** A local Job as the API would serve it: the rendered template, an identity, and a status from the file. */
export function localJobObject(template: JobManifest, file: JobFile, namespace: string): JobObject {
  const job: JobObject = { ...renderJob(template, file.spec, { namespace }) };
  const at = file.ended_at ?? file.started_at;
  const condition = (type: string, reason: string, message: string): JobCondition => ({
    type,
    status: 'True',
    reason,
    message,
    lastProbeTime: at,
    lastTransitionTime: at,
  });
  // `Reason: message` as the file has it (the launcher writes the Job controller's reason first).
  const [reason = 'Failed', ...rest] = (file.reason ?? '').split(': ');
  const message = rest.join(': ') || (file.reason ?? '');
  job.metadata = {
    ...job.metadata,
    uid: createHash('sha256')
      .update(`${jobNameOf(file.spec.queue_id)}:${file.started_at}`)
      .digest('hex')
      .slice(0, 32),
    creationTimestamp: file.started_at,
  };
  job.status =
    file.state === 'failed'
      ? {
          startTime: file.started_at,
          active: 0,
          failed: (file.failures ?? 0) || 1,
          conditions: [condition('FailureTarget', reason, message), condition('Failed', reason, message)],
        }
      : file.state === 'succeeded'
        ? {
            startTime: file.started_at,
            completionTime: at,
            active: 0,
            succeeded: 1,
            conditions: [
              condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
              condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
            ],
          }
        : { startTime: file.started_at, active: 1, ...(file.failures ? { failed: file.failures } : {}) };
  return job;
}

export interface LocalJobSourceOptions {
  stateDir: string;
  namespace: string;
  /** The events' `source` (a cluster's API server URL; here the platform's). */
  source: string;
  deliver: DeliverJobEvent;
  logger: Logger;
  templatePath?: string;
  /** How often the folder is read. Default 250 ms. */
  pollMs?: number;
}

/** Reads `jobs/` every pollMs and sends what changed since the last read; the first read sends nothing. */
export function startLocalJobSource(options: LocalJobSourceOptions): JobSource {
  const template = loadJobTemplate(options.templatePath ?? JOB_TEMPLATE);
  const dir = join(options.stateDir, 'jobs');
  /** File name → what it said (its text: a change of pid, run count or end is a change of the Job). */
  let known = new Map<string, { text: string; file: JobFile }>();
  const read = (): Map<string, { text: string; file: JobFile }> => {
    const now = new Map<string, { text: string; file: JobFile }>();
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch {
      return now;
    }
    for (const name of names) {
      try {
        const text = readFileSync(join(dir, name), 'utf8');
        now.set(name, { text, file: JSON.parse(text) as JobFile });
      } catch {
        // being written (the next read sees it whole) or just removed: as before
        const before = known.get(name);
        if (before) now.set(name, before);
      }
    }
    return now;
  };
  const send = (type: JobEventType, file: JobFile): void => {
    const job = localJobObject(template, file, options.namespace);
    options
      .deliver(jobEventOf(type, options.source, job))
      .catch((error: unknown) => options.logger.error({ err: error, job: job.metadata?.name }, 'Job event failed'));
  };
  known = read();
  const timer = setInterval(() => {
    const now = read();
    for (const [name, entry] of now) {
      const before = known.get(name);
      if (before === undefined) send(JOB_EVENT_TYPES.add, entry.file);
      else if (before.text !== entry.text) send(JOB_EVENT_TYPES.update, entry.file);
    }
    for (const [name, entry] of known) if (!now.has(name)) send(JOB_EVENT_TYPES.delete, entry.file);
    known = now;
  }, options.pollMs ?? 250);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
    },
  };
}
