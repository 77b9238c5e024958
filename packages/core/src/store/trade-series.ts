/**
 * What both adapters share for aggregateTrades: the checks of a query and the key range of a
 * symbol's trades. A trade's key is `SYMBOL:agg:<id>` or `SYMBOL:trade:<id>` with the id
 * zero-padded to 15 digits (records.ts), so key order is id order, and a trade's time never
 * decreases with its id: SQLite finds a time range by a binary search over ids in the key
 * index (no index on the time needed); ArangoDB uses its `by_timestamp` index.
 */
import { SYMBOL_PATTERN } from '../contracts/ids.ts';
import { StreamForgeError } from '../errors.ts';
import type { TradeQuery } from './port.ts';

const SYMBOL = new RegExp(SYMBOL_PATTERN);
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function checkTradeQuery(query: TradeQuery): void {
  if (typeof query.symbol !== 'string' || !SYMBOL.test(query.symbol))
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `symbol: ${JSON.stringify(query.symbol)} must match ${SYMBOL_PATTERN}`,
    );
  if (query.kind !== 'agg' && query.kind !== 'trade')
    throw new StreamForgeError('SF_CONTRACT_INVALID', `kind: must be agg or trade, got ${JSON.stringify(query.kind)}`);
  if (!isTime(query.from) || !isTime(query.to) || query.from >= query.to)
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `from, to: must be times in ms with from < to, got ${query.from}, ${query.to}`,
    );
  if (!isTime(query.bucketMs) || query.bucketMs === 0 || !isTime(query.bucketOffsetMs))
    throw new StreamForgeError('SF_CONTRACT_INVALID', 'bucketMs, bucketOffsetMs: bucketMs must be a positive integer');
}

/** `BTCUSDT:agg:` and the bound after every key of it (`;` follows `:`). */
export function tradeKeyRange(symbol: string, kind: 'agg' | 'trade'): { prefix: string; low: string; high: string } {
  const prefix = `${symbol}:${kind}:`;
  return { prefix, low: prefix, high: `${prefix.slice(0, -1)};` };
}

export const padTradeId = (id: number): string => String(id).padStart(15, '0');
