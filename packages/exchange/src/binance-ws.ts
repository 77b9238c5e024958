/**
 * Binance WebSocket market-stream client (spot and USD-M), following the stream rules of
 * docs/binance.md:
 *
 * - the combined-stream endpoint (`/stream?streams=…`, payloads wrapped as `{stream, data}`),
 *   streams beyond what fits in the URL added with SUBSCRIBE, at most 1024 per connection
 *   (more streams open more connections);
 * - control messages sent no faster than the incoming-message limit allows (5/s spot,
 *   10/s USD-M, which also counts our pongs), replies matched by id;
 * - pong on ping (the `ws` library answers every ping with its payload at once);
 * - a connection that goes silent (no message, no ping) for longer than the server's pong
 *   deadline is dead: it is dropped and replaced;
 * - reconnect with exponential backoff and jitter, resubscribing everything;
 * - a planned reconnect before the 24-hour cut-off, and at once on `serverShutdown`:
 *   make-before-break, the new connection subscribes before the old one closes, so nothing
 *   is missed (the overlap delivers some messages twice; consumers drop duplicates by id).
 *
 * Timing runs on a TimeSource, so a fast simulator clock scales pings, deadlines and the
 * cut-off alike.
 */
import WebSocket from 'ws';
import { declareEnv, env } from '@streamforge/core/config';
import { backoffDelay, type Backoff } from '@streamforge/core/retry';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Logger } from '@streamforge/core/telemetry';
import { STREAM_LIMITS, type Market } from '@streamforge/core/contracts';
import { systemTime, type TimeSource } from './time-source.ts';

declareEnv({
  BINANCE_SPOT_WS_URL: {
    default: 'wss://stream.binance.com:9443',
    description: 'Base URL of Binance spot WebSocket streams (the exchange simulator in tests and demos).',
  },
  BINANCE_USDM_WS_URL: {
    default: 'wss://fstream.binance.com',
    description: 'Base URL of Binance USD-M futures WebSocket streams (the exchange simulator: its URL plus /fstream).',
  },
});

export interface StreamMessage {
  stream: string;
  data: unknown;
  /** When it arrived, on the client's TimeSource. */
  receivedAt: number;
  connection: number;
}

export type StreamClientEvent =
  | { type: 'connected'; connection: number; socket: number; planned: boolean }
  | { type: 'disconnected'; connection: number; socket: number; code: number; reason: string; planned: boolean }
  | { type: 'connect-failed'; connection: number; attempt: number; error: string; retryInMs: number }
  | { type: 'server-shutdown'; connection: number };

export interface BinanceStreamClientOptions {
  market: Market;
  streams: readonly string[];
  onMessage(message: StreamMessage): void;
  onEvent?(event: StreamClientEvent): void;
  /** Default BINANCE_SPOT_WS_URL / BINANCE_USDM_WS_URL. */
  baseUrl?: string;
  time?: TimeSource;
  logger?: Logger;
  /** Streams named in the connection URL; the rest are subscribed by message. Default 100. */
  urlStreams?: number;
  /** Streams per SUBSCRIBE message. Default 200. */
  subscribeChunk?: number;
  /** Default 1024 (Binance's limit). */
  maxStreamsPerConnection?: number;
  /** Control messages per second; default one below the market's incoming limit, leaving room for pongs. */
  maxControlPerSecond?: number;
  /** Replace each connection this long after it opened; default 23 h 50 min (Binance cuts at 24 h). */
  plannedReconnectMs?: number;
  /** A connection silent this long is replaced; default the server's pong deadline plus one ping interval. */
  silenceTimeoutMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  /** Opening handshake and each control reply must come within this. Default 10 s. */
  requestTimeoutMs?: number;
  random?: () => number;
  env?: NodeJS.ProcessEnv;
}

export interface StreamClientStats {
  messages: number;
  connects: number;
  reconnects: number;
  plannedReconnects: number;
  silentDrops: number;
  controlMessages: number;
  /** Frames that were not JSON objects or carried no data object: counted and skipped. */
  malformed: number;
}

