/**
 * One WebSocket connection of the simulator (a stand-in for Binance) with the connection
 * rules of docs/binance.md: the control methods (SUBSCRIBE, UNSUBSCRIBE,
 * LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY) with Binance's replies and error bodies,
 * the combined-stream wrapper, a ping every 20 s (spot) / 3 min (USD-M) with disconnection
 * when no pong comes back within 1 min / 10 min, the incoming-message limit (5/s spot,
 * 10/s USD-M: control messages, pings and pongs all count), 1024 streams, and the 24-hour
 * cut-off. Times are the simulator's clock, so a fast clock scales all of them.
 */
import type { WebSocket } from 'ws';
import type { Market, StreamLimits } from '@streamforge/core/contracts';

/** Binance's own (STREAM_LIMITS), unless a test changes them. */
export type ConnectionLimits = StreamLimits;

/** What a connection asks of the server it belongs to. */
export interface ConnectionHost {
  subscribe(connection: SimConnection, streams: string[]): void;
  unsubscribe(connection: SimConnection, streams: string[]): void;
  closed(connection: SimConnection, reason: string): void;
}

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'] as const;
/** A slow reader is dropped rather than letting the server buffer without bound. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

type RequestId = number | string | null;

/** Binance's error bodies: code 0 carries the id, the request-syntax ones do not. */
const errors = {
  unknownProperty: (id: RequestId) => ({ code: 0, msg: 'Unknown property', id }),
  notBoolean: () => ({ code: 1, msg: 'Invalid value type: expected Boolean' }),
  propertyName: () => ({ code: 2, msg: 'Invalid request: property name must be a string' }),
  requestId: () => ({ code: 2, msg: 'Invalid request: request ID must be an unsigned integer' }),
  unknownMethod: (method: string, column: number) => ({
    code: 2,
    msg: `Invalid request: unknown variant \`${method}\`, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')} at line 1 column ${column}`,
  }),
  tooManyParameters: () => ({ code: 2, msg: 'Invalid request: too many parameters' }),
  missingMethod: (column: number) => ({
    code: 2,
    msg: `Invalid request: missing field \`method\` at line 1 column ${column}`,
  }),
  invalidJson: (column: number) => ({ code: 3, msg: `Invalid JSON: expected value at line 1 column ${column}` }),
  // Not in Binance's documentation: what the simulator answers for these (the real server's words are unknown).
  badParams: () => ({ code: 2, msg: 'Invalid request: params must be an array of stream names' }),
  tooManyStreams: (max: number) => ({
    code: 2,
    msg: `Invalid request: too many streams; a connection holds at most ${max}`,
  }),
};

function validId(id: unknown): id is RequestId {
  return (
    id === null ||
    (typeof id === 'number' && Number.isSafeInteger(id)) ||
    (typeof id === 'string' && /^[A-Za-z0-9]{1,36}$/.test(id))
  );
}

export class SimConnection {
  readonly id: number;
  readonly market: Market;
  readonly socket: WebSocket;
  readonly openedAt: number;
  readonly subscriptions = new Set<string>();
  combined: boolean;
  /** Data messages still to be skipped on purpose (a fault knob: a sequence gap). */
  skip = 0;
  sent = 0;
  skipped = 0;
  readonly #limits: ConnectionLimits;
  readonly #host: ConnectionHost;
  readonly #clock: () => number;
  readonly #incoming: number[] = [];
  #nextPingAt: number;
  #pingSentAt: number | undefined;
  #closed = false;

