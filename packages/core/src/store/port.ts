/**
 * The store port: what services need from the database, and nothing more. Two adapters
 * implement it, the embedded default (SQLite through node:sqlite) and ArangoDB (arangojs);
 * one contract test suite runs against each.
 *
 * Collections hold records keyed by their deterministic `key` (ArangoDB `_key`), so writing
 * a record again replaces it: at-least-once delivery plus idempotent writes gives each
 * record exactly once in the store.
 */
import type { Interval } from '../contracts/intervals.ts';
import type { DataRecord } from '../contracts/records.ts';
import type { WorkProgress } from '../contracts/telemetry-event.ts';
import type { PriceKlineKind } from '../contracts/workflow-type.ts';

export interface RejectedRecord {
  /** Where it was headed. */
  collection: string;
  queue_id: string;
  /** The record key if it had a usable one. */
  key?: string;
  reason: string;
  record: unknown;
}

/** A batch of a backfill page: page `page` of `pages`, part `part` of `parts`. */
export interface PageProgress {
  queue_id: string;
  page: number;
  pages: number;
  part: number;
  parts: number;
  /** Records this part carried (valid and rejected). */
  records: number;
}

export interface WriteBatchInput {
  collection: string;
  records: DataRecord[];
  /**
   * The records as JSON, index by index, when the caller already has it (it serialized them
   * faster than JSON.stringify could); an adapter that stores JSON may use it as is.
   */
  json?: string[];
  rejected?: RejectedRecord[];
  /** Recorded in the same transaction as the records, so progress is counted exactly once. */
  progress?: PageProgress;
}

export interface WorkflowProgress {
  queue_id: string;
  pagesDone: number;
  pagesTotal: number | undefined;
  /** Records of all parts written so far (each part counted once, however often delivered). */
  recordsWritten: number;
  rejected: number;
}

export interface WriteBatchResult {
  written: number;
  rejected: number;
  progress: WorkflowProgress | undefined;
}

export interface ListRecordsOptions {
  /** Only records whose key sorts after this one (keyset paging). */
  after?: string;
  limit: number;
}

export interface CollectionInfo {
  name: string;
  count: number;
}

/**
 * The candles a chart reads: trade candles (`SYMBOL:interval:` keys) or a futures price series
 * (`SYMBOL:mark:interval:`, `…:index:…`, `…:premium:…`), which has no volumes (summed as 0).
 */
export type CandleKind = 'klines' | PriceKlineKind;

/**
 * One candle series of a collection (its kind's key prefix), aggregated for a chart:
 * candles with open time in [from, to) grouped into buckets that open at
 * `bucketOffsetMs + k × bucketMs` (a whole multiple of the interval; 0 = one bucket per candle).
 */
export interface CandleQuery {
  symbol: string;
  interval: Interval;
  /** Which series of the symbol and interval; default `klines`. */
  kind?: CandleKind;
  from: number;
  to: number;
  bucketMs: number;
  bucketOffsetMs: number;
  /** Candles opening at or after this (ms) are not expected yet (not closed): no gap there. Default `to`. */
  expectedUntil?: number;
  /** At most this many gaps are listed, the earliest; the count of missing candles stays exact. */
  maxGaps: number;
}

/** A bucket: open of its first candle, highest high, lowest low, close of its last, sums. Numbers are doubles. */
export interface CandleBucket {
  /** The bucket's open time (ms). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quote_volume: number;
  trades: number;
  /** Stored candles in the bucket. */
  candles: number;
}

/** Expected candles that are not stored: open times in [from, to), `missing` of them. */
export interface CandleGap {
  from: number;
  to: number;
  missing: number;
}

export interface CandleAggregate {
  candles: CandleBucket[];
  gaps: CandleGap[];
  /** More gaps exist than `maxGaps`. */
  gaps_truncated: boolean;
  /** Candles stored in the range, and how many the interval expects there (up to expectedUntil). */
  stored: number;
  expected: number;
}

