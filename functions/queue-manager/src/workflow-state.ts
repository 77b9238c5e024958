/**
 * How telemetry moves a workflow: pending → running → completed | error | stopped. Pure and
 * idempotent: the same event applied twice, or a late one after a final status, changes
 * nothing, so at-least-once delivery of queue-events is safe.
 */
import { normalStatus, serviceOfProducer, timestampOf, type TelemetryEvent } from '@streamforge/core/contracts';
import type { ServiceProgress, WorkflowRecord, WorkflowStatus } from '@streamforge/core/store';

export const FINAL_STATUSES: readonly WorkflowStatus[] = ['completed', 'error', 'stopped'];
const FINAL_SERVICE_STATUSES = new Set(['finished', 'error', 'stopped']);

export function isFinal(status: WorkflowStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

function mergeService(
  previous: ServiceProgress | undefined,
  event: TelemetryEvent,
  status: string,
  at: number,
): ServiceProgress {
  // A service that reached a final status stays there; counts only grow.
  const next: ServiceProgress = {
    status: previous && FINAL_SERVICE_STATUSES.has(previous.status) ? previous.status : status,
    updated_at: Math.max(previous?.updated_at ?? 0, at),
  };
  const records = Math.max(previous?.records_written ?? 0, event.records_written ?? 0);
  if (records > 0 || event.records_written !== undefined) next.records_written = records;
  const rejected = Math.max(previous?.rejected ?? 0, typeof event.rejected === 'number' ? event.rejected : 0);
  if (rejected > 0) next.rejected = rejected;
  const progress =
    event.progress && (!previous?.progress || event.progress.done >= previous.progress.done)
      ? event.progress
      : previous?.progress;
  if (progress) next.progress = progress;
  const message = event.message ?? previous?.message;
  if (message !== undefined) next.message = message;
  return next;
}

/**
 * The workflow after this telemetry event, or undefined when the event changes nothing
 * (duplicate, late, or about a workflow already final).
 */
export function applyTelemetry(
  workflow: WorkflowRecord,
  event: TelemetryEvent,
  now = Date.now(),
): WorkflowRecord | undefined {
  if (isFinal(workflow.status)) return undefined;
  const status = normalStatus(event.status);
  if (status === 'pong') return undefined;
  const service = serviceOfProducer(event.producer);
  const at = timestampOf(event) * 1000 || now;
  // A retryable error is a service on its way, not at its end: a later `finished` still counts.
  const serviceStatus = status === 'error' && event.error?.retryable === true ? 'retrying' : status;
  const progress = {
    ...workflow.progress,
    [service]: mergeService(workflow.progress[service], event, serviceStatus, at),
  };

  let next: WorkflowStatus = workflow.status === 'pending' ? 'running' : workflow.status;
  let error = workflow.error;
  if (status === 'error' && event.error?.retryable !== true) {
    next = 'error';
    error = `${service}: ${event.error?.message ?? event.message ?? 'failed'}`;
  } else if (status === 'stopped') {
    next = 'stopped';
  } else if (workflow.services.every((s) => progress[s]?.status === 'finished')) {
    next = 'completed';
  }
  const changed = next !== workflow.status || JSON.stringify(progress) !== JSON.stringify(workflow.progress);
  if (!changed) return undefined;
  return {
    ...workflow,
    status: next,
    progress,
    ...(error === undefined ? {} : { error }),
    updated_at: now,
    version: workflow.version + 1,
  };
}

/** A stop requested by a user: final at once, so a late `loading` cannot revive the workflow. */
export function applyStop(workflow: WorkflowRecord, reason: string, now = Date.now()): WorkflowRecord | undefined {
  if (isFinal(workflow.status)) return undefined;
  const progress = { ...workflow.progress, 'queue-manager': { status: 'stopped', message: reason, updated_at: now } };
  return { ...workflow, status: 'stopped', progress, updated_at: now, version: workflow.version + 1 };
}
