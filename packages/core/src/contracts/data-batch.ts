/**
 * A data event carries a batch of records of one kind and one symbol (up to a page, e.g.
 * 1000 candles): one HTTP delivery per record would cap throughput. The envelope is
 * validated here; each record is validated on its own by the connector, so one bad record
 * is set aside with its reason and the rest of the batch is stored.
 */
import { defineContract } from './validation.ts';
import { COLLECTION_NAME_PATTERN, QUEUE_ID_PATTERN, SYMBOL_PATTERN } from './ids.ts';
import { MARKETS, RECORD_KINDS, type Market, type RecordKind } from './workflow-type.ts';
import type { DataRecord } from './records.ts';

/**
 * Where a batch sits in a backfill: page `index` of `count` pages, part `part` of `parts`
 * (a page larger than one Kafka record may be, such as an hour of aggTrades, travels in
 * several parts; the connector counts the page once all are stored). Live streams have no page.
 */
export interface PageRef {
  index: number;
  count: number;
  part: number;
  parts: number;
}

/**
 * Exchange rows a batch may carry instead of records: the payload exactly as Binance sent it
 * (kline arrays, aggTrade objects, REST trade objects), which the connector turns into records. A loader then
 * forwards what it fetched without rebuilding it, and the batch is about half the size of
 * the same records spelled out — the bytes every later stage (Kafka, dispatch, parse) pays for.
 */
export const ROW_FORMATS = [
  'binance_kline',
  'binance_agg_trade',
  'binance_trade',
  // The futures series: kline rows of a price series (the batch's kind says which), fundingRate
  // items (REST objects or archive lines read as objects), metrics archive rows.
  'binance_price_kline',
  'binance_funding_rate',
  'binance_metrics',
] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export interface DataBatch<R extends DataRecord = DataRecord> {
  queue_id: string;
  symbol: string;
  market: Market;
  kind: RecordKind;
  interval?: string;
  collection_name: string;
  /** Where the rows came from: REST pages, public archive files, or a live stream. */
  source: 'api' | 'archive' | 'ws';
  telemetry_id?: string;
  page?: PageRef;
  /** The records, spelled out; or `rows` in a `row_format`. */
  records?: R[];
  rows?: unknown[];
  row_format?: RowFormat;
  [field: string]: unknown;
}

const index = { type: 'integer', minimum: 0 };
const positive = { type: 'integer', minimum: 1 };

export const dataBatchSchema = {
  $id: 'streamforge/data-batch.json',
  title: 'data batch',
  type: 'object',
  required: ['queue_id', 'symbol', 'market', 'kind', 'collection_name', 'source'],
  anyOf: [{ required: ['records'] }, { required: ['rows'] }],
  // Exactly one of the two, and rows always say their format.
  not: { required: ['records', 'rows'] },
  dependencies: { rows: ['row_format'] },
  properties: {
    queue_id: { type: 'string', pattern: QUEUE_ID_PATTERN },
    symbol: { type: 'string', pattern: SYMBOL_PATTERN },
    market: { enum: MARKETS },
    kind: { enum: RECORD_KINDS },
    interval: { type: 'string', pattern: '^[0-9]+[smhdwM]$' },
    collection_name: { type: 'string', pattern: COLLECTION_NAME_PATTERN },
    source: { enum: ['api', 'archive', 'ws'] },
    telemetry_id: { type: 'string' },
    page: {
      type: 'object',
      additionalProperties: false,
      required: ['index', 'count', 'part', 'parts'],
      properties: { index, count: positive, part: index, parts: positive },
    },
    records: { type: 'array', maxItems: 20_000, items: { type: 'object' } },
    rows: { type: 'array', maxItems: 20_000 },
    row_format: { enum: ROW_FORMATS },
  },
} as const;

export const dataBatchContract = defineContract<DataBatch>('data batch', dataBatchSchema);
