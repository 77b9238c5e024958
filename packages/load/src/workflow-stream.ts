/**
 * Reads the manager's live stream (`GET /console/stream`, Server-Sent Events) from Node,
 * the way the console page does: every workflow version as it is pushed, stamped with the
 * local time it arrived. Load tests and benchmarks wait on it instead of polling the API,
 * and measure how long a status takes to become visible.
 */
export interface StreamedWorkflow {
  queue_id: string;
  status: string;
  version: number;
  progress: Record<
    string,
    {
      status: string;
      records_written?: number;
      updated_at: number;
      progress?: { done: number; total?: number; unit: string };
    }
  >;
  error?: string;
  [field: string]: unknown;
}

export interface WorkflowUpdate {
  workflow: StreamedWorkflow;
  /** Date.now() when the message was read off the stream. */
  receivedAt: number;
  /** `snapshot` for the workflows of the first message, `workflow` for pushed changes. */
  via: 'snapshot' | 'workflow';
}

export interface WorkflowStream {
  /** Every update so far, in arrival order. */
  updates: WorkflowUpdate[];
  /** The newest version seen of a workflow. */
  latest(queueId: string): StreamedWorkflow | undefined;
  /** Resolves with the first version of the workflow that satisfies `predicate` (seen before or after the call). */
  waitFor(queueId: string, predicate: (w: StreamedWorkflow) => boolean, timeoutMs?: number): Promise<WorkflowUpdate>;
  close(): void;
}

export interface WorkflowStreamOptions {
  apiUrl: string;
  token?: string;
  /** Workflows in the first snapshot (newest first). */
  snapshotLimit?: number;
}

/** Opens the stream; resolves once the first snapshot arrived (so nothing after it is missed). */
export async function openWorkflowStream(options: WorkflowStreamOptions): Promise<WorkflowStream> {
  const controller = new AbortController();
  const response = await fetch(
    `${options.apiUrl.replace(/\/+$/, '')}/console/stream?limit=${options.snapshotLimit ?? 1}`,
    {
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      signal: controller.signal,
    },
  );
  if (!response.ok || !response.body) {
    controller.abort();
    throw new Error(`GET /console/stream answered ${response.status}: ${await response.text().catch(() => '')}`);
  }
  const updates: WorkflowUpdate[] = [];
  const latest = new Map<string, StreamedWorkflow>();
  const waiters = new Set<{
    queueId: string;
    predicate: (w: StreamedWorkflow) => boolean;
    resolve: (u: WorkflowUpdate) => void;
  }>();
  let snapshotSeen: () => void = () => undefined;
  const snapshot = new Promise<void>((resolve) => {
    snapshotSeen = resolve;
  });

  const accept = (workflow: StreamedWorkflow, via: WorkflowUpdate['via'], receivedAt: number) => {
    const known = latest.get(workflow.queue_id);
    if (known && known.version >= workflow.version) return;
    latest.set(workflow.queue_id, workflow);
    const update = { workflow, receivedAt, via };
    updates.push(update);
    for (const w of waiters) {
      if (w.queueId === workflow.queue_id && w.predicate(workflow)) {
        waiters.delete(w);
        w.resolve(update);
      }
    }
  };

  const onMessage = (block: string) => {
    const receivedAt = Date.now();
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (data === '') return;
    const payload = JSON.parse(data) as { workflows?: StreamedWorkflow[] } & StreamedWorkflow;
    if (event === 'snapshot') {
      for (const w of payload.workflows ?? []) accept(w, 'snapshot', receivedAt);
      snapshotSeen();
    } else if (event === 'workflow') {
      accept(payload, 'workflow', receivedAt);
    }
  };

  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          onMessage(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Closed by close(), or the server went away: waiters time out with their reason.
    }
  })();
  await snapshot;

  return {
    updates,
    latest: (queueId) => latest.get(queueId),
    waitFor(queueId, predicate, timeoutMs = 60_000) {
      const known = latest.get(queueId);
      if (known && predicate(known))
        return Promise.resolve(updates.findLast((u) => u.workflow === known) as WorkflowUpdate);
      return new Promise((resolve, reject) => {
        const waiter = {
          queueId,
          predicate,
          resolve: (u: WorkflowUpdate) => {
            clearTimeout(timer);
            resolve(u);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting on the stream for ${queueId} (last status: ${latest.get(queueId)?.status ?? 'never seen'})`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => controller.abort(),
  };
}
