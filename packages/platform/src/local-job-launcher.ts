/**
 * The local stand-in for Kubernetes Jobs: runs loader-ws (functions/loader-ws/src/job.ts) as
 * a process with the environment the Job template gives a pod, resolved against the local
 * platform's values, and a log file in the stack's logs folder. It keeps the Job semantics
 * the manager relies on: a failed run is retried up to the template's backoffLimit, an exit
 * code named by its FailJob rule fails the Job at once, and a Job that ends without being
 * stopped is reported.
 *
 * As Jobs in a cluster outlive the manager instance that created them, every running Job
 * has a file in the stack's `jobs/` folder (pid, the manager process that owns it, the
 * spec), and every launcher follows all of them: another manager instance (a scaled-out or
 * restarted one) can stop a Job it did not start, and reports it when it dies after its
 * owner is gone. Only when the stack itself goes down (`streamforge down`) does `close()`
 * stop the Jobs, so nothing outlives the stack.
 *
 * A file is the Job as the API would hold it: a finished Job keeps its file, with its end
 * (`state`, `reason`), until it is stopped (deleted) or its ttlSecondsAfterFinished passes.
 * The platform's Job events (local-job-events.ts) are read from these files, so how a Job
 * ends reaches the manager whether or not an instance of it runs.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@streamforge/core/telemetry';
import { backoffDelay } from '@streamforge/core/retry';
import {
  JOB_TEMPLATE,
  failJobExitCodes,
  jobNameOf,
  loadJobTemplate,
  type EnvVar,
  type JobEnded,
  type JobLauncher,
  type JobManifest,
  type JobStatus,
} from '@streamforge/core/jobs';
import { jobEnvOf, type LiveJobSpec } from '@streamforge/core/requests';
import { type Child, spawnChild, stopPid } from './child-process.ts';
import { PROJECT_ROOT } from './kafka-broker.ts';
import { isAlive, readStackState } from './stack-state.ts';

/** The entry of the loader-ws program (`node …/job.ts` locally; the image runs its bundle). */
export const LOADER_WS_ENTRY = join(PROJECT_ROOT, 'functions', 'loader-ws', 'src', 'job.ts');

export interface LocalJobLauncherOptions {
  /** The stack's state folder: Job logs go to `logs/`, Job files to `jobs/`. */
  stateDir: string;
  /** The local platform's environment: the base of every Job's environment and what template references resolve to. */
  env: NodeJS.ProcessEnv;
  templatePath?: string;
  /** The program a Job runs; default functions/loader-ws/src/job.ts. */
  entry?: string;
  /** Delay before the n-th retry: base × 2^(n-1) with jitter, as Kubernetes' pod backoff (10 s there, shorter here). Default 1 s. */
  backoffBaseMs?: number;
  /** How often Jobs started by other launchers are looked at. Default 500 ms. */
  pollMs?: number;
  logger: Logger;
}

/** What a Job's file in `jobs/` says. */
export interface JobFile {
  pid: number;
  /** The manager process that runs it now and handles its retries. */
  owner: number;
  spec: LiveJobSpec;
  started_at: string;
  /** Failed runs so far: the count goes on when another instance adopts the Job. */
  failures?: number;
  /** Set once the Job has ended: its outcome, why, and when (ISO 8601). */
  state?: 'succeeded' | 'failed';
  reason?: string;
  ended_at?: string;
}

interface LocalJob {
  name: string;
  spec: LiveJobSpec;
  /** Our own process (we started it); otherwise the Job is followed by its file's pid. */
  child?: Child;
  startedAt?: string;
  pid?: number;
  failures: number;
  state: 'running' | 'succeeded' | 'failed';
  reason?: string;
  stopping: boolean;
  exited: Promise<void>;
}

export class LocalJobLauncher implements JobLauncher {
  readonly kind = 'local' as const;
  readonly #options: LocalJobLauncherOptions;
  readonly #template: JobManifest;
  readonly #jobs = new Map<string, LocalJob>();
  readonly #logsDir: string;
  readonly #jobsDir: string;
  /** Jobs found dead with their owner gone before anyone watched: reported when watching starts. */
  readonly #orphans: JobEnded[] = [];
  #onEnded: ((ended: JobEnded) => void) | undefined;
  #poll: NodeJS.Timeout;

