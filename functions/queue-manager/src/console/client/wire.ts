/**
 * What the page reads from the manager: the workflow records of the stream and the API, the
 * timeline's stored events and the local platform's status. Only the fields the page uses,
 * optional where the page copes without them.
 */

export interface Progress {
  done: number;
  total?: number | null;
  unit: string;
  /** Bulk history: the plan's archive bytes done (of total). */
  bytes?: { done: number; total?: number | null };
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
  /** Where its records are stored (a klines workflow's collection is charted). */
  collection_name?: string;
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

/** GET /collections: the record collections and their counts. */
export interface CollectionsAnswer {
  collections: Array<{ name: string; count: number }>;
}

/** GET /collections/{name}/candles: a kline series in buckets, and its gaps (times in ms). */
export interface CandlesAnswer {
  collection: string;
  symbol: string;
  /** Trade candles, or a futures price series (no volumes: its volume, quote_volume, trades are 0). */
  kind?: 'klines' | 'mark_price_klines' | 'index_price_klines' | 'premium_index_klines';
  interval: string;
  from: number;
  to: number;
  bucket: string;
  bucket_ms: number;
  first_stored: number;
  last_stored: number;
  candles: Array<{ time: number; open: number; high: number; low: number; close: number; volume: number }>;
  gaps: Array<{ from: number; to: number; missing: number }>;
  gaps_truncated: boolean;
  stored: number;
  expected: number;
  missing: number;
  /** Set when the candles were made from a trades collection's trades. */
  trades?: 'agg_trades' | 'trades';
}

/** GET /collections/{name}/series: a funding rate or metrics collection over time, the last record of each bucket. */
export interface SeriesAnswer {
  collection: string;
  symbol: string;
  kind: 'funding_rate' | 'metrics';
  fields: string[];
  from: number;
  to: number;
  bucket: string;
  bucket_ms: number;
  first_stored: number;
  records: number;
  complete: boolean;
  points: Array<{ time: number; records: number } & Record<string, number>>;
}

/** GET /graphs/{id}: a graph set and one of its windows. */
export interface GraphAnswer {
  set: { graph_id: string; status: string; windows: number; symbols: string[] };
  window: {
    window: number;
    start: number;
    end: number;
    vertices: Array<{ symbol: string; features: number[]; label: { class: number; value: number } | null }>;
    edges: Array<{ from: string; to: string; weight: number; attributes?: { correlation?: unknown } }>;
  } | null;
}

/** GET /collections/{name}/trades: a trades collection's price candles (times in ms). */
export interface TradesAnswer {
  collection: string;
  symbol: string;
  kind: 'agg_trades' | 'trades';
  from: number;
  to: number;
  bucket: string;
  bucket_ms: number;
  first_trade: number;
  last_trade: number;
  candles: Array<{
    time: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    trades: number;
  }>;
}

/** One epoch of a training curve (a model's metadata.curves). */
export interface CurvePoint {
  epoch: number;
  loss: number;
  train_accuracy: number;
  /** Absent without a validation split. */
  val_loss?: number;
  val_accuracy?: number;
}

/** GET /models/{id}: a model version and its metadata. */
export interface ModelAnswer {
  model_id: string;
  version: number;
  status: string;
  queue_id?: string;
  metadata: { curves?: Record<string, CurvePoint[]> } & Record<string, unknown>;
}

/** GET /models?workflow=: the versions a workflow trained, without curves. */
export interface ModelsAnswer {
  models: ModelAnswer[];
}

/** One point of GET /collections/{name}/depth or …/book-ticker: the last quote of a bucket. */
export interface QuotePoint {
  /** Start of the bucket: ms on the time axis, an update id on the update_id axis. */
  x: number;
  bid: number;
  ask: number;
  bid_qty: number;
  ask_qty: number;
  spread: number;
  min_spread: number;
  max_spread: number;
  records: number;
}

export interface LadderLevel {
  price: number;
  quantity: number;
  cumulative: number;
}

/** GET /collections/{name}/depth (with `book`) and …/book-ticker (without). */
export interface BookAnswer {
  collection: string;
  symbol: string;
  kind: 'depth' | 'book_ticker';
  axis: 'time' | 'update_id';
  from: number;
  to: number;
  bucket: string;
  bucket_size: number;
  first_stored: number;
  last_stored: number;
  records: number;
  points: QuotePoint[];
  book?: {
    last_update_id: number;
    event_time?: number;
    levels: number;
    bids: LadderLevel[];
    asks: LadderLevel[];
  } | null;
}
