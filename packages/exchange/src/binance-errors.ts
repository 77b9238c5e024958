/**
 * Turns what Binance answered into StreamForge errors (docs/binance.md, errors and rate limits):
 *
 * - HTTP 4xx with `{code,msg}` (-1121 invalid symbol, -1120 invalid interval, -1100 …) is
 *   permanent: SF_EXCHANGE_REJECTED, the exchange's `code` and `msg` in details and `msg`
 *   verbatim in the message; 408 (USD-M backend timeout) is the exception and transient;
 * - 5xx, network errors and timeouts are transient: SF_DEPENDENCY_UNAVAILABLE;
 * - 429 and 418 are SF_RATE_LIMITED with `retryAfterMs`.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import type { BinanceErrorBody, Market } from '@streamforge/core/contracts';

/** The exchange's `{code,msg}` body, if the text is one. */
export function parseErrorBody(text: string): BinanceErrorBody | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as BinanceErrorBody).code === 'number' &&
      typeof (body as BinanceErrorBody).msg === 'string'
    ) {
      return { code: (body as BinanceErrorBody).code, msg: (body as BinanceErrorBody).msg };
    }
  } catch {
    // not JSON: a proxy or WAF page
  }
  return undefined;
}

/** `Retry-After` (seconds, per Binance) in ms; undefined when absent or malformed. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value); // the HTTP-date form, in case a proxy rewrote it
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The limit a -1003 message announces ("current limit is 6000 request weight per 1 MINUTE"). */
export function limitFromMessage(msg: string): number | undefined {
  const match = /current limit is (\d+) request weight per 1 MINUTE/.exec(msg);
  return match === null ? undefined : Number(match[1]);
}

export interface RequestDescription {
  market: Market;
  path: string;
  query: string;
}

function where(request: RequestDescription): string {
  return `binance ${request.market} GET ${request.path}${request.query === '' ? '' : `?${request.query}`}`;
}

/** Whether a response status is worth retrying: 5xx and 408 (USD-M backend timeout). */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408;
}

/** The error for a non-2xx response. */
export function responseError(
  request: RequestDescription,
  status: number,
  text: string,
  retryAfter?: number,
): StreamForgeError {
  const body = parseErrorBody(text);
  const exchange = body === undefined ? {} : { code: body.code, msg: body.msg };
  const reason =
    body === undefined
      ? `HTTP ${status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`
      : `${body.msg} (code ${body.code}, HTTP ${status})`;
  const details = { status, market: request.market, path: request.path, query: request.query, ...exchange };
  if (status === 429 || status === 418) {
    return new StreamForgeError('SF_RATE_LIMITED', `${where(request)}: ${reason}`, {
      details: { ...details, retryAfterMs: retryAfter, banned: status === 418 },
    });
  }
  if (isTransientStatus(status))
    return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${where(request)}: ${reason}`, { details });
  return new StreamForgeError('SF_EXCHANGE_REJECTED', `${where(request)}: ${reason}`, { details });
}

/** The error for a request that got no response (connection refused or reset, timeout). */
export function networkError(request: RequestDescription, cause: unknown): StreamForgeError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const raw =
    typeof cause === 'object' && cause !== null && 'code' in cause ? (cause as { code: unknown }).code : undefined;
  const code =
    cause instanceof Error && cause.name === 'TimeoutError' ? 'ETIMEDOUT' : typeof raw === 'string' ? raw : undefined;
  return new StreamForgeError(
    'SF_DEPENDENCY_UNAVAILABLE',
    `${where(request)}: ${message}${code === undefined ? '' : ` (${code})`}`,
    {
      cause,
      details: { market: request.market, path: request.path, query: request.query, network: code ?? 'error' },
    },
  );
}
