/**
 * The SQLite layout. Record collections are tables named through a registry
 * (`collections`), because SQLite table names are case-insensitive while collection names
 * (as ArangoDB's) are not: `BTC` and `btc` get two tables. The registry also keeps
 * listCollections to record collections, whatever else the file holds.
 *
 * Record tables are rowid tables with a UNIQUE key: count(*) then reads the small key index
 * instead of every document (a WITHOUT ROWID table inserts ~10% faster but counts by
 * scanning all of its pages; bench/store.ts measures the insert rate).
 */

/** Set on every connection. Page size only takes effect on a new file (before WAL). */
export const CONNECTION_PRAGMAS = [
  // 16 KiB pages: ~40 klines a page, fewer B-tree splits; measured +15–20% inserts over 4 KiB.
  'PRAGMA page_size = 16384',
  'PRAGMA synchronous = NORMAL',
  // Checkpoint every 4000 pages (64 MiB) rather than 1000, and trim the WAL back afterwards.
  'PRAGMA wal_autocheckpoint = 4000',
  'PRAGMA journal_size_limit = 67108864',
  'PRAGMA cache_size = -16384',
  'PRAGMA foreign_keys = OFF',
] as const;

/**
 * `PRAGMA user_version` of a file with this layout. 2 added the graph and model tables, 3 the
 * dead letters, 4 the candle index of klines tables (candleIndexDdl); the schema is all
 * `IF NOT EXISTS`, so running it on a version-1 file is the migration.
 */
export const SCHEMA_VERSION = 4;

/** Created once per file, in one write transaction (IF NOT EXISTS: several processes open the same file). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS collections (
  name TEXT PRIMARY KEY,
  table_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected_records (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  queue_id TEXT NOT NULL,
  collection TEXT NOT NULL,
  key TEXT,
  reason TEXT NOT NULL,
  record TEXT NOT NULL,
  rejected_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS _rejected_records_by_queue ON rejected_records (queue_id, seq);
CREATE TABLE IF NOT EXISTS workflow_pages (
  queue_id TEXT NOT NULL,
  page INTEGER NOT NULL,
  part INTEGER NOT NULL,
  pages INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  records INTEGER NOT NULL,
  PRIMARY KEY (queue_id, page, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workflow_progress (
  queue_id TEXT PRIMARY KEY,
  pages_total INTEGER,
  pages_done INTEGER NOT NULL,
  records_written INTEGER NOT NULL,
  rejected INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workflows (
  queue_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS _workflows_by_created ON workflows (created_at, queue_id);
CREATE INDEX IF NOT EXISTS _workflows_by_status ON workflows (status, created_at, queue_id);
CREATE TABLE IF NOT EXISTS workflow_events (
  queue_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (queue_id, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS _workflow_events_by_time ON workflow_events (queue_id, received_at, event_id);
CREATE TABLE IF NOT EXISTS dead_letters (
  id TEXT PRIMARY KEY,
  queue_id TEXT NOT NULL,
  service TEXT NOT NULL,
  dead_lettered_at INTEGER NOT NULL,
  replayed_at INTEGER,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS _dead_letters_by_time ON dead_letters (dead_lettered_at, id);
CREATE INDEX IF NOT EXISTS _dead_letters_by_queue ON dead_letters (queue_id, dead_lettered_at, id);
CREATE TABLE IF NOT EXISTS graph_sets (
  graph_id TEXT PRIMARY KEY,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph_vertices (
  graph_id TEXT NOT NULL,
  window_index INTEGER NOT NULL,
  symbol TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (graph_id, window_index, symbol)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph_edges (
  graph_id TEXT NOT NULL,
  window_index INTEGER NOT NULL,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (graph_id, window_index, source, target)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
  model_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (model_id, version)
) WITHOUT ROWID;
`;

/** Identifiers are quoted; collection names are `^[a-zA-Z][a-zA-Z0-9_-]*$`, so they never hold a quote. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function recordTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (key TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)`;
}

/**
 * A kline's numbers as a chart reads them. SQLite reads an expression from an index only when
 * the query spells it exactly as the index does, so the candle index and the candle queries
 * (sqlite-candles.ts) both take them from here.
 */
export const CANDLE_NUMBERS = {
  open: `CAST(doc ->> 'open' AS REAL)`,
  high: `CAST(doc ->> 'high' AS REAL)`,
  low: `CAST(doc ->> 'low' AS REAL)`,
  close: `CAST(doc ->> 'close' AS REAL)`,
  volume: `CAST(doc ->> 'volume' AS REAL)`,
  quote_volume: `CAST(doc ->> 'quote_asset_volume' AS REAL)`,
  trades: `doc ->> 'number_of_trades'`,
} as const;

/**
 * The candle index of a klines table: the key with a kline's numbers, so a chart's query reads
 * the index alone and never parses a document (a year of 1m: 1.0 s → 0.1 s). It costs the
 * writes of klines tables only: one more B-tree entry of ~90 bytes a candle, and the numbers
 * extracted from the JSON at each insert (about half the raw insert rate, docs/console.md).
 */
export function candleIndexDdl(table: string): string {
  const numbers = Object.values(CANDLE_NUMBERS).join(', ');
  return `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`_${table}_candles`)} ON ${quoteIdentifier(table)} (key, ${numbers})`;
}

/**
 * Whether a record is a kline, the records the candle index is for: trade candles and the
 * futures price candles (mark, index, premium) alike. A price candle has no volumes, so its
 * entry holds three NULLs (a byte each in the record header): one index serves both kinds.
 */
export function isKlineDoc(record: Record<string, unknown>): boolean {
  return typeof record.interval === 'string' && typeof record.open_time === 'number';
}

/**
 * Upsert of `rows` records in one statement: multi-row VALUES saves a native call and a
 * statement step per record (~+10% fresh, +35% rewriting). A rewrite with the same JSON
 * changes nothing (`WHERE doc IS NOT excluded.doc`), so a redelivered batch dirties no page.
 */
export function upsertSql(table: string, rows: number): string {
  const values = Array.from({ length: rows }, () => '(?, ?)').join(', ');
  return `INSERT INTO ${quoteIdentifier(table)} (key, doc) VALUES ${values} ON CONFLICT (key) DO UPDATE SET doc = excluded.doc WHERE doc IS NOT excluded.doc`;
}
