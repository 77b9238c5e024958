/**
 * The exchange simulator: a stand-in for Binance's REST market-data API (spot `/api/v3`,
 * USD-M `/fapi/v1` and COIN-M `/dapi/v1` on one node:http server), faithful to docs/binance.md — paths,
 * parameters, payload types, weights, `X-MBX-USED-WEIGHT-1M` on every response, 429/418
 * with `Retry-After`, `{code,msg}` error bodies — plus fault knobs and stats for tests and
 * benchmarks. The same port also serves a stand-in for Binance's public archive site
 * (data.binance.vision: daily and monthly zips of klines, aggTrades, trades and the futures series
 * (futures-series.ts) with CHECKSUM sidecars,
 * and the S3 bucket listing at `/`) built from the same market data, with its own publication
 * lag and faults (archive-site.ts). A WebSocket side can attach to the same server later: the handle exposes the
 * `http.Server` (listen for `upgrade`), the MarketData model and the clock.
 */
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@streamforge/core/telemetry';
import { DEFAULT_WEIGHT_LIMITS, MARKETS, type Market } from '@streamforge/core/contracts';
import { ArchiveSite, type ArchiveOptions, type ArchiveStats } from './archive-site.ts';
import { Faults, OVERLOADED, type FaultOptions } from './faults.ts';
import { MarketData, type MarketDataOptions } from './market-data.ts';
import { BinanceRejection, QueryParams } from './params.ts';
import { createRoutes } from './routes.ts';
import { WeightLimiter } from './weight-limiter.ts';
import { DepthBooks } from './ws-depth-books.ts';

export interface ExchangeSimulatorOptions extends MarketDataOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** REQUEST_WEIGHT per minute and IP: one number for all markets or per market; default 6000 spot, 2400 USD-M and COIN-M; `Infinity` lifts it. */
  weightLimit?: number | Partial<Record<Market, number>>;
  /** Refusals (429) tolerated in one window before an IP is banned (418). Default 10. */
  banAfter?: number;
  /** First ban length, doubling per repeat. Default 2 minutes. */
  banBaseMs?: number;
  faults?: FaultOptions;
  /** The public archive site under `/data/` (publication lag, archive faults); the REST faults above do not apply to it. */
  archive?: ArchiveOptions;
  /** How many recent requests stats() keeps (time, IP, path, status, weight). Default 10 000; 0 keeps none. */
  requestLogSize?: number;
  logger?: Logger;
}

export interface RecordedRequest {
  /** Simulator-clock time at which the request was handled (after any injected latency). */
  time: number;
  ip: string;
  market: Market;
  path: string;
  query: string;
  status: number | 'dropped';
  weight: number;
  /** `X-MBX-USED-WEIGHT-1M` sent back. */
  usedWeight: number;
}

export interface SimulatorStats {
  requests: number;
  /** Responses per HTTP status, plus `dropped`. */
  byStatus: Record<string, number>;
  dropped: number;
  /** 429 and 418 answers sent. */
  rateLimited: number;
  banned: number;
  /** Weight used per fixed minute window (all IPs), oldest first. */
  weightByWindow: Record<Market, Array<{ windowStart: number; used: number }>>;
  /** The most recent requests, oldest first (archive requests with weight 0). */
  recent: RecordedRequest[];
  /** Requests of the archive site (also counted in `requests` and `byStatus`). */
  archive: ArchiveStats;
}

export interface ExchangeSimulator {
  url: string;
  port: number;
  /** The underlying server, for a WebSocket side (`server.on('upgrade', …)`). */
  server: Server;
  data: MarketData;
  /** The order books behind REST `/depth` and the WebSocket diff-depth streams. */
  books: DepthBooks;
  clock: () => number;
  stats(): SimulatorStats;
  /** Changes the fault knobs given, keeps the others. */
  setFaults(faults: FaultOptions): void;
  /** Changes the archive's publication lag and/or replaces its faults (restarting their `times` counts). */
  setArchive(options: Pick<ArchiveOptions, 'lagMs' | 'faults'>): void;
  close(): Promise<void>;
}

function weightLimits(
  option: ExchangeSimulatorOptions['weightLimit'],
  current: Record<Market, number>,
): Record<Market, number> {
  if (option === undefined) return current;
  if (typeof option === 'number') return { spot: option, usdm: option, coinm: option };
  return { spot: option.spot ?? current.spot, usdm: option.usdm ?? current.usdm, coinm: option.coinm ?? current.coinm };
}