  constructor(
    id: number,
    socket: WebSocket,
    market: Market,
    combined: boolean,
    limits: ConnectionLimits,
    host: ConnectionHost,
    clock: () => number,
  ) {
    this.id = id;
    this.socket = socket;
    this.market = market;
    this.combined = combined;
    this.#limits = limits;
    this.#host = host;
    this.#clock = clock;
    this.openedAt = clock();
    this.#nextPingAt = this.openedAt + limits.pingIntervalMs;
    socket.on('message', (data, isBinary) => this.#onMessage(isBinary ? '' : data.toString()));
    socket.on('ping', () => this.#count());
    socket.on('pong', () => {
      this.#pingSentAt = undefined; // any pong answers the outstanding ping (unsolicited ones count only towards the limit)
      this.#count();
    });
    socket.on('close', () => this.#end('closed by the client'));
    socket.on('error', () => this.#end('socket error'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one data message, wrapped for combined connections, unless a skip is pending. */
  send(stream: string, raw: string): void {
    if (this.#closed) return;
    if (this.skip > 0) {
      this.skip -= 1;
      this.skipped += 1;
      return;
    }
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(1008, 'client too slow');
      return;
    }
    this.socket.send(this.combined ? `{"stream":"${stream}","data":${raw}}` : raw);
    this.sent += 1;
  }

  /** An event for every client, not tied to a subscription (serverShutdown). */
  sendEvent(stream: string, raw: string): void {
    if (!this.#closed) this.socket.send(this.combined ? `{"stream":"${stream}","data":${raw}}` : raw);
  }

  /** Pings, the pong deadline and the 24-hour cut-off, checked on the simulator's clock. */
  tick(now: number): void {
    if (this.#closed) return;
    if (now - this.openedAt >= this.#limits.lifetimeMs) {
      this.close(1000, 'connection lifetime of 24 hours reached');
      return;
    }
    if (this.#pingSentAt !== undefined && now - this.#pingSentAt > this.#limits.pongTimeoutMs) {
      this.close(1008, 'no pong received');
      return;
    }
    if (now >= this.#nextPingAt) {
      this.socket.ping(String(now));
      this.#pingSentAt ??= now;
      this.#nextPingAt = now + this.#limits.pingIntervalMs;
    }
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.socket.close(code, reason);
    this.#end(reason);
  }

  /** Drops the connection without a close frame, as a network failure would. */
  drop(): void {
    if (this.#closed) return;
    this.socket.terminate();
    this.#end('dropped');
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.closed(this, reason);
  }

  #count(): void {
    const now = this.#clock();
    this.#incoming.push(now);
    while (this.#incoming.length > 0 && this.#incoming[0]! <= now - 1000) this.#incoming.shift();
    if (this.#incoming.length > this.#limits.maxIncomingPerSecond) this.close(1008, 'too many incoming messages');
  }

  #reply(body: unknown): void {
    if (!this.#closed) this.socket.send(JSON.stringify(body));
  }

  #onMessage(text: string): void {
    this.#count();
    if (this.#closed) return;
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      const at = text.search(/\S/);
      return this.#reply(errors.invalidJson(at < 0 ? text.length + 1 : at + 1));
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request))
      return this.#reply(errors.missingMethod(text.length));
    const { method, params, id = null } = request as { method?: unknown; params?: unknown; id?: unknown };
    if (method === undefined) return this.#reply(errors.missingMethod(text.length));
    if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
      const shown = typeof method === 'string' ? method : JSON.stringify(method);
      const at = text.indexOf(JSON.stringify(method));
      return this.#reply(errors.unknownMethod(shown, at < 0 ? text.length : at + JSON.stringify(method).length));
    }
    if (!validId(id)) return this.#reply(errors.requestId());
    const list = params === undefined ? [] : params;
    if (!Array.isArray(list)) return this.#reply(errors.badParams());
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!list.every((s) => typeof s === 'string')) return this.#reply(errors.badParams());
        const streams = list as string[];
        if (method === 'SUBSCRIBE') {
          const fresh = new Set(streams.filter((s) => !this.subscriptions.has(s)));
          if (this.subscriptions.size + fresh.size > this.#limits.maxStreams)
            return this.#reply({ ...errors.tooManyStreams(this.#limits.maxStreams), id });
          this.#host.subscribe(this, [...fresh]);
        } else {
          this.#host.unsubscribe(
            this,
            streams.filter((s) => this.subscriptions.has(s)),
          );
        }
        return this.#reply({ result: null, id });
      }
      case 'LIST_SUBSCRIPTIONS':
        if (list.length > 0) return this.#reply(errors.tooManyParameters());
        return this.#reply({ result: [...this.subscriptions], id });
      case 'SET_PROPERTY': {
        if (list.length > 2) return this.#reply(errors.tooManyParameters());
        const [name, value] = list as [unknown, unknown];
        if (typeof name !== 'string') return this.#reply(errors.propertyName());
        if (name !== 'combined') return this.#reply(errors.unknownProperty(id));
        if (typeof value !== 'boolean') return this.#reply(errors.notBoolean());
        this.combined = value;
        return this.#reply({ result: null, id });
      }
      case 'GET_PROPERTY': {
        if (list.length > 1) return this.#reply(errors.tooManyParameters());
        const [name] = list as [unknown];
        if (typeof name !== 'string') return this.#reply(errors.propertyName());
        if (name !== 'combined') return this.#reply(errors.unknownProperty(id));
        return this.#reply({ result: this.combined, id });
      }
    }
  }
}
