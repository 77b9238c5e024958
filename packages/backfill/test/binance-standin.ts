/**
 * A stand-in for Binance's REST market data, for loader-api tests: a real HTTP server that
 * answers `/api/v3/*` and `/fapi/v1/*` the way a test says, and the real data it serves read
 * from test/fixtures/binance (data.binance.vision kline CSVs, USD-M aggTrade frames captured
 * from the exchange). Rows are served in Binance's REST shapes (docs/binance.md §1.1, §1.6).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AggTrade, KlineRow } from '@streamforge/core/contracts';
import { PROJECT_ROOT } from '@streamforge/platform';
import { klineRowsOfCsv } from '@streamforge/testing';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'binance');

export interface StandinRequest {
  /** `/api/v3/klines`, `/fapi/v1/aggTrades`, … */
  path: string;
  query: URLSearchParams;
}

export interface StandinAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface BinanceStandin {
  url: string;
  /** Every request, in the order it arrived. */
  requests: StandinRequest[];
  close(): Promise<void>;
}

/** Starts the stand-in on a free port; `answer` decides each response (it may take its time). */
export async function startBinanceStandin(
  answer: (request: StandinRequest) => StandinAnswer | Promise<StandinAnswer>,
): Promise<BinanceStandin> {
  const requests: StandinRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const request = { path: url.pathname, query: url.searchParams };
    requests.push(request);
    void Promise.resolve(answer(request)).then(({ status, body, contentType }) => {
      res
        .writeHead(status, {
          'content-type': contentType ?? 'application/json;charset=UTF-8',
          'x-mbx-used-weight-1m': '1',
        })
        .end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Kline rows of a data.binance.vision CSV (with or without its header), as the REST API returns them. */
export function fixtureKlines(file: string): KlineRow[] {
  return klineRowsOfCsv(join(FIXTURES, 'klines', file));
}

/** One symbol's aggTrades from the captured USD-M stream, as `/fapi/v1/aggTrades` returns them (no `M` on USD-M). */
export function fixtureUsdmAggTrades(symbol: string): AggTrade[] {
  const trades: AggTrade[] = [];
  for (const line of readFileSync(join(FIXTURES, 'ws', 'usdm-capture-2021-07-22.jsonl'), 'utf8').split('\n')) {
    if (!line.includes('"aggTrade"')) continue;
    const frame = JSON.parse(line) as { data?: { e: string; s: string } & AggTrade };
    if (frame.data?.e !== 'aggTrade' || frame.data.s !== symbol) continue;
    const { a, p, q, f, l, T, m } = frame.data;
    trades.push({ a, p, q, f, l, T, m });
  }
  return trades.sort((x, y) => x.a - y.a);
}

/** What `/klines` answers from `rows`: open times in [startTime, endTime], at most `limit`, as compact JSON text. */
export function klinesAnswer(rows: readonly KlineRow[], query: URLSearchParams): string {
  const start = Number(query.get('startTime') ?? 0);
  const end = Number(query.get('endTime') ?? Number.MAX_SAFE_INTEGER);
  const limit = Number(query.get('limit') ?? 500);
  return JSON.stringify(rows.filter((row) => row[0] >= start && row[0] <= end).slice(0, limit));
}

/** What `/aggTrades` answers from `trades`: from `fromId` on, else by time in [startTime, endTime], at most `limit`. */
export function aggTradesAnswer(trades: readonly AggTrade[], query: URLSearchParams): string {
  const limit = Number(query.get('limit') ?? 500);
  const fromId = query.get('fromId');
  const chosen =
    fromId !== null
      ? trades.filter((trade) => trade.a >= Number(fromId))
      : trades.filter((trade) => trade.T >= Number(query.get('startTime')) && trade.T <= Number(query.get('endTime')));
  return JSON.stringify(chosen.slice(0, limit));
}
