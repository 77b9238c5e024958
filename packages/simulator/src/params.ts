/**
 * Query-string validation of the exchange simulator with Binance's error codes and wording
 * (docs/binance.md, errors): -1100 illegal characters (naming the parameter and its legal
 * range), -1101 duplicate values, -1102 mandatory parameter missing, -1104 parameters sent
 * but not read, -1130 invalid value.
 */
import type { BinanceErrorBody } from '@streamforge/core/contracts';

/** A request Binance refuses: HTTP status plus its `{code,msg}` body. */
export class BinanceRejection extends Error {
  readonly status: number;
  readonly code: number;

  constructor(code: number, msg: string, status = 400) {
    super(msg);
    this.name = 'BinanceRejection';
    this.code = code;
    this.status = status;
  }

  body(): BinanceErrorBody {
    return { code: this.code, msg: this.message };
  }
}

export const SYMBOL_PATTERN = '^[A-Z0-9-_.]{1,20}$';
const SYMBOL_RE = /^[A-Z0-9\-_.]{1,20}$/;
export const UINT_PATTERN = '^[0-9]{1,20}$';
const UINT_RE = /^[0-9]{1,20}$/;
export const SYMBOLS_PATTERN = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$';
const SYMBOLS_RE = /^\[("[A-Z0-9\-_.]{1,20}"(,"[A-Z0-9\-_.]{1,20}")*)?\]$/;
/** `timeZone`: hours, or hours:minutes, within [-12:00, +14:00]. */
const TIME_ZONE_RE = /^([+-]?)(\d{1,2})(?::(\d{2}))?$/;

export const rejections = {
  illegalChars: (name: string, pattern: string) =>
    new BinanceRejection(-1100, `Illegal characters found in parameter '${name}'; legal range is '${pattern}'.`),
  duplicate: () => new BinanceRejection(-1101, 'Duplicate values for a parameter detected.'),
  mandatory: (name: string) =>
    new BinanceRejection(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  unread: (read: number, sent: number) =>
    new BinanceRejection(
      -1104,
      `Not all sent parameters were read; read '${read}' parameter(s) but was sent '${sent}'.`,
    ),
  invalidInterval: () => new BinanceRejection(-1120, 'Invalid interval.'),
  invalidSymbol: () => new BinanceRejection(-1121, 'Invalid symbol.'),
  tooManyHours: (hours: number) =>
    new BinanceRejection(-1127, `More than ${hours} hours between startTime and endTime.`),
  tooManyDays: (days: number) => new BinanceRejection(-1127, `More than ${days} days between startTime and endTime.`),
  badCombination: () => new BinanceRejection(-1128, 'Combination of optional parameters invalid.'),
  invalidValue: (name: string) => new BinanceRejection(-1130, `Data sent for parameter '${name}' is not valid.`),
};

/** A request's parameters; remembers which ones the endpoint read, for -1104. */
export class QueryParams {
  readonly #values = new Map<string, string>();
  readonly #read = new Set<string>();
  readonly #duplicated: boolean = false;

  constructor(search: string) {
    for (const [name, value] of new URLSearchParams(search)) {
      if (this.#values.has(name)) this.#duplicated = true;
      else this.#values.set(name, value);
    }
  }

  /** -1101 when a parameter was sent twice (checked by the endpoint, after the weight is charged). */
  assertNoDuplicates(): void {
    if (this.#duplicated) throw rejections.duplicate();
  }

  /** The raw value without validating or marking it read (weights are computed before validation). */
  peek(name: string): string | undefined {
    return this.#values.get(name);
  }

  optional(name: string): string | undefined {
    this.#read.add(name);
    return this.#values.get(name);
  }

  mandatory(name: string): string {
    const value = this.optional(name);
    if (value === undefined || value === '') throw rejections.mandatory(name);
    return value;
  }

  symbol(name = 'symbol'): string {
    const value = this.mandatory(name);
    if (!SYMBOL_RE.test(value)) throw rejections.illegalChars(name, SYMBOL_PATTERN);
    return value;
  }

  /** `symbols=["BTCUSDT","ETHUSDT"]` (a JSON array in the query). */
  symbols(name = 'symbols'): string[] | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    if (!SYMBOLS_RE.test(value)) throw rejections.illegalChars(name, SYMBOLS_PATTERN);
    return JSON.parse(value) as string[];
  }

  /** An optional non-negative integer (LONG): anything else is -1100 naming the parameter. */
  uint(name: string): number | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    if (!UINT_RE.test(value)) throw rejections.illegalChars(name, UINT_PATTERN);
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw rejections.invalidValue(name);
    return number;
  }

  /** `limit`: default when absent, -1130 when 0, clamped to `max` above it (Binance documents only the maximum). */
  limit(defaultLimit: number, max: number): number {
    const limit = this.uint('limit');
    if (limit === undefined) return defaultLimit;
    if (limit === 0) throw rejections.invalidValue('limit');
    return Math.min(limit, max);
  }

  /** Validates `timeZone` (kept for the contract; the simulator serves UTC boundaries). */
  timeZone(): string | undefined {
    const value = this.optional('timeZone');
    if (value === undefined) return undefined;
    const match = TIME_ZONE_RE.exec(value);
    const minutes =
      match === null ? Number.NaN : (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0));
    if (match === null || Number(match[3] ?? 0) >= 60 || minutes < -12 * 60 || minutes > 14 * 60)
      throw rejections.invalidValue('timeZone');
    return value;
  }

  /** -1104 when the request carried parameters the endpoint does not read. */
  assertAllRead(): void {
    const read = [...this.#values.keys()].filter((name) => this.#read.has(name)).length;
    if (read < this.#values.size) throw rejections.unread(read, this.#values.size);
  }
}
