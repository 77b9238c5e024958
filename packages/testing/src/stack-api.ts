/**
 * The queue-manager API as end-to-end tests use it: calls that return status and body,
 * starting a workflow (201 expected), waiting for a workflow to reach a state, and reading a
 * whole collection back page by page.
 */
import type { WorkflowView } from '@streamforge/cli';
import { FINAL_WORKFLOW_STATUSES } from '@streamforge/load';
import { waitFor } from './wait-for.ts';

export type { WorkflowView };

export interface StackApi {
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** POST /workflows; throws with the API's answer unless it is 201. */
  start(request: Record<string, unknown>): Promise<WorkflowView>;
  workflow(queueId: string): Promise<WorkflowView>;
  /** Waits until the workflow satisfies `check`; `what` says what never happened on a timeout. */
  until(queueId: string, what: string, check: (w: WorkflowView) => boolean, timeoutMs?: number): Promise<WorkflowView>;
  /**
   * Waits for completed, error or stopped as long as the workflow moves: fails once nothing it
   * reports (status, what is stored, each service's progress) changed for `stallMs`. A long
   * backfill takes longer on a busy machine; only a stall is a failure.
   */
  final(queueId: string, stallMs?: number): Promise<WorkflowView>;
  /**
   * Starts every request at once (the same range by two paths, say), waits for each to end
   * (`final`) and throws unless each completed; answers their final views in request order.
   */
  completeAll(requests: Record<string, unknown>[], stallMs?: number): Promise<WorkflowView[]>;
  /** Every record of a collection, in key order. */
  allRecords<R>(collection: string): Promise<R[]>;
  /** The telemetry of the workflow's event trail, oldest first. */
  trail(queueId: string): Promise<TrailEvent[]>;
}

/** One telemetry event of a workflow's trail, as far as tests read it. */
export interface TrailEvent {
  producer: string;
  status: string;
  message?: string;
  progress?: { done: number; total: number; unit?: string; bytes?: { done: number; total: number } };
}

/** What changes while a workflow works: not timestamps or messages, which a stuck retry loop also changes. */
function movement(w: WorkflowView): unknown {
  const services = Object.entries(w.progress).map(([name, p]) => [
    name,
    p.status,
    p.records_written,
    p.progress?.done,
    p.progress?.bytes?.done,
  ]);
  return [w.status, w.stored, services];
}

export function stackApi(apiUrl: () => string | undefined, token = ''): StackApi {
  const call: StackApi['call'] = async (method, path, body) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${apiUrl()}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as never };
  };
  const workflow = async (queueId: string) => (await call<WorkflowView>('GET', `/workflows/${queueId}`)).body;
  const untilMoving = async (
    queueId: string,
    what: string,
    check: (w: WorkflowView) => boolean,
    timeoutMs: number,
    moving: boolean,
  ): Promise<WorkflowView> => {
    let last: WorkflowView | undefined;
    try {
      return await waitFor(
        `${queueId}: ${what}`,
        async () => {
          last = await workflow(queueId);
          return check(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 200, ...(moving ? { progress: () => last && movement(last) } : {}) },
      );
    } catch (error) {
      // Where the workflow stood says which service stalled.
      if (last === undefined) throw error;
      const { status, progress, stored, error: reason } = last;
      throw new Error(
        `${(error as Error).message}; last seen: ${JSON.stringify({ status, reason, stored, progress })}`,
        { cause: error },
      );
    }
  };
  const final = (queueId: string, stallMs = 120_000) =>
    untilMoving(
      queueId,
      'to end',
      (w) => (FINAL_WORKFLOW_STATUSES as readonly string[]).includes(w.status),
      stallMs,
      true,
    );
  const start = async (request: Record<string, unknown>) => {
    const created = await call<WorkflowView>('POST', '/workflows', request);
    if (created.status !== 201)
      throw new Error(`POST /workflows answered ${created.status}: ${JSON.stringify(created.body)}`);
    return created.body;
  };
  return {
    call,
    workflow,
    until: (queueId, what, check, timeoutMs = 120_000) => untilMoving(queueId, what, check, timeoutMs, false),
    final,
    start,
    async completeAll(requests, stallMs) {
      const started = await Promise.all(requests.map(start));
      const ended = await Promise.all(started.map((w) => final(w.queue_id, stallMs)));
      for (const w of ended)
        if (w.status !== 'completed') throw new Error(`${w.queue_id}: ${w.status}, not completed: ${w.error}`);
      return ended;
    },
    async trail(queueId) {
      const { body } = await call<{ events: Array<{ event: TrailEvent }> }>(
        'GET',
        `/workflows/${queueId}/events?limit=5000`,
      );
      return body.events.map((e) => e.event);
    },
    async allRecords<R>(collection: string): Promise<R[]> {
      const out: R[] = [];
      let after: string | undefined;
      for (;;) {
        const { body } = await call<{ records: R[]; next_after?: string }>(
          'GET',
          `/collections/${collection}/records?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`,
        );
        out.push(...body.records);
        if (!body.next_after) return out;
        after = body.next_after;
      }
    },
  };
}