/** A connection that lived less than this before it ended counts as a failed attempt. */
const STABLE_MS = 10_000;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** One WebSocket: its control channel (rate-limited, replies by id) and its liveness. */
class LiveSocket {
  readonly id: number;
  readonly ws: WebSocket;
  readonly openedAt: number;
  lastActivity: number;
  onEnd: ((code: number, reason: string) => void) | undefined;
  /** The streams this connection carries: named in its URL or acknowledged by the server. */
  readonly subscribed = new Set<string>();
  readonly #time: TimeSource;
  readonly #perSecond: number;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #lastSentAt = Number.NEGATIVE_INFINITY;
  readonly #closing = new AbortController();
  #nextId = 1;
  #queue: Promise<void> = Promise.resolve();
  #ended = false;

  constructor(id: number, ws: WebSocket, time: TimeSource, perSecond: number, timeoutMs: number) {
    this.id = id;
    this.ws = ws;
    this.#time = time;
    this.#perSecond = perSecond;
    this.#timeoutMs = timeoutMs;
    this.openedAt = time.now();
    this.lastActivity = this.openedAt;
    ws.on('ping', () => {
      this.lastActivity = time.now();
    });
    ws.on('close', (code, reason) => this.#end(code, reason.toString()));
    ws.on('error', () => undefined); // 'close' follows and ends the socket
  }

  get signal(): AbortSignal {
    return this.#closing.signal;
  }

  /** A control request; resolves with `result`, rejects with Binance's `{code, msg}`. */
  request(method: string, params?: unknown[]): Promise<unknown> {
    const id = this.#nextId++;
    const body = JSON.stringify(params === undefined ? { method, id } : { method, params, id });
    const sent = this.#queue
      .then(() => this.#throttle())
      .then(() => {
        if (this.#ended) throw new Error(`connection closed before ${method} was sent`);
        this.ws.send(body);
      });
    this.#queue = sent.catch(() => undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no reply to ${method} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      sent.catch((error: unknown) => this.#pending.get(id)?.reject(error as Error));
    });
  }

  /** A reply (`{result, id}` or an error body); false when the frame is not one. */
  settle(frame: { id?: unknown; result?: unknown; code?: unknown; msg?: unknown }): boolean {
    if (typeof frame.id === 'number' && this.#pending.has(frame.id)) {
      const pending = this.#pending.get(frame.id)!;
      this.#pending.delete(frame.id);
      if ('code' in frame)
        pending.reject(new Error(`binance websocket error ${String(frame.code)}: ${String(frame.msg)}`));
      else pending.resolve(frame.result);
      return true;
    }
    return 'result' in frame || ('code' in frame && 'msg' in frame);
  }

  close(code: number, reason: string): void {
    if (this.#ended) return;
    this.ws.close(code, reason);
    // A peer that does not answer the close handshake is cut after a grace period.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  terminate(): void {
    this.ws.terminate();
  }

  /**
   * Spaces control messages evenly at `perSecond` (not in bursts): the server counts them
   * on its own clock when they arrive, so bursts that are legal when sent can look too dense
   * after network jitter.
   */
  async #throttle(): Promise<void> {
    const spacing = 1000 / this.#perSecond;
    const wait = this.#lastSentAt + spacing - this.#time.now();
    if (wait > 0) await this.#time.sleep(wait, this.#closing.signal);
    this.#lastSentAt = this.#time.now();
  }

  #end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#closing.abort(new Error('connection closed'));
    for (const pending of this.#pending.values()) pending.reject(new Error(`connection closed (${code})`));
    this.#pending.clear();
    this.onEnd?.(code, reason);
  }
}

/** One logical connection (up to 1024 streams), kept alive across reconnects. */
class StreamLink {
  readonly id: number;
  readonly streams = new Set<string>();
  readonly #client: BinanceStreamClient;
  #current: LiveSocket | undefined;
  #connecting: Promise<void> | undefined;
  #reconciling: Promise<void> = Promise.resolve();
  /** Connections in a row that ended soon after opening: the next attempt backs off first. */
  #shortLived = 0;

  constructor(id: number, client: BinanceStreamClient, streams: Iterable<string>) {
    this.id = id;
    this.#client = client;
    for (const s of streams) this.streams.add(s);
  }

  get socket(): LiveSocket | undefined {
    return this.#current;
  }

  /** Settles once the connection being opened, if any, is installed and carries this link's streams. */
  async settled(): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    await this.#reconciling;
  }

