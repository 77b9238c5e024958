/**
 * Load for benchmarks and fault tests, two kinds:
 *
 * - workflows: N workflows started through the manager's API (all at once, with bounded
 *   concurrency, or one after another as a baseline), followed on the manager's live
 *   stream until each reaches a final status; then each telemetry trail is compared with
 *   what the service said it sent. `dummy_*` workflows make this cheap: dummy-service
 *   plays a scripted telemetry sequence (functions/dummy-service/src/simulate.ts).
 * - data: M data events per second for T seconds onto a data topic (kline batches with
 *   deterministic keys and page numbers, so the connector stores each record once and
 *   reports the load finished).
 *
 * dummy-service exposes both over HTTP (`POST /load`); bench/workflows-load.ts and the
 * tests call them directly.
 */
import { TOPICS, type EventProducer } from '@streamforge/core/bus';
import { EVENT_TYPES, klineFromRow, sourceOf, type BinanceKlineRow, type DataBatch } from '@streamforge/core/contracts';
import { openWorkflowStream, type StreamedWorkflow, type WorkflowUpdate } from './workflow-stream.ts';

export const FINAL_WORKFLOW_STATUSES = ['completed', 'error', 'stopped'] as const;
const isFinal = (w: StreamedWorkflow) => (FINAL_WORKFLOW_STATUSES as readonly string[]).includes(w.status);

export interface Percentiles {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, rounded to 0.1. */
export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { samples: s.length, p50: r(at(50)), p99: r(at(99)), max: r(s.at(-1) ?? 0) };
}

export interface WorkflowLoadOptions {
  apiUrl: string;
  token?: string;
  count: number;
  /** Start requests in flight at once (default: all). */
  concurrency?: number;
  /** Start each workflow only once the previous one is final: the baseline. */
  sequential?: boolean;
  type?: string;
  params?: Record<string, unknown>;
  /** Symbols used in turn (the Kafka key, so they spread over partitions). */
  symbols?: string[];
  timeoutMs?: number;
  /** Read every trail back and compare it with the `events_sent` the service reported (default true). */
  checkTrails?: boolean;
}

export interface WorkflowLoadEntry {
  queue_id: string;
  status: string;
  error?: string;
  /** ms from the start request to its 201. */
  accepted_ms: number;
  /** ms from the newest telemetry timestamp in the final version to that version arriving on the stream. */
  final_latency_ms: number;
  trail_events?: number;
  events_sent?: number;
}

export interface WorkflowLoadResult {
  count: number;
  mode: 'concurrent' | 'sequential';
  started: number;
  failed_to_start: Array<{ status: number; message: string }>;
  by_status: Record<string, number>;
  elapsed_ms: number;
  workflows_per_second: number;
  /** Telemetry timestamp → the version it produced visible on the stream, over every pushed version. */
  status_latency_ms: Percentiles;
  final_latency_ms: Percentiles;
  accept_ms: Percentiles;
  trails?: { checked: number; events: number; sent: number; lost: number; duplicated: number; unknown: number };
  workflows: WorkflowLoadEntry[];
}

function newestTelemetryMs(w: StreamedWorkflow): number | undefined {
  const times = Object.entries(w.progress ?? {})
    .filter(([service]) => service !== 'queue-manager')
    .map(([, p]) => p.updated_at);
  return times.length === 0 ? undefined : Math.max(...times);
}

