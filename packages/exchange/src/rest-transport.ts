/**
 * The request core of the Binance REST client: one undici keep-alive Agent, every request
 * through its market's WeightGovernor, the used weight and Retry-After fed back to it,
 * exponential backoff with jitter (core's backoff) for failures whose code's disposition is
 * retry (5xx, 408, network errors, timeouts, unreadable bodies), no retry for permanent
 * rejections, and 429/418 retried only after the governor's wait.
 */
import { Agent } from 'undici';
import { StreamForgeError } from '@streamforge/core/errors';
import { backoffDelay } from '@streamforge/core/retry';
import type { Logger } from '@streamforge/core/telemetry';
import {
  USED_WEIGHT_HEADER,
  endpointPath,
  requestWeight,
  type Endpoint,
  type Market,
} from '@streamforge/core/contracts';
import {
  limitFromMessage,
  networkError,
  parseErrorBody,
  responseError,
  retryAfterMs,
  type RequestDescription,
} from './binance-errors.ts';
import type { TimeSource } from './time-source.ts';
import type { WeightGovernor } from './weight-governor.ts';

export interface RestTransportOptions {
  baseUrls: Record<Market, string>;
  time: TimeSource;
  governors: Record<Market, WeightGovernor>;
  maxAttempts: number;
  maxRateLimitRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  connections: number;
  random: () => number;
  logger?: Logger;
}

export type Params = Record<string, string | number | undefined>;

function encodeQuery(params: Params): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) parts.push(`${name}=${encodeURIComponent(String(value))}`);
  }
  return parts.join('&');
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class RestTransport {
  /** HTTP requests sent (retries included) and retries after transient failures. */
  readonly counts = { requests: 0, retries: 0 };
  readonly #options: RestTransportOptions;
  readonly #agent: Agent;
  readonly #closing = new AbortController();

  constructor(options: RestTransportOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Stops waiting calls (they reject) and closes the connections. */
  async close(): Promise<void> {
    this.#closing.abort(new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', 'binance client closed'));
    await this.#agent.close();
  }

  /** GET an endpoint; `limit` only sets the weight (USD-M klines). */
  async get<T>(market: Market, endpoint: Endpoint, params: Params, limit?: number): Promise<T> {
    return this.#get(market, endpoint, params, limit, (text) => JSON.parse(text) as T);
  }

  /** GET an endpoint that answers a JSON array; any other JSON is a malformed answer. */
  async getArray<T>(market: Market, endpoint: Endpoint, params: Params, limit?: number): Promise<T[]> {
    return this.#get(market, endpoint, params, limit, (text) => {
      const body: unknown = JSON.parse(text);
      if (!Array.isArray(body))
        throw new SyntaxError(`expected a JSON array, got ${JSON.stringify(text.trim().slice(0, 80))}`);
      return body as T[];
    });
  }

  /**
   * GET an endpoint that answers a JSON array of arrays (kline rows), and return the body as
   * sent, unparsed: a loader can forward it without decoding and re-encoding it. Its two ends
   * are checked, so an answer cut after a whole row (`[[…],[…]`) is not taken for the rows.
   */
  async getRowsText(market: Market, endpoint: Endpoint, params: Params, limit?: number): Promise<string> {
    return this.#get(market, endpoint, params, limit, (text) => {
      const body = text.trim();
      if (!/^\[\s*(\[|\]$)/.test(body) || !/(\]\s*\]|^\[\s*\])$/.test(body))
        throw new SyntaxError(
          `expected a JSON array of rows, got ${JSON.stringify(body.length <= 100 ? body : `${body.slice(0, 60)}…${body.slice(-30)}`)}`,
        );
      return body;
    });
  }

  async #get<T>(
    market: Market,
    endpoint: Endpoint,
    params: Params,
    limit: number | undefined,
    read: (text: string) => T,
  ): Promise<T> {
    const path = endpointPath(market, endpoint);
    if (path === undefined)
      throw new StreamForgeError('SF_CONTRACT_INVALID', `market: ${market} has no ${endpoint} endpoint (futures only)`);
    const request: RequestDescription = { market, path, query: encodeQuery(params) };
    const weight = requestWeight(market, endpoint, limit);
    const governor = this.#options.governors[market];
    let failures = 0;
    let refusals = 0;
    for (;;) {
      const permit = await governor.acquire(weight, this.#closing.signal);
      let status: number;
      let text: string;
      let headers: Record<string, string | string[] | undefined>;
      try {
        this.counts.requests += 1;
        const response = await this.#agent.request({
          origin: this.#options.baseUrls[market],
          path: request.query === '' ? request.path : `${request.path}?${request.query}`,
          method: 'GET',
          // undici's own timers are coarse (≈0.5 s); this one is exact
          signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#options.timeoutMs)]),
        });
        status = response.statusCode;
        headers = response.headers;
        text = await response.body.text();
      } catch (cause) {
        governor.release(permit);
        if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
        failures += 1;
        await this.#retryOrThrow(networkError(request, cause), failures);
        continue;
      }
      const used = Number(header(headers[USED_WEIGHT_HEADER]));
      const retryAfter = retryAfterMs(headers['retry-after']);
      if (status === 429 || status === 418) {
        const announced = limitFromMessage(parseErrorBody(text)?.msg ?? '');
        if (announced !== undefined) governor.setLimit(announced);
      }
      governor.release(permit, {
        status,
        usedWeight: Number.isFinite(used) ? used : undefined,
        retryAfterMs: retryAfter,
      });
      if (status >= 200 && status < 300) {
        try {
          return read(text);
        } catch (cause) {
          failures += 1; // a truncated body or a proxy page: try again
          await this.#retryOrThrow(networkError(request, cause), failures);
          continue;
        }
      }
      const error = responseError(request, status, text, retryAfter);
      if (status === 429 || status === 418) {
        refusals += 1;
        const log = { err: error.message, status, retry_after_ms: retryAfter, used_weight: used };
        if (status === 418) this.#options.logger?.error(log, 'binance banned this IP; waiting the ban out');
        else this.#options.logger?.warn(log, 'binance rate limit hit; waiting Retry-After');
        if (refusals > this.#options.maxRateLimitRetries) throw error;
        continue; // the governor waits Retry-After (or the ban) before the next acquire returns
      }
      // responseError named the code (isTransientStatus); its disposition says whether to try again.
      if (error.disposition !== 'retry') throw error;
      failures += 1;
      await this.#retryOrThrow(error, failures);
    }
  }

  async #retryOrThrow(error: StreamForgeError, failures: number): Promise<void> {
    if (failures >= this.#options.maxAttempts) {
      throw new StreamForgeError(error.code, `${error.message} (gave up after ${failures} attempts)`, {
        cause: error,
        details: { ...error.details, attempts: failures },
      });
    }
    const delayMs = backoffDelay(
      { baseMs: this.#options.backoffBaseMs, maxMs: this.#options.backoffMaxMs, random: this.#options.random },
      failures,
    );
    this.counts.retries += 1;
    this.#options.logger?.debug(
      { err: error.message, attempt: failures, delay_ms: delayMs },
      'binance request failed; retrying',
    );
    await this.#options.time.sleep(delayMs, this.#closing.signal);
  }
}
