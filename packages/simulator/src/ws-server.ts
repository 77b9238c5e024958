/**
 * The WebSocket side of the exchange simulator (a stand-in for Binance), attached to the
 * REST server's `http.Server` through its `upgrade` event. Spot streams are served at the
 * root (`/ws/<stream>`, `/stream?streams=a/b`), USD-M streams under `/fstream` (the
 * stand-in for wss://fstream.binance.com), so one port serves both markets.
 *
 * A pump runs every few milliseconds of real time, asks each subscribed feed for the
 * messages whose event time has come on the simulator's clock and fans them out, checks
 * pings, pong deadlines and the 24-hour cut-off. Fault knobs: drop connections without a
 * close frame, skip messages (sequence gaps), announce `serverShutdown`; the same knobs are
 * reachable over HTTP under `/_sim/ws/` (not a Binance path) for tests that run the
 * simulator as a separate process.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '@streamforge/core/telemetry';
import { MARKETS, STREAM_LIMITS, type Market } from '@streamforge/core/contracts';
import type { ExchangeSimulator } from './server.ts';
import { SimConnection, type ConnectionHost, type ConnectionLimits } from './ws-connection.ts';
import { createFeed, type Feed, type FeedContext } from './ws-feeds.ts';
import { ReplayCursor, type ReplayCapture } from './ws-replay.ts';
import { parseStreamName } from './ws-streams.ts';

export interface WebSocketSideOptions {
  /** Real milliseconds between pumps. Default 5. */
  pumpMs?: number;
  /** Overrides of the connection rules per market (tests shorten pings or lifetimes). */
  limits?: Partial<Record<Market, Partial<ConnectionLimits>>>;
  /** Serve this recorded capture on its market instead of synthetic streams. */
  replay?: ReplayCapture;
  logger?: Logger;
}

export interface ConnectionInfo {
  id: number;
  market: Market;
  combined: boolean;
  openedAt: number;
  subscriptions: string[];
  sent: number;
  skipped: number;
}

export interface WebSocketStats {
  connectionsOpened: number;
  connectionsOpen: number;
  messagesSent: number;
  messagesSkipped: number;
  dropped: number;
  /** Why connections ended, with counts. */
  closeReasons: Record<string, number>;
}

export interface WebSocketSide {
  /** Base URLs a client appends `/ws/…` or `/stream?…` to (COIN-M streams are not simulated). */
  urls: Record<StreamMarket, string>;
  connections(): ConnectionInfo[];
  stats(): WebSocketStats;
  /** Drops matching connections without a close frame; returns how many. */
  dropConnections(filter?: { market?: Market }): number;
  /** Skips the next `count` data messages on every matching connection (a sequence gap). */
  skipMessages(count: number, filter?: { market?: Market; stream?: string }): void;
  /** Sends `serverShutdown` (notice of a planned close) to every connection; they stay open until the client leaves. */
  announceShutdown(): void;
  /** Sends text frames exactly as given to every matching connection: a corrupt or unexpected frame. */
  sendFrames(frames: string[], filter?: { market?: Market }): void;
  close(): Promise<void>;
}

/** The markets whose streams the simulator serves: COIN-M is loaded from REST and archives only. */
type StreamMarket = Exclude<Market, 'coinm'>;
const MARKET_PREFIX: Record<StreamMarket, string> = { spot: '', usdm: '/fstream' };

/** Market, combined flag and initial streams of an upgrade request, or undefined for a path that is not a stream endpoint. */
export function routeUpgrade(url: string): { market: Market; combined: boolean; streams: string[] } | undefined {
  const parsed = new URL(url, 'http://simulator');
  let path = parsed.pathname;
  let market: Market = 'spot';
  if (path.startsWith(`${MARKET_PREFIX.usdm}/`)) {
    market = 'usdm';
    path = path.slice(MARKET_PREFIX.usdm.length);
  }
  if (path === '/ws' || path === '/ws/') return { market, combined: false, streams: [] };
  if (path.startsWith('/ws/'))
    return {
      market,
      combined: false,
      streams: path
        .slice(4)
        .split('/')
        .filter((s) => s !== ''),
    };
  if (path === '/stream' || path === '/stream/') {
    const streams = (parsed.searchParams.get('streams') ?? '').split('/').filter((s) => s !== '');
    return { market, combined: true, streams };
  }
  return undefined;
}

