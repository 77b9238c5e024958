/**
 * Lines of an archive CSV as the rows the REST API answers for the same range (docs/binance.md,
 * public data files), so a consumer cannot tell the two paths apart: klines as REST kline rows
 * (numbers for times and trade count, strings as written for the rest, the Ignore column
 * kept), aggTrades as REST objects (`M` on spot only: USD-M files and answers have none), raw
 * trades as historicalTrades objects (spot lines: id, price, qty, quoteQty, time, isBuyerMaker,
 * isBestMatch; USD-M lines drop isBestMatch, as USD-M answers do).
 * Quirks read: futures (USD-M, COIN-M) files open with a header row and read like each other; spot writes `True`/`False`, USD-M
 * `true`/`false`; spot files from 2025 on write times in microseconds, which become
 * milliseconds by integer division, as REST gives them.
 */
import {
  METRICS_FIELDS,
  type AggTrade,
  type ArchivedFundingRate,
  type KlineRow,
  type MetricsRow,
  type RawTrade,
} from '@streamforge/core/contracts';
import {
  archivePeriodEnd,
  archiveUsesMicroseconds,
  isIntervalArchiveKind,
  type ArchiveFileRef,
  type IntervalArchiveKind,
} from './archive-paths.ts';

export type ArchiveRow = KlineRow | AggTrade | RawTrade | ArchivedFundingRate | MetricsRow;

/** The time a row is placed by: a candle's open, a trade's time, a settlement, a metrics row's creation. */
export function archiveRowTime(row: ArchiveRow): number {
  if (Array.isArray(row)) return row[0];
  if ('T' in row) return row.T;
  if ('fundingTime' in row) return row.fundingTime;
  if ('create_time' in row) return row.create_time;
  return row.time;
}

/** `2024-01-01 00:05:00`, UTC, as the metrics files write `create_time`. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** A metrics line: `create_time`, `symbol`, then the values. */
const METRICS_COLUMNS = 2 + METRICS_FIELDS.length;

const DECIMAL = /^-?\d+(?:\.\d+)?$/;
const INTEGER = /^\d{1,16}$/;
const BOOLEANS = new Map([
  ['True', true],
  ['False', false],
  ['true', true],
  ['false', false],
]);

/** Where each kind's lines hold their time, in the columns `parse` reads it from below. */
const TIME_COLUMNS: Record<'klines' | Exclude<ArchiveFileRef['kind'], IntervalArchiveKind>, number | undefined> = {
  klines: 0,
  aggTrades: 5,
  trades: 4,
  fundingRate: 0,
  metrics: undefined,
};

/** A line that does not read; the reader adds the file and line number. */
export class ArchiveLineError extends Error {}

/** Parses the lines of one file, in order (it counts them, to skip a header row only on the first). */
export class ArchiveLineParser {
  readonly #file: ArchiveFileRef;
  readonly #micro: boolean;
  readonly #end: number;
  /** The column of the time a row is placed by, where it is a plain integer (metrics write a date-time). */
  readonly #timeColumn: number | undefined;
  #line = 0;

  constructor(file: ArchiveFileRef) {
    this.#file = file;
    this.#micro = archiveUsesMicroseconds(file);
    this.#end = archivePeriodEnd(file);
    this.#timeColumn = TIME_COLUMNS[isIntervalArchiveKind(file.kind) ? 'klines' : file.kind];
  }

