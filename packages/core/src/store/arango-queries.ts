/**
 * Every AQL query the ArangoDB adapter sends, in one place: the stand-in used by the tests
 * recognises exactly these (it keeps its own copy, so a changed query fails loudly there
 * until the stand-in learns it). Writes use the document API; queries only read, except
 * the compare-and-set of a workflow.
 *
 * Strings compare by ArangoDB's collation; record keys within one collection share their
 * `SYMBOL:interval:` or `SYMBOL:agg:` prefix and have fixed-width numbers, so key order is
 * the same as the byte order SQLite uses.
 */

/** Names of the store's own collections in ArangoDB. */
export const ARANGO_COLLECTIONS = {
  workflows: 'workflows',
  events: 'workflow_events',
  pages: 'workflow_pages',
  rejected: 'rejected_records',
  deadLetters: 'dead_letters',
  graphSets: 'graph_sets',
  models: 'models',
} as const;

/** A graph set's collections and named graph (arango-graphs.ts). */
export function graphCollections(graphId: string): { graph: string; vertices: string; edges: string } {
  return { graph: graphId, vertices: `${graphId}_vertices`, edges: `${graphId}_edges` };
}

export const AQL = {
  /** Keyset paging over the primary index (`_key` = record key). */
  listRecords: `FOR d IN @@collection
  FILTER d._key > @after
  SORT d._key
  LIMIT @limit
  RETURN UNSET(d, "_key", "_id", "_rev")`,

  /**
   * A kline series in buckets (aggregateCandles): the `by_open_time` index finds the range,
   * COLLECT groups it, the open and close come from each bucket's first and last candle.
   */
  candleBuckets: `FOR d IN @@collection
  FILTER d.open_time >= @from && d.open_time < @to
  FILTER d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix)
  COLLECT time = (@bucket == 0 ? d.open_time : d.open_time - ((d.open_time - @offset) % @bucket))
  AGGREGATE first = MIN(d.open_time), last = MAX(d.open_time), candles = SUM(1), high = MAX(TO_NUMBER(d.high)), low = MIN(TO_NUMBER(d.low)), volume = SUM(TO_NUMBER(d.volume)), quote_volume = SUM(TO_NUMBER(d.quote_asset_volume)), trades = SUM(d.number_of_trades)
  SORT time
  LET open = FIRST(FOR f IN @@collection FILTER f.open_time == first && f.symbol == @symbol && f.interval == @interval && STARTS_WITH(f._key, @prefix) LIMIT 1 RETURN TO_NUMBER(f.open))
  LET close = FIRST(FOR c IN @@collection FILTER c.open_time == last && c.symbol == @symbol && c.interval == @interval && STARTS_WITH(c._key, @prefix) LIMIT 1 RETURN TO_NUMBER(c.close))
  RETURN { time, first, last, candles, high, low, volume, quote_volume, trades, open, close }`,

  /** The first and last stored candle of a series (the filter on open_time lets the sparse index sort). */
  candleExtent: `LET first = FIRST(FOR d IN @@collection FILTER d.open_time >= 0 && d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix) SORT d.open_time ASC LIMIT 1 RETURN d.open_time)
LET last = FIRST(FOR d IN @@collection FILTER d.open_time >= 0 && d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix) SORT d.open_time DESC LIMIT 1 RETURN d.open_time)
RETURN { first, last }`,

  /** A symbol's trades in price candles (aggregateTrades): the `by_timestamp` index finds the range. */
  tradeBuckets: `FOR d IN @@collection
  FILTER d.timestamp >= @from && d.timestamp < @to
  FILTER d.symbol == @symbol && STARTS_WITH(d._key, @prefix)
  COLLECT time = d.timestamp - ((d.timestamp - @offset) % @bucket)
  AGGREGATE first = MIN(d._key), last = MAX(d._key), high = MAX(TO_NUMBER(d.price)), low = MIN(TO_NUMBER(d.price)), volume = SUM(TO_NUMBER(d.quantity)), quote_volume = SUM(TO_NUMBER(d.price) * TO_NUMBER(d.quantity)), trades = SUM(1)
  SORT time
  RETURN { time, high, low, volume, quote_volume, trades, open: TO_NUMBER(DOCUMENT(@name, first).price), close: TO_NUMBER(DOCUMENT(@name, last).price) }`,

  /** The times of a symbol's first and last trade, by key (the primary index). */
  tradeExtent: `LET first = FIRST(FOR d IN @@collection FILTER d._key >= @low && d._key < @high SORT d._key ASC LIMIT 1 RETURN d.timestamp)
LET last = FIRST(FOR d IN @@collection FILTER d._key >= @low && d._key < @high SORT d._key DESC LIMIT 1 RETURN d.timestamp)
RETURN { first, last }`,

  /** Stored candles more than @step apart inside each span (buckets with holes): the previous one by WINDOW. */
  candleJumps: `FOR span IN @spans
  FOR j IN (
    FOR d IN @@collection
      FILTER d.open_time >= span.from && d.open_time < span.to
      FILTER d.symbol == @symbol && d.interval == @interval && STARTS_WITH(d._key, @prefix)
      SORT d.open_time
      WINDOW { preceding: 1, following: 0 } AGGREGATE prev = MIN(d.open_time)
      FILTER d.open_time - prev > @step
      RETURN { after: prev, before: d.open_time }
  )
  RETURN j`,

  /** Pages whose every part is stored, the page count, records of all parts, and rejects. */
  workflowProgress: `LET parts = (FOR p IN workflow_pages FILTER p.queue_id == @queue_id RETURN { page: p.page, pages: p.pages, parts: p.parts, records: p.records })
LET done = (FOR part IN parts COLLECT page = part.page, needed = part.parts WITH COUNT INTO stored FILTER stored >= needed RETURN page)
LET rejected = (FOR r IN rejected_records FILTER r.queue_id == @queue_id RETURN 1)
RETURN { pagesDone: LENGTH(done), pagesTotal: MAX(parts[*].pages), recordsWritten: SUM(parts[*].records), rejected: LENGTH(rejected) }`,

  listRejected: `FOR r IN rejected_records
  FILTER r.queue_id == @queue_id
  SORT r.rejected_at, r.position
  LIMIT @limit
  RETURN { collection: r.collection, queue_id: r.queue_id, key: r.key, reason: r.reason, record: r.record }`,

  /** Newest first; `@before_at`/`@before` is the (created_at, queue_id) paging bound. */
  listWorkflows: `FOR w IN workflows
  FILTER w.created_at < @before_at || (w.created_at == @before_at && w.queue_id < @before)
  SORT w.created_at DESC, w.queue_id DESC
  LIMIT @limit
  RETURN UNSET(w, "_key", "_id", "_rev")`,

  listWorkflowsByStatus: `FOR w IN workflows
  FILTER w.status == @status
  FILTER w.created_at < @before_at || (w.created_at == @before_at && w.queue_id < @before)
  SORT w.created_at DESC, w.queue_id DESC
  LIMIT @limit
  RETURN UNSET(w, "_key", "_id", "_rev")`,

  /**
   * Compare-and-set: replaces only the version read. A concurrent writer of the same
   * document makes one of the two fail with a write-write conflict (1200), never both win.
   */
  replaceWorkflow: `FOR w IN workflows
  FILTER w._key == @key && w.version == @expected
  REPLACE w WITH @workflow IN workflows
  RETURN true`,

  listEvents: `FOR e IN workflow_events
  FILTER e.queue_id == @queue_id && (e.received_at > @after || (e.received_at == @after && e.event_id > @after_id))
  SORT e.received_at, e.event_id
  LIMIT @limit
  RETURN { queue_id: e.queue_id, event_id: e.event_id, received_at: e.received_at, event: e.event }`,

  /** Of one workflow (@queue_id) or all (null), after the (dead_lettered_at, id) cursor. */
  listDeadLetters: `FOR d IN dead_letters
  FILTER (@queue_id == null || d.queue_id == @queue_id) && (d.dead_lettered_at > @after || (d.dead_lettered_at == @after && d.id > @after_id))
  SORT d.dead_lettered_at, d.id
  LIMIT @limit
  RETURN UNSET(d, "_key", "_id", "_rev")`,

  /** Per service: how many, how many replayed, and the latest reason (objects sort by `at` first). */
  countDeadLetters: `FOR d IN dead_letters
  FILTER d.queue_id == @queue_id
  COLLECT service = d.service INTO letters = { at: d.dead_lettered_at, id: d.id, reason: d.reason, replayed: d.replayed_at != null }
  RETURN { service, total: LENGTH(letters), replayed: LENGTH(letters[* FILTER CURRENT.replayed]), reason: LAST(SORTED(letters)).reason }`,

  markReplayed: `FOR d IN dead_letters
  FILTER d._key == @key && d.replayed_at == null
  REPLACE d WITH MERGE(d, { replayed_at: @at }) IN dead_letters
  RETURN true`,

  /** Drops one window's vertices or edges (inside the transaction that writes it again). */
  removeWindow: `FOR d IN @@collection
  FILTER d.window == @window
  REMOVE d IN @@collection`,

  /** Drops the windows a smaller graph set no longer has. */
  removeWindowsFrom: `FOR d IN @@collection
  FILTER d.window >= @windows
  REMOVE d IN @@collection`,

  /** A graph's vertices, all windows (@window null) or one. */
  graphVertices: `FOR v IN @@collection
  FILTER @window == null || v.window == @window
  SORT v.window, v.symbol
  RETURN UNSET(v, "_key", "_id", "_rev")`,

  graphEdges: `FOR e IN @@collection
  FILTER @window == null || e.window == @window
  SORT e.window, e.from, e.to
  RETURN UNSET(e, "_key", "_id", "_rev", "_from", "_to")`,

  listGraphSets: `FOR s IN graph_sets
  SORT s.graph_id
  RETURN UNSET(s, "_key", "_id", "_rev")`,

  latestReadyModel: `FOR m IN models
  FILTER m.model_id == @model_id && m.status == "ready"
  SORT m.version DESC
  LIMIT 1
  RETURN UNSET(m, "_key", "_id", "_rev")`,

  /** Every model (@model_id null) or one, each model's newest version first. */
  listModels: `FOR m IN models
  FILTER @model_id == null || m.model_id == @model_id
  SORT m.model_id, m.version DESC
  LIMIT @limit
  RETURN UNSET(m, "_key", "_id", "_rev")`,
} as const;

