/**
 * What the chart routes (candles, trades) share: the query a chart sends, and the first
 * record of the series it shows, which tells the series' kind, symbol and interval.
 */
import { COLLECTION_NAME_PATTERN, SYMBOL_PATTERN, type DataRecord } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Store } from '@streamforge/core/store';

export const DEFAULT_MAX_POINTS = 2_000;

export interface ChartQuery {
  from?: number;
  to?: number;
  max_points: number;
  symbol?: string;
}

const time = (description: string) => ({ type: 'integer', minimum: 0, maximum: 99_999_999_999_999, description });

export const collectionParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: COLLECTION_NAME_PATTERN } },
} as const;

/** The querystring schema of a chart route; the descriptions say what its defaults are. */
export function chartQuerystring(describe: { from: string; to: string; symbol: string }) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: time(describe.from),
      to: time(describe.to),
      max_points: { type: 'integer', minimum: 10, maximum: 10_000, default: DEFAULT_MAX_POINTS },
      symbol: { type: 'string', pattern: SYMBOL_PATTERN, description: describe.symbol },
    },
  } as const;
}

/** The first record of a collection (of `symbol`, when given); SF_NOT_FOUND naming what is missing. */
export async function firstRecordOf(store: Store, name: string, symbol: string | undefined): Promise<DataRecord> {
  const [first] = await store.listRecords(name, { limit: 1, ...(symbol ? { after: `${symbol}:` } : {}) });
  if (first && (!symbol || first.symbol === symbol)) return first;
  if (!(await store.listCollections()).some((c) => c.name === name))
    throw new StreamForgeError('SF_NOT_FOUND', `no collection ${name}`);
  throw new StreamForgeError(
    'SF_NOT_FOUND',
    `collection ${name} holds no ${symbol ? `records of ${symbol}` : 'records'}`,
  );
}
