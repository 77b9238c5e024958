/**
 * Turns the exchange rows of a data batch into records (see ROW_FORMATS in data-batch.ts).
 * A row that does not have Binance's layout is reported with the reason, not guessed at.
 */
import {
  METRICS_FIELDS,
  type ArchivedFundingRate,
  type FundingRate,
  type MetricsRow,
  type RawTrade,
} from './binance-contract.ts';
import type { DataBatch } from './data-batch.ts';
import { isInterval } from './intervals.ts';
import {
  aggTradeFromBinance,
  fundingRateKey,
  metricsKey,
  priceKlineFromRow,
  klineFromRow,
  tradeFromBinance,
  type BinanceAggTrade,
  type BinanceKlineRow,
  type DataRecord,
  type FundingRateRecord,
  type MetricsRecord,
} from './records.ts';
import { isPriceKlineKind } from './workflow-type.ts';

export interface ExpandedRows {
  records: DataRecord[];
  invalid: Array<{ row: unknown; reason: string }>;
}

/** Binance's kline row, field by field: numbers for times and trade count, strings for prices and volumes (the 12th, "ignore", is not read). */
export const KLINE_FIELD_TYPES = [
  'number',
  'string',
  'string',
  'string',
  'string',
  'string',
  'number',
  'string',
  'number',
  'string',
  'string',
] as const;

function klineRowProblem(row: unknown): string | undefined {
  if (!Array.isArray(row)) return 'a kline row must be an array';
  if (row.length < KLINE_FIELD_TYPES.length)
    return `a kline row has ${KLINE_FIELD_TYPES.length} or more fields, got ${row.length}`;
  for (let i = 0; i < KLINE_FIELD_TYPES.length; i++) {
    if (typeof row[i] !== KLINE_FIELD_TYPES[i])
      return `kline field ${i} must be a ${KLINE_FIELD_TYPES[i]}, got ${JSON.stringify(row[i])}`;
  }
  return undefined;
}

function aggTradeProblem(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'an aggTrade row must be an object';
  const t = row as Record<string, unknown>;
  for (const [field, type] of [
    ['a', 'number'],
    ['p', 'string'],
    ['q', 'string'],
    ['f', 'number'],
    ['l', 'number'],
    ['T', 'number'],
    ['m', 'boolean'],
  ] as const) {
    if (typeof t[field] !== type) return `aggTrade field ${field} must be a ${type}, got ${JSON.stringify(t[field])}`;
  }
  return undefined;
}

/** The fields a trade record reads from a REST trade; `quoteQty` and `isBestMatch` may be there, and are not stored. */
function tradeProblem(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'a trade row must be an object';
  const t = row as Record<string, unknown>;
  for (const [field, type] of [
    ['id', 'number'],
    ['price', 'string'],
    ['qty', 'string'],
    ['time', 'number'],
    ['isBuyerMaker', 'boolean'],
  ] as const) {
    if (typeof t[field] !== type) return `trade field ${field} must be a ${type}, got ${JSON.stringify(t[field])}`;
  }
  return undefined;
}

/** A fundingRate item of either source: REST (`symbol`, `markPrice`) or an archive line (`fundingIntervalHours`). */
function fundingRateProblem(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'a funding rate row must be an object';
  const t = row as Record<string, unknown>;
  if (typeof t.fundingTime !== 'number')
    return `funding rate field fundingTime must be a number, got ${JSON.stringify(t.fundingTime)}`;
  if (typeof t.fundingRate !== 'string')
    return `funding rate field fundingRate must be a string, got ${JSON.stringify(t.fundingRate)}`;
  if (t.markPrice !== undefined && typeof t.markPrice !== 'string')
    return `funding rate field markPrice must be a string, got ${JSON.stringify(t.markPrice)}`;
  if (t.fundingIntervalHours !== undefined && typeof t.fundingIntervalHours !== 'number')
    return `funding rate field fundingIntervalHours must be a number, got ${JSON.stringify(t.fundingIntervalHours)}`;
  return undefined;
}