  /**
   * The row of the next line, or undefined for the header row (a first line whose first field
   * is not a number) and, with `skipBefore`, for a line whose time reads as before it: such a
   * line is skipped without checking its other fields (a reader of part of a file answers for
   * its own rows only, and splitting a line costs more than finding one field).
   */
  parse(line: string, skipBefore?: number): ArchiveRow | undefined {
    this.#line += 1;
    // A header row's time column reads as no time, so it is never skipped here; nor is a time
    // before the file's period (a wrong unit or a wrong file), which the full parse refuses.
    if (skipBefore !== undefined && this.#timeColumn !== undefined) {
      const time = this.#cellTime(line, this.#timeColumn);
      if (time !== undefined && time >= this.#file.start && time < skipBefore) return undefined;
    }
    const cells = line.split(',');
    if (this.#line === 1 && !/^\d/.test(cells[0]!)) return undefined;
    if (isIntervalArchiveKind(this.#file.kind)) return this.#kline(cells);
    if (this.#file.kind === 'fundingRate') return this.#fundingRate(cells);
    if (this.#file.kind === 'metrics') return this.#metrics(line, cells);
    return this.#file.kind === 'aggTrades' ? this.#aggTrade(cells) : this.#trade(cells);
  }

  /** Column `column` of a line as a time in ms, or undefined if it does not read as one (the full parse then says why). */
  #cellTime(line: string, column: number): number | undefined {
    let from = 0;
    for (let i = 0; i < column; i++) {
      from = line.indexOf(',', from) + 1;
      if (from === 0) return undefined;
    }
    const to = line.indexOf(',', from);
    return this.#ms(to < 0 ? line.slice(from) : line.slice(from, to));
  }

  /** A time cell in ms (the file's unit converted), or undefined if it is not an integer. */
  #ms(cell: string): number | undefined {
    if (!INTEGER.test(cell)) return undefined;
    return this.#micro ? Math.floor(Number(cell) / 1000) : Number(cell);
  }

  #time(cell: string, name: string): number {
    const ms = this.#ms(cell);
    if (ms === undefined) throw new ArchiveLineError(`${name}: ${JSON.stringify(cell)} is not a timestamp`);
    return ms;
  }

  /** Times outside the file's period mean a wrong unit or a wrong file, not data to store. */
  #inPeriod(time: number, name: string): void {
    if (time < this.#file.start || time >= this.#end)
      throw new ArchiveLineError(
        `${name}: ${new Date(time).toISOString()} is outside the file's period (times in ${this.#micro ? 'µs' : 'ms'})`,
      );
  }

  #kline(c: string[]): KlineRow {
    if (c.length !== 12) throw new ArchiveLineError(`${c.length} fields, a kline has 12`);
    const openTime = this.#time(c[0]!, 'open_time');
    this.#inPeriod(openTime, 'open_time');
    const closeTime = this.#time(c[6]!, 'close_time');
    if (closeTime < openTime) throw new ArchiveLineError(`close_time: ${c[6]} is before open_time ${c[0]}`);
    for (const i of [1, 2, 3, 4, 5, 7, 9, 10])
      if (!DECIMAL.test(c[i]!)) throw new ArchiveLineError(`field ${i + 1}: ${JSON.stringify(c[i])} is not a decimal`);
    if (!INTEGER.test(c[8]!)) throw new ArchiveLineError(`count: ${JSON.stringify(c[8])} is not a trade count`);
    return [openTime, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, closeTime, c[7]!, Number(c[8]), c[9]!, c[10]!, c[11]!];
  }

  #aggTrade(c: string[]): AggTrade {
    const spot = this.#file.market === 'spot';
    const fields = spot ? 8 : 7;
    if (c.length !== fields)
      throw new ArchiveLineError(`${c.length} fields, a ${spot ? 'spot' : 'futures'} aggTrade has ${fields}`);
    for (const [i, name] of [
      [0, 'agg_trade_id'],
      [3, 'first_trade_id'],
      [4, 'last_trade_id'],
    ] as const)
      if (!INTEGER.test(c[i]!)) throw new ArchiveLineError(`${name}: ${JSON.stringify(c[i])} is not an id`);
    for (const [i, name] of [
      [1, 'price'],
      [2, 'quantity'],
    ] as const)
      if (!DECIMAL.test(c[i]!)) throw new ArchiveLineError(`${name}: ${JSON.stringify(c[i])} is not a decimal`);
    const time = this.#time(c[5]!, 'transact_time');
    this.#inPeriod(time, 'transact_time');
    const trade: AggTrade = {
      a: Number(c[0]),
      p: c[1]!,
      q: c[2]!,
      f: Number(c[3]),
      l: Number(c[4]),
      T: time,
      m: this.#bool(c[6]!, 'is_buyer_maker'),
    };
    if (spot) trade.M = this.#bool(c[7]!, 'is_best_match');
    return trade;
  }

  #trade(c: string[]): RawTrade {
    const spot = this.#file.market === 'spot';
    const fields = spot ? 7 : 6;
    if (c.length !== fields)
      throw new ArchiveLineError(`${c.length} fields, a ${spot ? 'spot' : 'futures'} trade has ${fields}`);
    if (!INTEGER.test(c[0]!)) throw new ArchiveLineError(`id: ${JSON.stringify(c[0])} is not an id`);
    for (const [i, name] of [
      [1, 'price'],
      [2, 'qty'],
      [3, 'quote_qty'],
    ] as const)
      if (!DECIMAL.test(c[i]!)) throw new ArchiveLineError(`${name}: ${JSON.stringify(c[i])} is not a decimal`);
    const time = this.#time(c[4]!, 'time');
    this.#inPeriod(time, 'time');
    const trade: RawTrade = {
      id: Number(c[0]),
      price: c[1]!,
      qty: c[2]!,
      quoteQty: c[3]!,
      time,
      isBuyerMaker: this.#bool(c[5]!, 'is_buyer_maker'),
    };
    if (spot) trade.isBestMatch = this.#bool(c[6]!, 'is_best_match');
    return trade;
  }

