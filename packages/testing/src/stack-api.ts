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
  /** Waits for completed, error or stopped. */
  final(queueId: string, timeoutMs?: number): Promise<WorkflowView>;
  /** Every record of a collection, in key order. */
  allRecords<R>(collection: string): Promise<R[]>;
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
  const until: StackApi['until'] = async (queueId, what, check, timeoutMs = 120_000) => {
    let last: WorkflowView | undefined;
    try {
      return await waitFor(
        `${queueId}: ${what}`,
        async () => {
          last = await workflow(queueId);
          return check(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 200 },
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
  return {
    call,
    workflow,
    until,
    final: (queueId, timeoutMs) =>
      until(queueId, 'to end', (w) => (FINAL_WORKFLOW_STATUSES as readonly string[]).includes(w.status), timeoutMs),
    async start(request) {
      const created = await call<WorkflowView>('POST', '/workflows', request);
      if (created.status !== 201)
        throw new Error(`POST /workflows answered ${created.status}: ${JSON.stringify(created.body)}`);
      return created.body;
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