  /** Connects (with retries) and installs the new socket; the previous one, if any, closes after. */
  connect(planned: boolean): Promise<void> {
    this.#connecting ??= this.#client.openWithRetries(this, planned, this.#shortLived).then(
      (socket) => {
        this.#connecting = undefined;
        if (socket === undefined) return;
        // The client closed while this connection was being opened: it must not linger.
        if (this.#client.closed) socket.close(1000, 'client closing');
        else this.#install(socket, planned);
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    return this.#connecting;
  }

  #install(socket: LiveSocket, planned: boolean): void {
    const previous = this.#current;
    this.#current = socket;
    this.#client.emit({ type: 'connected', connection: this.id, socket: socket.id, planned });
    socket.onEnd = (code, reason) => {
      const wasCurrent = this.#current === socket;
      this.#client.emit({
        type: 'disconnected',
        connection: this.id,
        socket: socket.id,
        code,
        reason,
        planned: !wasCurrent || this.#client.closed,
      });
      if (!wasCurrent || this.#client.closed) return;
      this.#current = undefined;
      // A server that accepts and then drops at once must not be hammered: back off as after failures.
      this.#shortLived = this.#client.timing.time.now() - socket.openedAt < STABLE_MS ? this.#shortLived + 1 : 0;
      this.#client.counters.reconnects += 1;
      void this.connect(false).catch(() => undefined);
    };
    previous?.close(1000, 'replaced by a new connection');
    // Streams added or removed while the socket was being opened: it subscribed what the link
    // held when it started. A failure here ends the socket; its successor subscribes everything.
    this.#reconciling = this.#client.reconcile(this, socket).catch(() => socket.terminate());
    void this.#watch(socket);
  }

  /** Silence watchdog and the planned reconnect before the 24-hour cut-off. */
  async #watch(socket: LiveSocket): Promise<void> {
    const { time, silenceTimeoutMs, plannedReconnectMs } = this.#client.timing;
    const step = Math.max(10, Math.min(silenceTimeoutMs / 4, 5_000));
    try {
      while (this.#current === socket) {
        await time.sleep(step, socket.signal);
        const now = time.now();
        if (now - socket.lastActivity > silenceTimeoutMs) {
          this.#client.counters.silentDrops += 1;
          socket.terminate();
          return;
        }
        if (now - socket.openedAt >= plannedReconnectMs) {
          this.#client.counters.plannedReconnects += 1;
          await this.connect(true);
          return;
        }
      }
    } catch {
      // the socket closed: onEnd takes over
    }
  }

  /** The server announced a shutdown: move to a new connection now. */
  replace(): void {
    this.#client.counters.plannedReconnects += 1;
    void this.connect(true).catch(() => undefined);
  }

  close(): void {
    this.#current?.close(1000, 'client closing');
  }
}

export class BinanceStreamClient {
  readonly market: Market;
  readonly counters: StreamClientStats = {
    messages: 0,
    connects: 0,
    reconnects: 0,
    plannedReconnects: 0,
    silentDrops: 0,
    controlMessages: 0,
    malformed: 0,
  };
  readonly timing: { time: TimeSource; silenceTimeoutMs: number; plannedReconnectMs: number };
  readonly #options: BinanceStreamClientOptions;
  readonly #baseUrl: string;
  readonly #links: StreamLink[] = [];
  readonly #maxStreams: number;
  readonly #closing = new AbortController();
  #socketIds = 1;
  #closed = false;