export function attachWebSocketSide(simulator: ExchangeSimulator, options: WebSocketSideOptions = {}): WebSocketSide {
  const clock = simulator.clock;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const connections = new Set<SimConnection>();
  /** Synthetic feeds and the connections subscribed to each, per market and stream name. */
  const feeds = new Map<string, { feed: Feed | undefined; subscribers: Set<SimConnection> }>();
  const replays = new Map<SimConnection, ReplayCursor>();
  const replay = options.replay;
  const stats = { connectionsOpened: 0, dropped: 0, closeReasons: new Map<string, number>() };
  let nextId = 1;
  let pumping = false;

  if (replay) for (const s of replay.snapshots) simulator.books.record(s.market, s.symbol, s.body);
  const context = (market: Market): FeedContext => ({ market, data: simulator.data, books: simulator.books });
  const isReplayed = (market: Market): boolean => replay !== undefined && replay.market === market;

  const host: ConnectionHost = {
    subscribe(connection, streams) {
      for (const name of streams) {
        connection.subscriptions.add(name);
        if (isReplayed(connection.market)) continue;
        const key = `${connection.market}:${name}`;
        let entry = feeds.get(key);
        if (entry === undefined) {
          const spec = parseStreamName(connection.market, name);
          entry = {
            feed: spec === undefined ? undefined : createFeed(context(connection.market), spec, clock()),
            subscribers: new Set(),
          };
          feeds.set(key, entry);
        }
        entry.subscribers.add(connection);
      }
    },
    unsubscribe(connection, streams) {
      for (const name of streams) {
        connection.subscriptions.delete(name);
        const key = `${connection.market}:${name}`;
        const entry = feeds.get(key);
        entry?.subscribers.delete(connection);
        if (entry && entry.subscribers.size === 0) feeds.delete(key);
      }
    },
    closed(connection, reason) {
      connections.delete(connection);
      replays.delete(connection);
      host.unsubscribe(connection, [...connection.subscriptions]);
      stats.closeReasons.set(reason, (stats.closeReasons.get(reason) ?? 0) + 1);
      options.logger?.debug({ connection: connection.id, reason }, 'simulator websocket closed');
    },
  };

  const limitsOf = (market: Market): ConnectionLimits => ({ ...STREAM_LIMITS[market], ...options.limits?.[market] });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const route = routeUpgrade(req.url ?? '/');
    if (route === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const limits = limitsOf(route.market);
    if (route.streams.length > limits.maxStreams) {
      const body = JSON.stringify({
        code: 2,
        msg: `Invalid request: too many streams; a connection holds at most ${limits.maxStreams}`,
      });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const connection = new SimConnection(nextId++, ws, route.market, route.combined, limits, host, clock);
      connections.add(connection);
      stats.connectionsOpened += 1;
      if (isReplayed(route.market)) replays.set(connection, new ReplayCursor(replay!, connection.openedAt));
      host.subscribe(connection, [...new Set(route.streams)]);
    });
  };
  simulator.server.on('upgrade', onUpgrade);

  const side: WebSocketSide = {
    urls: {
      spot: simulator.url.replace(/^http/, 'ws'),
      usdm: `${simulator.url.replace(/^http/, 'ws')}${MARKET_PREFIX.usdm}`,
    },
    connections: () =>
      [...connections].map((c) => ({
        id: c.id,
        market: c.market,
        combined: c.combined,
        openedAt: c.openedAt,
        subscriptions: [...c.subscriptions],
        sent: c.sent,
        skipped: c.skipped,
      })),
    stats() {
      let messagesSent = 0;
      let messagesSkipped = 0;
      for (const c of connections) {
        messagesSent += c.sent;
        messagesSkipped += c.skipped;
      }
      return {
        connectionsOpened: stats.connectionsOpened,
        connectionsOpen: connections.size,
        messagesSent,
        messagesSkipped,
        dropped: stats.dropped,
        closeReasons: Object.fromEntries(stats.closeReasons),
      };
    },
    dropConnections(filter = {}) {
      let n = 0;
      for (const c of [...connections]) {
        if (filter.market !== undefined && c.market !== filter.market) continue;
        c.drop();
        n += 1;
      }
      stats.dropped += n;
      return n;
    },
    skipMessages(count, filter = {}) {
      for (const c of connections) {
        if (filter.market !== undefined && c.market !== filter.market) continue;
        if (filter.stream !== undefined && !c.subscriptions.has(filter.stream)) continue;
        c.skip += count;
      }
    },
    announceShutdown() {
      const raw = `{"e":"serverShutdown","E":${clock()}}`;
      for (const c of connections) c.sendEvent('!serverShutdown', raw);
    },
    sendFrames(frames, filter = {}) {
      for (const c of connections) {
        if (filter.market !== undefined && c.market !== filter.market) continue;
        for (const frame of frames) c.socket.send(frame);
      }
    },
    async close() {
      clearInterval(timer);
      simulator.server.off('upgrade', onUpgrade);
      simulator.server.off('request', onAdmin);
      for (const listener of rest) simulator.server.on('request', listener);
      for (const c of [...connections]) c.close(1001, 'simulator closing');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };

  async function pump(): Promise<void> {
    const now = clock();
    for (const [key, entry] of feeds) {
      if (entry.feed === undefined || entry.subscribers.size === 0) continue;
      let messages: Awaited<ReturnType<typeof entry.feed.advance>>;
      try {
        messages = await entry.feed.advance(now);
      } catch (error) {
        options.logger?.error({ err: error, stream: key }, 'simulator feed failed');
        continue;
      }
      const name = entry.feed.spec.name;
      for (const message of messages) for (const c of entry.subscribers) c.send(name, message.raw);
    }
    for (const [connection, cursor] of replays) {
      for (const frame of cursor.due(now))
        if (connection.subscriptions.has(frame.stream)) connection.send(frame.stream, frame.raw);
    }
    for (const c of connections) c.tick(now);
  }

  const timer = setInterval(() => {
    if (pumping) return;
    pumping = true;
    pump()
      .catch((error: unknown) => options.logger?.error({ err: error }, 'simulator websocket pump failed'))
      .finally(() => {
        pumping = false;
      });
  }, options.pumpMs ?? 5);
  timer.unref();

  // Fault knobs over HTTP for a simulator running as its own process; every other request
  // goes on to the REST handler, which this listener runs before.
  const rest = simulator.server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  const onAdmin = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (!url.pathname.startsWith('/_sim/ws/')) {
      for (const listener of rest) listener.call(simulator.server, req, res);
      return;
    }
    const market = url.searchParams.get('market');
    const filter =
      market !== null && (MARKETS as readonly string[]).includes(market) ? { market: market as Market } : {};
    let body: unknown;
    if (req.method === 'POST' && url.pathname === '/_sim/ws/drop') body = { dropped: side.dropConnections(filter) };
    else if (req.method === 'POST' && url.pathname === '/_sim/ws/skip') {
      const count = Number(url.searchParams.get('count') ?? '1');
      const stream = url.searchParams.get('stream');
      side.skipMessages(count, { ...filter, ...(stream === null ? {} : { stream }) });
      body = { skipping: count };
    } else if (req.method === 'POST' && url.pathname === '/_sim/ws/shutdown') {
      side.announceShutdown();
      body = { announced: true };
    } else if (req.method === 'GET' && url.pathname === '/_sim/ws/stats')
      body = { ...side.stats(), connections: side.connections() };
    const text = JSON.stringify(body ?? { error: 'unknown simulator control' });
    res
      .writeHead(body === undefined ? 404 : 200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      })
      .end(text);
  };
  simulator.server.removeAllListeners('request');
  simulator.server.on('request', onAdmin);
  return side;
}