/**
 * Trades of one symbol (`SYMBOL:agg:` or `SYMBOL:trade:` keys) with `timestamp` in [from, to),
 * grouped into price candles: buckets open at `bucketOffsetMs + k × bucketMs` (bucketMs > 0).
 */
export interface TradeQuery {
  symbol: string;
  kind: 'agg' | 'trade';
  from: number;
  to: number;
  bucketMs: number;
  bucketOffsetMs: number;
}

/** Price of the first trade, highest, lowest, of the last; summed quantity, price × quantity, trades. */
export type TradeBucket = Omit<CandleBucket, 'candles'>;

export interface RecordStore {
  /** Creates the collection and its indexes if missing; idempotent. */
  ensureCollection(name: string): Promise<void>;
  /** Upserts records by key and stores rejects, atomically. */
  writeBatch(input: WriteBatchInput): Promise<WriteBatchResult>;
  countRecords(collection: string): Promise<number>;
  /** Records in key order. */
  listRecords(collection: string, options: ListRecordsOptions): Promise<DataRecord[]>;
  getRecord(collection: string, key: string): Promise<DataRecord | undefined>;
  /**
   * A kline series aggregated in the database (never every record through the process),
   * with the gaps of the series inside the range. An unknown collection gives nothing stored.
   */
  aggregateCandles(collection: string, query: CandleQuery): Promise<CandleAggregate>;
  /** A symbol's trades grouped into price candles in the database, in time order. */
  aggregateTrades(collection: string, query: TradeQuery): Promise<TradeBucket[]>;
  /** Times of a symbol's first and last stored trade (by id); undefined when it has none. */
  tradeExtent(
    collection: string,
    series: { symbol: string; kind: 'agg' | 'trade' },
  ): Promise<{ first: number; last: number } | undefined>;
  /** Open times of the first and last stored candle of a series; undefined when it has none. */
  candleExtent(
    collection: string,
    series: { symbol: string; interval: Interval; kind?: CandleKind },
  ): Promise<{ first: number; last: number } | undefined>;
  listCollections(): Promise<CollectionInfo[]>;
  workflowProgress(queueId: string): Promise<WorkflowProgress>;
  listRejected(queueId: string, limit: number): Promise<RejectedRecord[]>;
  /**
   * Counts page `page` of `pages` done for one stage of a workflow (e.g. `loader-api`
   * fetched it), once however often it is marked, and returns the stage's pages done so
   * far: instances that share a workflow's pages learn from it when the last one is done.
   * `bytes` is what the page moved (loader-producer: the archive file's size), summed once
   * per page like the pages, so a progress bar can show bytes too.
   */
  markPageDone(
    stage: string,
    queueId: string,
    page: number,
    pages: number,
    bytes?: number,
  ): Promise<{ done: number; total: number; bytes: number }>;
}