export function fundingRateFromRow(symbol: string, row: FundingRate | ArchivedFundingRate): FundingRateRecord {
  const rest = row as Partial<FundingRate>;
  const archived = row as Partial<ArchivedFundingRate>;
  return {
    key: fundingRateKey(symbol, row.fundingTime),
    symbol,
    funding_time: row.fundingTime,
    funding_rate: row.fundingRate,
    // Binance answers an empty markPrice for some old settlements (unverified): nothing to store then.
    ...(rest.markPrice ? { mark_price: rest.markPrice } : {}),
    ...(archived.fundingIntervalHours === undefined ? {} : { funding_interval_hours: archived.fundingIntervalHours }),
  };
}

function metricsProblem(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'a metrics row must be an object';
  const t = row as Record<string, unknown>;
  if (typeof t.create_time !== 'number')
    return `metrics field create_time must be a number, got ${JSON.stringify(t.create_time)}`;
  for (const field of METRICS_FIELDS)
    if (typeof t[field] !== 'string') return `metrics field ${field} must be a string, got ${JSON.stringify(t[field])}`;
  return undefined;
}

export function metricsFromRow(symbol: string, row: MetricsRow): MetricsRecord {
  return { key: metricsKey(symbol, row.create_time), symbol, ...row };
}

export function expandRows(batch: DataBatch): ExpandedRows {
  const records: DataRecord[] = [];
  const invalid: ExpandedRows['invalid'] = [];
  const rows = batch.rows ?? [];
  if (batch.row_format === 'binance_kline') {
    const interval = batch.interval;
    if (interval === undefined || !isInterval(interval)) {
      for (const row of rows)
        invalid.push({ row, reason: `interval: kline rows need the batch interval, got ${JSON.stringify(interval)}` });
      return { records, invalid };
    }
    for (const row of rows) {
      const problem = klineRowProblem(row);
      if (problem) invalid.push({ row, reason: problem });
      else records.push(klineFromRow(batch.symbol, interval, row as BinanceKlineRow));
    }
  } else if (batch.row_format === 'binance_price_kline') {
    const { interval, kind } = batch;
    if (interval === undefined || !isInterval(interval) || !isPriceKlineKind(kind)) {
      for (const row of rows)
        invalid.push({
          row,
          reason: `price kline rows need a price series kind and the batch interval, got ${JSON.stringify(kind)} and ${JSON.stringify(interval)}`,
        });
      return { records, invalid };
    }
    for (const row of rows) {
      const problem = klineRowProblem(row);
      if (problem) invalid.push({ row, reason: problem });
      else records.push(priceKlineFromRow(kind, batch.symbol, interval, row as BinanceKlineRow));
    }
  } else if (batch.row_format === 'binance_funding_rate') {
    for (const row of rows) {
      const problem = fundingRateProblem(row);
      if (problem) invalid.push({ row, reason: problem });
      else records.push(fundingRateFromRow(batch.symbol, row as FundingRate));
    }
  } else if (batch.row_format === 'binance_metrics') {
    for (const row of rows) {
      const problem = metricsProblem(row);
      if (problem) invalid.push({ row, reason: problem });
      else records.push(metricsFromRow(batch.symbol, row as MetricsRow));
    }
  } else if (batch.row_format === 'binance_agg_trade') {
    for (const row of rows) {
      const problem = aggTradeProblem(row);
      if (problem) invalid.push({ row, reason: problem });
      else records.push(aggTradeFromBinance(batch.symbol, row as BinanceAggTrade));
    }
  } else if (batch.row_format === 'binance_trade') {
    for (const row of rows) {
      const problem = tradeProblem(row);
      if (problem) invalid.push({ row, reason: problem });
      else records.push(tradeFromBinance(batch.symbol, row as RawTrade));
    }
  } else {
    for (const row of rows)
      invalid.push({ row, reason: `row_format: ${JSON.stringify(batch.row_format)} is not known` });
  }
  return { records, invalid };
}

/** How many records a batch carries, whichever way it carries them. */
export function batchSize(batch: DataBatch): number {
  return (batch.records ?? batch.rows ?? []).length;
}
