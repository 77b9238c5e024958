/**
 * queue-events telemetry: what each service reports about a workflow. Field names are those
 * of the seed wire format, whose senders may put `sent_at` where `timestamp` belongs, so
 * either is accepted and `timestampOf` reads whichever is present.
 */
import { defineContract } from './validation.ts';
import { QUEUE_ID_PATTERN } from './ids.ts';

/** `interrupted` is the seed's word for stopped, `completed` a synonym of finished. */
export const TELEMETRY_STATUSES = [
  'started',
  'loading',
  'finished',
  'completed',
  'error',
  'stopped',
  'interrupted',
  'pong',
] as const;
export type TelemetryStatus = (typeof TELEMETRY_STATUSES)[number];

export interface TelemetryFields {
  queue_id: string;
  /** `<service>__<short id>`, the seed's telemetry_id. */
  producer: string;
  status: TelemetryStatus;
  symbol?: string;
  type?: string;
  message?: string;
  records_written?: number;
  /** Records refused as impossible (set aside with their reason), never counted as written. */
  rejected?: number;
  finished?: boolean;
  timestamp?: number;
  sent_at?: number;
  /** Progress of long work: done of total, in the unit named (pages, records, epochs). */
  progress?: WorkProgress;
  error?: { code?: string; message: string; retryable?: boolean };
}

/**
 * Done of total in the unit named; `bytes`, where the work moves files (bulk history's archive
 * pages), says how many of the plan's bytes are done.
 */
export interface WorkProgress {
  done: number;
  total?: number;
  unit: string;
  bytes?: { done: number; total?: number };
}

/** Known fields plus whatever a service adds (epoch, loss, pages, …). */
export type TelemetryEvent = TelemetryFields & Record<string, unknown>;

const count = { type: 'integer', minimum: 0 };

export const telemetryEventSchema = {
  $id: 'streamforge/telemetry-event.json',
  title: 'queue-events telemetry',
  type: 'object',
  required: ['queue_id', 'producer', 'status'],
  anyOf: [{ required: ['timestamp'] }, { required: ['sent_at'] }],
  properties: {
    queue_id: { type: 'string', pattern: QUEUE_ID_PATTERN },
    producer: { type: 'string', minLength: 1, maxLength: 200 },
    telemetry_id: { type: 'string' },
    status: { enum: TELEMETRY_STATUSES },
    symbol: { type: 'string' },
    type: { type: 'string' },
    message: { type: 'string', maxLength: 10_000 },
    records_written: count,
    rejected: count,
    finished: { type: 'boolean' },
    timestamp: { type: 'number', minimum: 0 },
    sent_at: { type: 'number', minimum: 0 },
    progress: {
      type: 'object',
      required: ['done', 'unit'],
      properties: {
        done: count,
        total: count,
        unit: { type: 'string' },
        bytes: { type: 'object', required: ['done'], properties: { done: count, total: count } },
      },
    },
    error: {
      type: 'object',
      required: ['message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
    },
  },
} as const;

export const telemetryEventContract = defineContract<TelemetryEvent>('queue-events telemetry', telemetryEventSchema);

export function timestampOf(event: TelemetryEvent): number {
  return event.timestamp ?? event.sent_at ?? 0;
}

/** The status with the seed's synonyms folded: interrupted → stopped, completed → finished. */
export function normalStatus(status: TelemetryStatus): Exclude<TelemetryStatus, 'interrupted' | 'completed'> {
  if (status === 'interrupted') return 'stopped';
  if (status === 'completed') return 'finished';
  return status;
}