/** Persistent indexes, by collection; record collections get RECORD_INDEXES. */
export const ARANGO_INDEXES: Record<string, Array<{ name: string; fields: string[]; sparse?: boolean }>> = {
  workflows: [
    { name: 'by_status_created', fields: ['status', 'created_at', 'queue_id'] },
    { name: 'by_created', fields: ['created_at', 'queue_id'] },
  ],
  workflow_events: [{ name: 'by_queue_received', fields: ['queue_id', 'received_at', 'event_id'] }],
  dead_letters: [
    { name: 'by_time', fields: ['dead_lettered_at', 'id'] },
    { name: 'by_queue_time', fields: ['queue_id', 'dead_lettered_at', 'id'] },
  ],
  workflow_pages: [{ name: 'by_queue_page', fields: ['queue_id', 'page'] }],
  rejected_records: [{ name: 'by_queue_rejected', fields: ['queue_id', 'rejected_at', 'position'] }],
  models: [{ name: 'by_model_version', fields: ['model_id', 'version'] }],
};

/** A graph's vertex and edge collections are read and replaced by window. */
export const GRAPH_INDEXES = [{ name: 'by_window', fields: ['window'] }];

/** Time lookups of candles (`open_time`) and trades (`timestamp`); sparse, so a kind without the field costs nothing. */
export const RECORD_INDEXES = [
  { name: 'by_open_time', fields: ['open_time'], sparse: true },
  { name: 'by_timestamp', fields: ['timestamp'], sparse: true },
];