  constructor(options: BinanceStreamClientOptions) {
    // COIN-M streams (dstream) are not followed: a USD-M URL must not stand in for them.
    if (options.market === 'coinm')
      throw new StreamForgeError('SF_CONFIG_INVALID', 'market: COIN-M live streams are not supported');
    const rules = STREAM_LIMITS[options.market];
    this.market = options.market;
    this.#options = options;
    const source = options.env ?? process.env;
    this.#baseUrl = (
      options.baseUrl ?? env(options.market === 'spot' ? 'BINANCE_SPOT_WS_URL' : 'BINANCE_USDM_WS_URL', source)
    ).replace(/\/+$/, '');
    this.#maxStreams = Math.min(options.maxStreamsPerConnection ?? rules.maxStreams, rules.maxStreams);
    this.timing = {
      time: options.time ?? systemTime,
      silenceTimeoutMs: options.silenceTimeoutMs ?? rules.pongTimeoutMs + rules.pingIntervalMs,
      plannedReconnectMs: options.plannedReconnectMs ?? rules.lifetimeMs - 10 * 60_000,
    };
    const unique = [...new Set(options.streams)];
    for (let i = 0; i < unique.length; i += this.#maxStreams)
      this.#links.push(new StreamLink(this.#links.length + 1, this, unique.slice(i, i + this.#maxStreams)));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens every connection; resolves once each one is subscribed (it keeps retrying until then, or until close). */
  async start(): Promise<void> {
    await Promise.all(this.#links.map((link) => link.connect(false)));
  }

  /**
   * Adds streams at run time: SUBSCRIBE on connections with room, new connections beyond.
   * Resolves once the server acknowledged them; a connection being opened takes them up when it is in place.
   */
  async subscribe(streams: readonly string[]): Promise<void> {
    const fresh = [...new Set(streams)].filter((s) => !this.#links.some((l) => l.streams.has(s)));
    const work: Promise<unknown>[] = [];
    for (const link of this.#links) {
      const take = fresh.splice(0, Math.max(0, this.#maxStreams - link.streams.size));
      if (take.length === 0) continue;
      for (const s of take) link.streams.add(s);
      work.push(link.socket ? this.#subscribeOn(link.socket, take) : link.settled());
    }
    while (fresh.length > 0) {
      const link = new StreamLink(this.#links.length + 1, this, fresh.splice(0, this.#maxStreams));
      this.#links.push(link);
      work.push(link.connect(false));
    }
    await Promise.all(work);
  }

  /** Removes streams at run time (UNSUBSCRIBE); resolves once the server acknowledged it. */
  async unsubscribe(streams: readonly string[]): Promise<void> {
    const work: Promise<unknown>[] = [];
    for (const link of this.#links) {
      const mine = streams.filter((s) => link.streams.has(s));
      if (mine.length === 0) continue;
      for (const s of mine) link.streams.delete(s);
      work.push(link.socket ? this.#unsubscribeOn(link.socket, mine) : link.settled());
    }
    await Promise.all(work);
  }

  /** Brings a newly installed socket in line with its link's streams. */
  async reconcile(link: StreamLink, socket: LiveSocket): Promise<void> {
    const missing = [...link.streams].filter((s) => !socket.subscribed.has(s));
    const extra = [...socket.subscribed].filter((s) => !link.streams.has(s));
    await Promise.all([this.#subscribeOn(socket, missing), this.#unsubscribeOn(socket, extra)]);
  }

  stats(): StreamClientStats & { connections: number; streams: number } {
    return {
      ...this.counters,
      connections: this.#links.filter((l) => l.socket !== undefined).length,
      streams: this.#links.reduce((n, l) => n + l.streams.size, 0),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort(new Error('client closed'));
    for (const link of this.#links) link.close();
  }

  emit(event: StreamClientEvent): void {
    this.#options.logger?.debug({ market: this.market, ...event }, 'binance stream connection event');
    this.#options.onEvent?.(event);
  }

  /** Opens a socket for a link and subscribes all its streams, retrying with backoff; undefined once closed. */
  async openWithRetries(link: StreamLink, planned: boolean, priorFailures = 0): Promise<LiveSocket | undefined> {
    const policy: Backoff = {
      baseMs: this.#options.backoff?.baseMs ?? 250,
      maxMs: this.#options.backoff?.maxMs ?? 30_000,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    };
    const backoff = (failures: number): number => backoffDelay(policy, failures);
    if (priorFailures > 0) {
      try {
        await this.timing.time.sleep(backoff(priorFailures), this.#closing.signal);
      } catch {
        return undefined;
      }
    }
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const socket = await this.#open(link);
        this.counters.connects += 1;
        return socket;
      } catch (error) {
        if (this.#closed) return undefined;
        const retryInMs = backoff(priorFailures + attempt);
        this.emit({ type: 'connect-failed', connection: link.id, attempt, error: (error as Error).message, retryInMs });
        this.#options.logger?.warn(
          {
            market: this.market,
            connection: link.id,
            attempt,
            planned,
            err: (error as Error).message,
            retry_in_ms: retryInMs,
          },
          'binance stream connection failed; retrying',
        );
        try {
          await this.timing.time.sleep(retryInMs, this.#closing.signal);
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  }

  async #open(link: StreamLink): Promise<LiveSocket> {
    const streams = [...link.streams];
    const inUrl = streams.slice(0, this.#options.urlStreams ?? 100);
    const url = inUrl.length > 0 ? `${this.#baseUrl}/stream?streams=${inUrl.join('/')}` : `${this.#baseUrl}/stream`;
    const timeoutMs = this.#options.requestTimeoutMs ?? 10_000;
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const rules = STREAM_LIMITS[this.market];
    const socket = new LiveSocket(
      this.#socketIds++,
      ws,
      this.timing.time,
      this.#options.maxControlPerSecond ?? rules.maxIncomingPerSecond - 1,
      timeoutMs,
    );
    ws.on('message', (raw: Buffer) => this.#onFrame(link, socket, raw));
    for (const s of inUrl) socket.subscribed.add(s);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (error) => reject(error));
      ws.once('close', (code) => reject(new Error(`closed during the handshake (${code})`)));
    });
    try {
      await this.#subscribeOn(socket, streams.slice(inUrl.length));
    } catch (error) {
      socket.terminate();
      throw error;
    }
    return socket;
  }

  async #subscribeOn(socket: LiveSocket, streams: readonly string[]): Promise<void> {
    await this.#control(socket, 'SUBSCRIBE', streams, (s) => socket.subscribed.add(s));
  }

  async #unsubscribeOn(socket: LiveSocket, streams: readonly string[]): Promise<void> {
    await this.#control(socket, 'UNSUBSCRIBE', streams, (s) => socket.subscribed.delete(s));
  }

  /** SUBSCRIBE or UNSUBSCRIBE in chunks, recording each acknowledged chunk on the socket. */
  async #control(
    socket: LiveSocket,
    method: 'SUBSCRIBE' | 'UNSUBSCRIBE',
    streams: readonly string[],
    acknowledged: (stream: string) => unknown,
  ): Promise<void> {
    const chunk = this.#options.subscribeChunk ?? 200;
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < streams.length; i += chunk) {
      const part = streams.slice(i, i + chunk);
      this.counters.controlMessages += 1;
      requests.push(socket.request(method, part).then(() => part.forEach(acknowledged)));
    }
    await Promise.all(requests);
  }

  #onFrame(link: StreamLink, socket: LiveSocket, raw: Buffer): void {
    const receivedAt = this.timing.time.now();
    socket.lastActivity = receivedAt;
    let frame: {
      stream?: string;
      data?: unknown;
      e?: string;
      id?: unknown;
      result?: unknown;
      code?: unknown;
      msg?: unknown;
    };
    try {
      frame = JSON.parse(raw.toString()) as typeof frame;
    } catch {
      frame = null as unknown as typeof frame;
    }
    // `null`, a number, a string or an array is no frame the exchange sends; nor is a stream message without a data object.
    const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObject(frame) || (typeof frame.stream === 'string' && !isObject(frame.data))) {
      this.counters.malformed += 1;
      this.#options.logger?.warn(
        {
          market: this.market,
          connection: link.id,
          malformed: this.counters.malformed,
          frame: raw.toString().slice(0, 200),
        },
        'binance stream sent a malformed frame; skipped',
      );
      return;
    }
    if (typeof frame.stream === 'string') {
      if (frame.stream === '!serverShutdown') return this.#shutdown(link, socket);
      this.counters.messages += 1;
      this.#options.onMessage({ stream: frame.stream, data: frame.data, receivedAt, connection: link.id });
      return;
    }
    if (frame.e === 'serverShutdown') return this.#shutdown(link, socket);
    if (!socket.settle(frame))
      this.#options.logger?.debug(
        { market: this.market, frame: raw.toString().slice(0, 200) },
        'binance stream frame ignored',
      );
  }

  #shutdown(link: StreamLink, socket: LiveSocket): void {
    this.emit({ type: 'server-shutdown', connection: link.id });
    if (link.socket === socket) link.replace();
  }
}
