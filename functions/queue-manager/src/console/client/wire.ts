/**
 * What the page reads from the manager: the workflow records of the stream and the API, the
 * timeline's stored events and the local platform's status. Only the fields the page uses,
 * optional where the page copes without them.
 */

export interface Progress {
  done: number;
  total?: number | null;
  unit: string;
}

export interface ServiceProgress {
  status?: string;
  records_written?: number;
  rejected?: number;
  progress?: Progress;
  message?: string;
}

export interface WorkflowView {
  queue_id: string;
  version: number;
  status: string;
  type: string;
  symbol?: string;
  market?: string;
  time_range?: string;
  error?: string;
  services?: string[];
  progress?: Record<string, ServiceProgress>;
  /** What the store holds for it (GET /workflows/{id} and the start's answer add it). */
  stored?: { records_written?: number | null; rejected?: number };
  dead_letters?: Record<string, { total: number; replayed?: number }>;
  deadline_at?: number | null;
  created_at: number;
  updated_at?: number;
}

/** One telemetry event of a workflow's timeline (GET /workflows/{id}/events). */
export interface TimelineEvent {
  event_id: string;
  received_at: number;
  event?: {
    status?: string;
    producer?: string;
    message?: string;
    records_written?: number;
    progress?: Progress;
    error?: { message?: string };
    /** Seconds since the epoch. */
    timestamp?: number;
    sent_at?: number;
  };
}

export interface TimelinePage {
  events: TimelineEvent[];
  next?: string | null;
}

export interface PlatformStatusView {
  functions?: Array<{
    name: string;
    min_scale?: number;
    max_scale?: number;
    instances?: Array<{ state: string; url?: string; pid?: number; in_flight?: number }>;
  }>;
  sources?: Array<{ name: string; topics?: string[]; lag?: number; lag_threshold?: number; desired?: number }>;
  decisions?: Array<{ at: string | number; function: string; from: number; to: number; reason: string }>;
}

/** The `platform` message, also part of the snapshot. */
export interface PlatformMessage {
  available: boolean;
  status: PlatformStatusView | null;
}

export interface Snapshot {
  workflows: WorkflowView[];
  platform: PlatformMessage;
}