export const WORKFLOW_STATUSES = ['pending', 'running', 'completed', 'error', 'stopped'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

export interface ServiceProgress {
  status: string;
  records_written?: number;
  /** Records this service refused as impossible (in rejected_records with the reason). */
  rejected?: number;
  progress?: WorkProgress;
  message?: string;
  updated_at: number;
}

export interface WorkflowRecord {
  queue_id: string;
  symbol: string;
  symbols?: string[];
  type: string;
  market: string;
  time_range?: string;
  kafka_topic: string;
  collection_name: string;
  status: WorkflowStatus;
  /** Services that must report `finished` for the workflow to complete. */
  services: string[];
  progress: Record<string, ServiceProgress>;
  error?: string;
  params?: Record<string, unknown>;
  /** What was dead-lettered for this workflow, per service (the manager counts the dead-letter topics). */
  dead_letters?: Record<string, DeadLetterCount>;
  /**
   * When the workflow ends in `error` unless it moves first (ms): made of the type's
   * pending or no-progress timeout, renewed by every change telemetry brings.
   */
  deadline_at?: number;
  created_at: number;
  updated_at: number;
  /** Bumped by every update; updates name the version they read (optimistic concurrency). */
  version: number;
}

export interface DeadLetterCount {
  total: number;
  replayed: number;
  /** The reason of the latest one. */
  reason: string;
}

/**
 * An event a KafkaSource could not deliver, as the manager read it from a dead-letter topic:
 * the reason, whose work it was, and the event itself, so it can be replayed after a fix.
 */
export interface DeadLetter {
  /** Where it lies: `<dead-letter topic>:<partition>:<offset>`. */
  id: string;
  /** The workflow it belongs to (the event's subject); '' when it names none. */
  queue_id: string;
  /** The service that could not take it. */
  service: string;
  /** The topic it was read from, where a replay sends it back. */
  topic: string;
  reason: string;
  /** The HTTP status of the last attempt, when the service answered. */
  status?: number;
  dead_lettered_at: number;
  replayed_at?: number;
  /** The CloudEvent: attributes and extensions as strings, `data` as decoded (what a replay sends). */
  event: Record<string, unknown>;
}

export interface DeadLetterStore {
  /** Stores a dead letter; false when its id is already there (a redelivery). */
  recordDeadLetter(letter: DeadLetter): Promise<boolean>;
  getDeadLetter(id: string): Promise<DeadLetter | undefined>;
  /** In (dead_lettered_at, id) order, of one workflow or all, after `after` when given. */
  listDeadLetters(options: { queue_id?: string; limit: number; after?: EventPosition }): Promise<DeadLetter[]>;
  /** Per service of one workflow: how many, how many replayed, the latest reason. */
  countDeadLetters(queueId: string): Promise<Record<string, DeadLetterCount>>;
  /** Marks it replayed at `at`; false when it was already. */
  markReplayed(id: string, at: number): Promise<boolean>;
}

export interface StoredEvent {
  queue_id: string;
  /** The CloudEvent id, so a redelivered event is stored once. */
  event_id: string;
  received_at: number;
  event: Record<string, unknown>;
}

export interface ListWorkflowsOptions {
  status?: WorkflowStatus;
  limit: number;
  /** queue_ids created before this one (newest first paging). */
  before?: string;
}

export interface WorkflowStore {
  /** Fails with SF_CONFLICT when the queue_id exists. */
  createWorkflow(workflow: WorkflowRecord): Promise<void>;
  getWorkflow(queueId: string): Promise<WorkflowRecord | undefined>;
  listWorkflows(options: ListWorkflowsOptions): Promise<WorkflowRecord[]>;
  /**
   * Writes `next` if the stored version is still `next.version - 1`; returns false when
   * another writer got there first (read again and retry).
   */
  replaceWorkflow(next: WorkflowRecord): Promise<boolean>;
  /** Appends to the trail; false when this event id is already there. */
  appendEvent(event: StoredEvent): Promise<boolean>;
  /** The trail in (received_at, event_id) order, after `after` when given: events of one millisecond are never skipped. */
  listEvents(queueId: string, options: { limit: number; after?: EventPosition }): Promise<StoredEvent[]>;
}

/** Where a reader of a trail stands: the last event it read. */
export interface EventPosition {
  receivedAt: number;
  eventId: string;
}

/**
 * Graphs the graph builder makes: a graph set (`graph_id`, e.g. the workflow's collection
 * name) of windows, each a graph of symbols. A window's vertices carry features computed
 * from data inside the window only, and, apart from them, the label a model learns (from
 * data after the window); its edges are weighted and undirected (stored once, `from` < `to`
 * not required). ArangoDB keeps them in `<graph_id>_vertices` / `<graph_id>_edges` with a
 * named graph `<graph_id>`; SQLite in tables.
 */
export const GRAPH_SET_STATUSES = ['building', 'complete'] as const;
export type GraphSetStatus = (typeof GRAPH_SET_STATUSES)[number];

export interface GraphSet {
  graph_id: string;
  /** `building` while windows are written, `complete` once every window is. */
  status: GraphSetStatus;
  /** Windows 0 … windows − 1. Saving the set removes stored windows from `windows` on. */
  windows: number;
  /** Names of the vertex features, in the order of every vertex's `features`. */
  feature_names: string[];
  symbols: string[];
  /** What built it (type, interval, window, step, edges, time_range, queue_id, …). */
  params: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

/** What a model learns about a vertex, from data after its window only: never a feature. */
export interface GraphLabel {
  /** The class (next-window direction: 1 up, 0 down or flat). */
  class: number;
  /** The value the class was made from (the next-window log return). */
  value: number;
  /** When the label became known (ms); never before the window's end. */
  known_at: number;
}

export interface GraphVertex {
  symbol: string;
  features: number[];
  /** null when the data end before the label is known (the latest windows). */
  label: GraphLabel | null;
  attributes?: Record<string, unknown>;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Positive (e.g. |ρ|); the GCN's edge weight. */
  weight: number;
  attributes?: Record<string, unknown>;
}

export interface GraphWindow {
  graph_id: string;
  /** 0-based index within the set. */
  window: number;
  /** Open time of the window's first bar (ms). */
  start: number;
  /** End of the window (ms, exclusive): features and edges use no data from here on. */
  end: number;
  vertices: GraphVertex[];
  edges: GraphEdge[];
}

export interface StoredGraph {
  set: GraphSet;
  /** In window order; a window with no vertex is not stored. */
  windows: GraphWindow[];
}

export interface GraphStore {
  /** Creates or replaces the set's description; drops its stored windows from `set.windows` on. */
  saveGraphSet(set: GraphSet): Promise<void>;
  /** Replaces one window's vertices and edges, atomically (a smaller rebuild leaves nothing behind). */
  writeGraphWindow(window: GraphWindow): Promise<void>;
  getGraphSet(graphId: string): Promise<GraphSet | undefined>;
  /** The set and its windows (all, or one), vertices by symbol, edges by (from, to). */
  readGraph(graphId: string, options?: { window?: number }): Promise<StoredGraph | undefined>;
  listGraphs(): Promise<GraphSet[]>;
}

/**
 * The model registry: one record per trained version, pointing at its artifact in object
 * storage. A version is reserved (`training`, recorded with onlyIfAbsent) before it is
 * trained, so concurrent trainings of one model never share a version, then recorded
 * again as `ready` with its metadata.
 */
export const MODEL_STATUSES = ['training', 'ready'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export interface ModelRecord {
  model_id: string;
  /** 1, 2, … per model_id. */
  version: number;
  status: ModelStatus;
  /** Object-storage key of the ONNX model (its metadata.json sits beside it). */
  s3_key: string;
  /** The workflow that trained it. */
  queue_id?: string;
  /** metrics, hyperparameters, graph_id, data_range, …: the metadata.json document. */
  metadata: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

export interface ModelStore {
  /** Stores (model_id, version); with onlyIfAbsent only when new. Resolves whether it wrote. */
  recordModel(model: ModelRecord, options?: { onlyIfAbsent?: boolean }): Promise<boolean>;
  /** One version, or the highest `ready` version when `version` is left out. */
  getModel(modelId: string, version?: number): Promise<ModelRecord | undefined>;
  /** By model_id, each model's newest version first. */
  listModels(options: { model_id?: string; limit: number }): Promise<ModelRecord[]>;
}

export interface Store extends RecordStore, WorkflowStore, DeadLetterStore, GraphStore, ModelStore {
  /** What the adapter is, for logs and /health: `sqlite:/path` or `arangodb:http://…/db`. */
  readonly description: string;
  close(): Promise<void>;
}