async function call<T>(
  options: { apiUrl: string; token?: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${options.apiUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function runWorkflowLoad(options: WorkflowLoadOptions): Promise<WorkflowLoadResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const symbols = options.symbols ?? ['LOADAUSDT', 'LOADBUSDT', 'LOADCUSDT', 'LOADDUSDT', 'LOADEUSDT', 'LOADFUSDT'];
  const stream = await openWorkflowStream({
    apiUrl: options.apiUrl,
    ...(options.token ? { token: options.token } : {}),
  });
  const ids: string[] = [];
  const accepted = new Map<string, number>();
  const finals = new Map<string, WorkflowUpdate>();
  const failed: WorkflowLoadResult['failed_to_start'] = [];
  const began = Date.now();
  try {
    const startOne = async (i: number): Promise<string | undefined> => {
      const sent = performance.now();
      const { status, body } = await call<{ queue_id: string; message?: string }>(options, 'POST', '/workflows', {
        symbol: symbols[i % symbols.length],
        type: options.type ?? 'dummy_load',
        ...(options.params ? { params: options.params } : {}),
      });
      if (status !== 201) {
        failed.push({ status, message: body?.message ?? String(status) });
        return undefined;
      }
      accepted.set(body.queue_id, performance.now() - sent);
      ids.push(body.queue_id);
      return body.queue_id;
    };
    const untilFinal = async (id: string) =>
      finals.set(id, await stream.waitFor(id, isFinal, Math.max(1, began + timeoutMs - Date.now())));

    if (options.sequential) {
      for (let i = 0; i < options.count; i++) {
        const id = await startOne(i);
        if (id) await untilFinal(id);
      }
    } else {
      let next = 0;
      const waits: Promise<unknown>[] = [];
      const worker = async () => {
        while (next < options.count) {
          const id = await startOne(next++);
          if (!id) continue;
          const wait = untilFinal(id);
          // Observed now: a wait that times out while others still start must not go unhandled.
          wait.catch(() => undefined);
          waits.push(wait);
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? options.count, options.count) }, worker));
      await Promise.all(waits);
    }
  } finally {
    stream.close();
  }
  const elapsed = Math.max(...[...finals.values()].map((u) => u.receivedAt), began) - began;

  const mine = new Set(ids);
  const statusLatencies = stream.updates
    .filter((u) => u.via === 'workflow' && mine.has(u.workflow.queue_id))
    .map((u) => ({ u, t: newestTelemetryMs(u.workflow) }))
    .filter((x): x is { u: WorkflowUpdate; t: number } => x.t !== undefined)
    .map(({ u, t }) => u.receivedAt - t);
  const entries: WorkflowLoadEntry[] = ids.map((id) => {
    const final = finals.get(id) as WorkflowUpdate;
    const t = newestTelemetryMs(final.workflow);
    return {
      queue_id: id,
      status: final.workflow.status,
      ...(final.workflow.error ? { error: final.workflow.error } : {}),
      accepted_ms: Math.round((accepted.get(id) ?? 0) * 10) / 10,
      final_latency_ms: t === undefined ? 0 : final.receivedAt - t,
    };
  });

  let trails: WorkflowLoadResult['trails'];
  if (options.checkTrails !== false) {
    trails = { checked: 0, events: 0, sent: 0, lost: 0, duplicated: 0, unknown: 0 };
    const t = trails;
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const entry = entries[next++] as WorkflowLoadEntry;
        const { body } = await call<{ events: Array<{ event: { status: string; events_sent?: number } }> }>(
          options,
          'GET',
          `/workflows/${entry.queue_id}/events?limit=5000`,
        );
        entry.trail_events = body.events.length;
        const sent = body.events.find((e) => typeof e.event.events_sent === 'number')?.event.events_sent;
        t.checked++;
        t.events += body.events.length;
        if (sent === undefined) {
          t.unknown++;
          continue;
        }
        entry.events_sent = sent;
        t.sent += sent;
        t.lost += Math.max(0, sent - body.events.length);
        t.duplicated += Math.max(0, body.events.length - sent);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  const byStatus: Record<string, number> = {};
  for (const e of entries) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
  return {
    count: options.count,
    mode: options.sequential ? 'sequential' : 'concurrent',
    started: ids.length,
    failed_to_start: failed,
    by_status: byStatus,
    elapsed_ms: elapsed,
    workflows_per_second: elapsed > 0 ? Math.round((entries.length / (elapsed / 1000)) * 100) / 100 : 0,
    status_latency_ms: percentiles(statusLatencies),
    final_latency_ms: percentiles(entries.map((e) => e.final_latency_ms)),
    accept_ms: percentiles(entries.map((e) => e.accepted_ms)),
    ...(trails ? { trails } : {}),
    workflows: entries,
  };
}

export interface DataLoadOptions {
  producer: EventProducer;
  eventsPerSecond: number;
  seconds: number;
  recordsPerEvent?: number;
  symbol?: string;
  queueId?: string;
  collection?: string;
  /** A data topic of the plan (default data-klines). */
  topic?: string;
}

export interface DataLoadResult {
  queue_id: string;
  collection: string;
  topic: string;
  events_sent: number;
  records_sent: number;
  elapsed_ms: number;
  events_per_second: number;
  /** How far the generator fell behind its schedule at worst (ms). */
  behind_ms_max: number;
}

/** Publishes `eventsPerSecond × seconds` kline batches (1m candles, consecutive, deterministic keys) at the given rate. */
export async function runDataLoad(options: DataLoadOptions): Promise<DataLoadResult> {
  const perEvent = options.recordsPerEvent ?? 100;
  const total = Math.max(1, Math.round(options.eventsPerSecond * options.seconds));
  const symbol = options.symbol ?? 'LOADUSDT';
  const queueId = options.queueId ?? `load-${Date.now().toString(36)}`;
  const collection = options.collection ?? `load_${queueId.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  const topic = options.topic ?? TOPICS.dataKlines;
  const origin = Date.UTC(2020, 0, 1);
  const batch = (index: number) => {
    const records = Array.from({ length: perEvent }, (_, j) => {
      const open = origin + (index * perEvent + j) * 60_000;
      const row: BinanceKlineRow = [
        open,
        '100.00',
        '101.00',
        '99.00',
        '100.50',
        '1.5',
        open + 59_999,
        '150.75',
        10,
        '0.7',
        '70.35',
        '0',
      ];
      return klineFromRow(symbol, '1m', row);
    });
    const data: DataBatch = {
      queue_id: queueId,
      symbol,
      market: 'spot',
      kind: 'klines',
      interval: '1m',
      collection_name: collection,
      source: 'ws',
      page: { index, count: total, part: 0, parts: 1 },
      records,
    };
    return {
      id: `${queueId}:${index}`,
      type: EVENT_TYPES.dataKlines,
      source: sourceOf('dummy-service'),
      subject: queueId,
      partitionKey: symbol,
      data,
    };
  };

  const began = performance.now();
  let sent = 0;
  let behind = 0;
  while (sent < total) {
    const elapsed = performance.now() - began;
    const due = Math.min(total, Math.floor((elapsed / 1000) * options.eventsPerSecond) + 1);
    if (due > sent) {
      behind = Math.max(behind, elapsed - (sent / options.eventsPerSecond) * 1000);
      const events = [];
      for (let i = sent; i < due; i++) events.push(batch(i));
      await options.producer.send(topic, events);
      sent = due;
    }
    if (sent < total) {
      const nextAt = (sent / options.eventsPerSecond) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(1, nextAt - (performance.now() - began))));
    }
  }
  const elapsed = performance.now() - began;
  return {
    queue_id: queueId,
    collection,
    topic,
    events_sent: sent,
    records_sent: sent * perEvent,
    elapsed_ms: Math.round(elapsed),
    events_per_second: Math.round((sent / Math.max(elapsed, 1)) * 1000 * 100) / 100,
    behind_ms_max: Math.round(behind),
  };
}