  constructor(options: LocalJobLauncherOptions) {
    this.#options = options;
    this.#template = loadJobTemplate(options.templatePath ?? JOB_TEMPLATE);
    this.#logsDir = join(options.stateDir, 'logs');
    this.#jobsDir = join(options.stateDir, 'jobs');
    mkdirSync(this.#logsDir, { recursive: true });
    mkdirSync(this.#jobsDir, { recursive: true });
    this.#follow();
    this.#poll = setInterval(() => this.#follow(), options.pollMs ?? 500);
    this.#poll.unref();
  }

  async launch(spec: LiveJobSpec): Promise<JobStatus> {
    const existing = this.#jobs.get(spec.queue_id);
    if (existing && existing.state === 'running') return this.#status(existing);
    const job: LocalJob = {
      name: jobNameOf(spec.queue_id),
      spec,
      failures: 0,
      state: 'running',
      stopping: false,
      exited: Promise.resolve(),
    };
    this.#jobs.set(spec.queue_id, job);
    this.#run(job);
    this.#options.logger.info({ queue_id: spec.queue_id, job: job.name, pid: job.pid }, 'local Job started');
    return this.#status(job);
  }

  async stop(queueId: string): Promise<boolean> {
    this.#follow(); // a Job another manager instance started may not be known yet
    const job = this.#jobs.get(queueId);
    if (!job) return false;
    job.stopping = true;
    // As Kubernetes deletes a Job's pod: SIGTERM, then SIGKILL after the grace period.
    const grace = (this.#template.spec.template.spec.terminationGracePeriodSeconds as number | undefined) ?? 30;
    const pid = job.pid;
    if (job.state === 'running' && pid !== undefined && isAlive(pid)) {
      // A Job adopted from its file is not our child: no exit event, so stopPid watches its pid.
      await stopPid(pid, grace * 1000, job.child ? job.exited : undefined);
    }
    this.#jobs.delete(queueId);
    rmSync(this.#file(job.name), { force: true });
    return true;
  }

  async get(queueId: string): Promise<JobStatus | undefined> {
    const job = this.#jobs.get(queueId);
    return job && this.#status(job);
  }

  async list(): Promise<JobStatus[]> {
    return [...this.#jobs.values()].map((j) => this.#status(j));
  }

  /** The Jobs this launcher saw end; the manager learns it from the platform's Job events instead. */
  async watch(onEnded: (ended: JobEnded) => void): Promise<void> {
    this.#onEnded = onEnded;
    for (const ended of this.#orphans.splice(0)) onEnded(ended);
  }

  /** Stops the Jobs when the stack is going down (or there is no stack); otherwise leaves them to the other manager instances. */
  async close(): Promise<void> {
    clearInterval(this.#poll);
    const stack = readStackState(this.#options.stateDir);
    if (stack !== undefined && stack.status !== 'stopping' && stack.status !== 'stopped' && stack.status !== 'failed')
      return;
    await Promise.all([...this.#jobs.keys()].map((queueId) => this.stop(queueId)));
  }

  #status(job: LocalJob): JobStatus {
    return {
      name: job.name,
      queueId: job.spec.queue_id,
      state: job.state,
      ...(job.reason === undefined ? {} : { reason: job.reason }),
    };
  }

  #file(name: string): string {
    return join(this.#jobsDir, `${name}.json`);
  }

  #read(name: string): JobFile | undefined {
    try {
      return JSON.parse(readFileSync(this.#file(name), 'utf8')) as JobFile;
    } catch {
      return undefined;
    }
  }

  /** One pod: the program with the pod's environment; its exit decides retry, success or failure. */
  #run(job: LocalJob): void {
    const container = this.#template.spec.template.spec.containers[0]!;
    const podName = `${job.name}-${job.failures}`;
    const env = {
      ...this.#options.env,
      ...resolveContainerEnv(container.env, this.#options.env, podName),
      ...jobEnvOf(job.spec),
      // Several Jobs share this machine: each takes a free port for its metrics.
      LOADER_WS_METRICS_PORT: '0',
    };
    const child = spawnChild({
      command: process.execPath,
      args: [this.#options.entry ?? LOADER_WS_ENTRY],
      cwd: PROJECT_ROOT,
      env,
      logFile: join(this.#logsDir, `${job.name}.log`),
      onExit: ({ code, signal }) => this.#exited(job, child, code, signal),
    });
    job.child = child;
    job.pid = child.pid;
    job.startedAt ??= new Date().toISOString();
    const file: JobFile = {
      pid: child.pid!,
      owner: process.pid,
      spec: job.spec,
      started_at: job.startedAt,
      failures: job.failures,
    };
    writeFileSync(this.#file(job.name), JSON.stringify(file));
    job.exited = child.exited.then(() => undefined);
  }

  #exited(job: LocalJob, child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (job.child !== child || job.stopping) return;
    if (code === 0) return this.#end(job, 'succeeded', 'the Job completed');
    const what = code === null ? `killed by ${signal}` : `exit code ${code}`;
    if (code !== null && failJobExitCodes(this.#template).includes(code)) {
      return this.#end(
        job,
        'failed',
        `PodFailurePolicy: container loader-ws ${what} matches a FailJob rule; see ${job.name}.log`,
      );
    }
    // This run's pid: a stop by another instance deletes the file, and the rerun checks it.
    this.#failed(job, what, child.pid);
  }

  /** A failed run: another after the backoff, as the Job controller does, or the Job fails at its backoffLimit. */
  #failed(job: LocalJob, what: string, deadPid?: number): void {
    job.failures += 1;
    const limit = this.#template.spec.backoffLimit ?? 6;
    if (job.failures > limit)
      return this.#end(
        job,
        'failed',
        `BackoffLimitExceeded: ${job.failures} failed runs (last: ${what}); see ${job.name}.log`,
      );
    const delay = backoffDelay({ baseMs: this.#options.backoffBaseMs ?? 1000 }, job.failures);
    this.#options.logger.warn(
      { queue_id: job.spec.queue_id, job: job.name, failure: what, attempt: job.failures, retry_in_ms: delay },
      'local Job failed; running it again',
    );
    setTimeout(() => {
      if (job.stopping || this.#jobs.get(job.spec.queue_id) !== job) return;
      // A Job stopped meanwhile by another instance (which knows it by its file, so this
      // launcher's `stopping` is not set) has no file any more, or one naming another run:
      // forgotten here, and #follow takes in whatever file there is.
      if (deadPid !== undefined && this.#read(job.name)?.pid !== deadPid) {
        this.#jobs.delete(job.spec.queue_id);
        return;
      }
      this.#run(job);
    }, delay).unref();
  }

  /**
   * Takes over the retries of a Job whose run ended while its owner was gone, as the Job
   * controller reruns a pod whoever created the Job. Of several instances, the one that
   * creates the claim file for that run adopts it; the others follow its next run.
   */
  #adopt(job: LocalJob, saved: JobFile): void {
    const stack = readStackState(this.#options.stateDir);
    if (stack !== undefined && (stack.status === 'stopping' || stack.status === 'stopped')) return;
    const claims = join(this.#options.stateDir, 'job-claims');
    mkdirSync(claims, { recursive: true });
    try {
      writeFileSync(join(claims, `${job.name}-${saved.pid}`), String(process.pid), { flag: 'wx' });
    } catch {
      return;
    }
    job.failures = saved.failures ?? 0;
    this.#options.logger.warn(
      { queue_id: job.spec.queue_id, job: job.name, pid: saved.pid, owner: saved.owner },
      'a local Job ended while its manager was gone: this instance takes it over',
    );
    this.#failed(job, 'exit status unknown, its manager was gone', saved.pid);
  }

  #end(job: LocalJob, outcome: 'succeeded' | 'failed', reason: string): void {
    job.state = outcome;
    job.reason = reason;
    // Kept, with its end, as a finished Job is kept: the platform's Job events read it.
    const saved = this.#read(job.name);
    writeFileSync(
      this.#file(job.name),
      JSON.stringify({
        ...(saved ?? { pid: job.pid ?? 0, owner: process.pid, spec: job.spec, started_at: job.startedAt ?? '' }),
        failures: job.failures,
        state: outcome,
        reason,
        ended_at: new Date().toISOString(),
      } satisfies JobFile),
    );
    this.#options.logger[outcome === 'failed' ? 'error' : 'info'](
      { queue_id: job.spec.queue_id, job: job.name, reason },
      `local Job ${outcome}`,
    );
    this.#report({ queueId: job.spec.queue_id, name: job.name, outcome, reason });
  }

  #report(ended: JobEnded): void {
    if (this.#onEnded) this.#onEnded(ended);
    else this.#orphans.push(ended);
  }

  /**
   * Follows the Jobs other launchers started (their files in jobs/): a new one is taken in;
   * one whose process ended is forgotten when its file is gone (its owner handled it), followed
   * to its new pid when its owner ran it again, and adopted when its owner is gone too.
   */
  #follow(): void {
    let files: string[];
    try {
      files = readdirSync(this.#jobsDir).filter((f) => f.endsWith('.json'));
    } catch {
      return;
    }
    const ttlMs = (this.#template.spec.ttlSecondsAfterFinished ?? Number.POSITIVE_INFINITY) * 1000;
    for (const f of files) {
      const saved = this.#read(f.slice(0, -'.json'.length));
      if (saved === undefined) continue;
      // A finished Job past its ttlSecondsAfterFinished is removed, as the TTL controller does.
      if (saved.ended_at !== undefined && Date.now() - Date.parse(saved.ended_at) > ttlMs) {
        rmSync(join(this.#jobsDir, f), { force: true });
        this.#jobs.delete(saved.spec.queue_id);
        continue;
      }
      const known = this.#jobs.get(saved.spec.queue_id);
      // A Job another instance followed to its end: ended here too, never adopted.
      if (known !== undefined && known.child === undefined && known.state === 'running' && saved.state) {
        known.state = saved.state;
        if (saved.reason !== undefined) known.reason = saved.reason;
      }
      if (known !== undefined) continue;
      const job: LocalJob = {
        name: jobNameOf(saved.spec.queue_id),
        spec: saved.spec,
        pid: saved.pid,
        failures: saved.failures ?? 0,
        state: saved.state ?? 'running',
        ...(saved.reason === undefined ? {} : { reason: saved.reason }),
        stopping: false,
        exited: Promise.resolve(),
      };
      this.#jobs.set(saved.spec.queue_id, job);
      if (saved.owner !== process.pid && saved.state === undefined)
        this.#options.logger.info(
          { queue_id: saved.spec.queue_id, pid: saved.pid, owner: saved.owner },
          'following a local Job another manager started',
        );
    }
    for (const job of [...this.#jobs.values()]) {
      if (
        job.child !== undefined ||
        job.state !== 'running' ||
        job.stopping ||
        (job.pid !== undefined && isAlive(job.pid))
      )
        continue;
      const saved = this.#read(job.name);
      if (saved === undefined) {
        this.#jobs.delete(job.spec.queue_id);
      } else if (saved.pid !== job.pid) {
        job.pid = saved.pid;
      } else if (!isAlive(saved.owner)) {
        this.#adopt(job, saved);
      }
    }
  }
}

/**
 * The container environment as a local process gets it: literal values as they are,
 * ConfigMap and Secret keys from the local platform's environment (the same key), the pod
 * name from the Job name. A reference nothing resolves is left out, so the program's
 * default applies.
 */
export function resolveContainerEnv(
  env: EnvVar[] | undefined,
  local: NodeJS.ProcessEnv,
  podName: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env ?? []) {
    if (entry.value !== undefined) out[entry.name] = entry.value;
    const ref = entry.valueFrom?.configMapKeyRef ?? entry.valueFrom?.secretKeyRef;
    if (ref !== undefined && local[ref.key] !== undefined && local[ref.key] !== '') out[entry.name] = local[ref.key]!;
    if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.name') out[entry.name] = podName;
  }
  return out;
}
