/**
 * Where a chart's candles come from: a klines collection's own (GET …/candles, with gaps), or a
 * trades collection's price candles (GET …/trades, no expected cadence, so no gaps), in one
 * shape for the chart. A collection of unknown kind is read as klines first; the API's 400
 * that it holds no klines sends the chart to its trades.
 */
import { api, ApiError } from './api-client.ts';
import type { CandlesAnswer, TradesAnswer } from './wire.ts';

export type ChartSource = 'candles' | 'trades';

/** The trades a workflow type stores, or its candles. */
export function sourceOfType(type: string): ChartSource | undefined {
  // Trade candles, and the futures price series (mark, index, premium), which are candles too.
  if (/^(api|bulk|ws)_((mark|index)_price_|premium_index_)?candles_/.test(type)) return 'candles';
  if (/^((api|bulk|ws)_agg_trades|(bulk|ws)_trades)$/.test(type)) return 'trades';
  return undefined;
}

function fromTrades(answer: TradesAnswer): CandlesAnswer {
  const trades = answer.candles.reduce((n, c) => n + c.trades, 0);
  return {
    collection: answer.collection,
    symbol: answer.symbol,
    // Trades have no interval: the finest bucket is a second.
    interval: '1s',
    from: answer.from,
    to: answer.to,
    bucket: answer.bucket,
    bucket_ms: answer.bucket_ms,
    first_stored: answer.first_trade,
    last_stored: answer.last_trade,
    candles: answer.candles,
    gaps: [],
    gaps_truncated: false,
    stored: trades,
    expected: trades,
    missing: 0,
    trades: answer.kind,
  };
}

/** One read; `source` undefined: klines, else trades when the collection holds no klines. */
export async function readChart(
  name: string,
  source: ChartSource | undefined,
  query: URLSearchParams,
): Promise<{ answer: CandlesAnswer; source: ChartSource }> {
  const path = (kind: ChartSource) => `/collections/${encodeURIComponent(name)}/${kind}?${query.toString()}`;
  if (source === 'trades') return { answer: fromTrades(await api<TradesAnswer>('GET', path('trades'))), source };
  try {
    return { answer: await api<CandlesAnswer>('GET', path('candles')), source: 'candles' };
  } catch (error) {
    if (
      source === undefined &&
      error instanceof ApiError &&
      error.status === 400 &&
      /does not hold klines/.test(error.message)
    )
      return readChart(name, 'trades', query);
    throw error;
  }
}