  /** `calc_time,funding_interval_hours,last_funding_rate`: the REST item's time and rate, no mark price. */
  #fundingRate(c: string[]): ArchivedFundingRate {
    if (c.length !== 3) throw new ArchiveLineError(`${c.length} fields, a funding rate has 3`);
    const time = this.#time(c[0]!, 'calc_time');
    this.#inPeriod(time, 'calc_time');
    // 1 to 24, as the funding rate record allows: a 0 or 99 would fail only later, at the store.
    if (!/^\d{1,2}$/.test(c[1]!) || Number(c[1]) < 1 || Number(c[1]) > 24)
      throw new ArchiveLineError(
        `funding_interval_hours: ${JSON.stringify(c[1])} is not a number of hours from 1 to 24`,
      );
    if (!DECIMAL.test(c[2]!)) throw new ArchiveLineError(`last_funding_rate: ${JSON.stringify(c[2])} is not a decimal`);
    return { fundingTime: time, fundingRate: c[2]!, fundingIntervalHours: Number(c[1]) };
  }

  /** A metrics line: its `create_time` (UTC date-time) in ms, the symbol checked, the values as written. */
  #metrics(line: string, c: string[]): MetricsRow {
    if (c.length !== METRICS_COLUMNS)
      throw new ArchiveLineError(`${c.length} fields, a metrics row has ${METRICS_COLUMNS}`);
    const m = DATE_TIME.exec(c[0]!);
    if (m === null) throw new ArchiveLineError(`create_time: ${JSON.stringify(c[0])} is not a date-time`);
    const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
    const time = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
    // A row stamped at the next midnight (the day's last 5 minutes) may close a file: accepted, its page places it.
    if (time < this.#file.start || time > this.#end)
      throw new ArchiveLineError(`create_time: ${c[0]} is outside the file's day`);
    if (c[1] !== this.#file.symbol)
      throw new ArchiveLineError(
        `symbol: ${JSON.stringify(c[1])} in a file of ${this.#file.symbol} (${line.slice(0, 40)})`,
      );
    const fields = c.slice(2);
    for (const [i, value] of fields.entries())
      if (!DECIMAL.test(value)) throw new ArchiveLineError(`field ${i + 3}: ${JSON.stringify(value)} is not a decimal`);
    // create_time first, then the values in the file's order: the row's JSON is what the page publishes.
    const row = { create_time: time } as MetricsRow;
    for (const [i, field] of METRICS_FIELDS.entries()) row[field] = fields[i]!;
    return row;
  }

  #bool(cell: string, name: string): boolean {
    const value = BOOLEANS.get(cell);
    if (value === undefined) throw new ArchiveLineError(`${name}: ${JSON.stringify(cell)} is not a boolean`);
    return value;
  }
}