/** Starts the simulator and resolves once it listens. */
export async function startExchangeSimulator(options: ExchangeSimulatorOptions = {}): Promise<ExchangeSimulator> {
  const clock = options.clock ?? Date.now;
  const data = await MarketData.create({ ...options, clock });
  const limits = weightLimits(options.faults?.weightLimit ?? options.weightLimit, DEFAULT_WEIGHT_LIMITS);
  const limiterOptions = { banAfter: options.banAfter, banBaseMs: options.banBaseMs };
  const limiters: Record<Market, WeightLimiter> = {
    spot: new WeightLimiter({ ...limiterOptions, limit: limits.spot }),
    usdm: new WeightLimiter({ ...limiterOptions, limit: limits.usdm }),
    coinm: new WeightLimiter({ ...limiterOptions, limit: limits.coinm }),
  };
  const faults = new Faults(options.faults);
  const books = new DepthBooks(data);
  const archive = new ArchiveSite(data, clock, options.archive);
  const routes = createRoutes({ data, books, weightLimit: (market) => limiters[market].limit });
  const logSize = options.requestLogSize ?? 10_000;
  const log: RecordedRequest[] = [];
  let logNext = 0;
  const counts = { requests: 0, dropped: 0, rateLimited: 0, banned: 0 };
  const byStatus = new Map<string, number>();

  const record = (entry: RecordedRequest): void => {
    byStatus.set(String(entry.status), (byStatus.get(String(entry.status)) ?? 0) + 1);
    if (logSize <= 0) return;
    if (log.length < logSize) log.push(entry);
    else log[logNext] = entry;
    logNext = (logNext + 1) % logSize;
  };

  const reply = (
    res: ServerResponse,
    status: number,
    body: string,
    usedWeight: number,
    retryAfterSeconds?: number,
  ): void => {
    const headers: OutgoingHttpHeaders = {
      'Content-Type': status === 404 ? 'text/plain' : 'application/json;charset=UTF-8',
      'Content-Length': Buffer.byteLength(body),
      'X-MBX-USED-WEIGHT-1M': usedWeight,
      'X-MBX-USED-WEIGHT': usedWeight,
    };
    if (retryAfterSeconds !== undefined) headers['Retry-After'] = retryAfterSeconds;
    res.writeHead(status, headers);
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const query = mark < 0 ? '' : url.slice(mark + 1);
    // Not a Binance path: the stand-in's own counters, for a simulator running as a process
    // (benchmarks read the weight used per minute window). Costs no weight, counts as no request.
    if (path === '/_sim/stats' && req.method === 'GET') {
      const { recent, ...totals } = stats();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(query.includes('recent=1') ? { ...totals, recent } : totals));
      return;
    }
    counts.requests += 1;
    const ip = req.socket.remoteAddress ?? 'unknown';
    // The public archive site (data.binance.vision): no weight, its own faults.
    if (ArchiveSite.handles(path)) {
      const market = ArchiveSite.marketOf(path);
      const entry: RecordedRequest = { time: clock(), ip, market, path, query, status: 200, weight: 0, usedWeight: 0 };
      entry.status = await archive.handle(req, res, path, query);
      return record(entry);
    }
    const route = routes.get(path);
    const market: Market =
      route?.market ?? (path.startsWith('/fapi/') ? 'usdm' : path.startsWith('/dapi/') ? 'coinm' : 'spot');
    const limiter = limiters[market];
    const { latencyMs, fault } = faults.next();
    if (latencyMs > 0) await delay(latencyMs);
    const now = clock();
    const entry: RecordedRequest = { time: now, ip, market, path, query, status: 200, weight: 0, usedWeight: 0 };
    const send = (status: number, body: string, retryAfterSeconds?: number): void => {
      entry.status = status;
      entry.usedWeight = limiter.used(ip, now);
      reply(res, status, body, entry.usedWeight, retryAfterSeconds);
      record(entry);
    };
    if (fault.kind === 'drop') {
      counts.dropped += 1;
      entry.status = 'dropped';
      record(entry);
      req.socket.destroy();
      return;
    }
    if (route === undefined || req.method !== 'GET') return send(404, 'Not Found');
    const params = new QueryParams(query);
    entry.weight = route.weight(params);
    const verdict = limiter.charge(ip, entry.weight, now);
    if (verdict.status !== 200) {
      if (verdict.status === 429) counts.rateLimited += 1;
      else counts.banned += 1;
      return send(verdict.status, JSON.stringify({ code: -1003, msg: verdict.msg }), verdict.retryAfterSeconds);
    }
    if (fault.kind === 'error') return send(fault.status, JSON.stringify({ code: fault.code, msg: fault.msg }));
    if (route.endpoint !== 'exchangeInfo' && faults.failsSymbol(params.peek('symbol')))
      return send(OVERLOADED.status, JSON.stringify({ code: OVERLOADED.code, msg: OVERLOADED.msg }));
    try {
      send(200, await route.handle(params, now));
    } catch (error) {
      if (error instanceof BinanceRejection) return send(error.status, JSON.stringify(error.body()));
      options.logger?.error({ err: error, path, query }, 'exchange simulator failed a request');
      send(500, JSON.stringify({ code: -1000, msg: 'An unknown error occurred while processing the request.' }));
    }
  };

  function stats(): SimulatorStats {
    const recent = log.length < logSize ? [...log] : [...log.slice(logNext), ...log.slice(0, logNext)];
    const weightByWindow = {
      spot: limiters.spot.windows(),
      usdm: limiters.usdm.windows(),
      coinm: limiters.coinm.windows(),
    };
    return { ...counts, byStatus: Object.fromEntries(byStatus), weightByWindow, recent, archive: archive.stats() };
  }

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'exchange simulator request handler crashed');
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    server,
    data,
    books,
    clock,
    stats,
    setFaults(update) {
      faults.set(update);
      if (update.weightLimit !== undefined) {
        const next = weightLimits(update.weightLimit, {
          spot: limiters.spot.limit,
          usdm: limiters.usdm.limit,
          coinm: limiters.coinm.limit,
        });
        for (const m of MARKETS) limiters[m].limit = next[m];
      }
    },
    setArchive(update) {
      archive.set(update);
    },
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
    },
  };
}
