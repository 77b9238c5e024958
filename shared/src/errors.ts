/**
 * One error base for StreamForge. Every error carries a stable code, the HTTP status a
 * function answers with, and what a KafkaSource does with the event that caused it:
 *
 * - `retry`: a 5xx or 429, which the KafkaSource dispatcher retries with backoff;
 * - `dead-letter`: a 4xx it does not retry, so the event goes to the dead-letter sink
 *   with the reason (the code travels in a `kne-error-code` response header);
 * - `reject`: a 4xx for a plain HTTP caller (bad request body, unknown id).
 *
 * The table lives in one place so that the status a handler answers with, the reason in
 * a dead-letter record and the docs stay in step (docs/errors.md is generated from it).
 */

export const DISPOSITIONS = ['retry', 'dead-letter', 'reject'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

interface CodeInfo {
  status: number;
  disposition: Disposition;
  summary: string;
}

export const ERROR_CODES = {
  SF_CONTRACT_INVALID: { status: 400, disposition: 'dead-letter', summary: 'A message or request body does not match its JSON Schema.' },
  SF_EVENT_MALFORMED: { status: 400, disposition: 'dead-letter', summary: 'An HTTP request is not a valid CloudEvent (missing attributes, bad JSON).' },
  SF_EVENT_UNKNOWN_TYPE: { status: 400, disposition: 'dead-letter', summary: 'A CloudEvent type this function does not handle.' },
  SF_EVENT_TOO_LARGE: { status: 413, disposition: 'dead-letter', summary: 'An event larger than the 1 MiB body limit of the Knative runtime.' },
  SF_NOT_FOUND: { status: 404, disposition: 'reject', summary: 'An unknown workflow, collection or model.' },
  SF_CONFLICT: { status: 409, disposition: 'reject', summary: 'The request conflicts with the current state (e.g. stopping a finished workflow).' },
  SF_UNAUTHORIZED: { status: 401, disposition: 'reject', summary: 'A bearer token is required and was missing or wrong.' },
  SF_CONFIG_INVALID: { status: 500, disposition: 'retry', summary: 'An environment variable or manifest value is missing or malformed.' },
  SF_DEPENDENCY_UNAVAILABLE: { status: 503, disposition: 'retry', summary: 'Kafka, the store, object storage or the exchange is unreachable for now.' },
  SF_RATE_LIMITED: { status: 429, disposition: 'retry', summary: 'A rate limit (the exchange weight budget) says: come back later.' },
  SF_EXCHANGE_REJECTED: { status: 422, disposition: 'dead-letter', summary: 'The exchange refused a request for good (invalid symbol or interval).' },
  SF_INTERNAL: { status: 500, disposition: 'retry', summary: 'An unexpected failure; retried in case it was transient.' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

const BRAND = Symbol.for('streamforge.error');

export interface StreamForgeErrorOptions {
  cause?: unknown;
  /** Machine-readable context, e.g. the failing field of a contract. */
  details?: Record<string, unknown>;
}

export class StreamForgeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly disposition: Disposition;
  readonly details: Record<string, unknown> | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: StreamForgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamForgeError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.disposition = ERROR_CODES[code].disposition;
    this.details = options.details;
  }

  /** Works across duplicate copies of this module, where `instanceof` does not. */
  static is(value: unknown): value is StreamForgeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  toJSON(): { error: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, details: this.details };
  }
}

/** Wraps anything thrown into a StreamForgeError, keeping the original as the cause. */
export function toStreamForgeError(error: unknown): StreamForgeError {
  if (StreamForgeError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StreamForgeError('SF_INTERNAL', message, { cause: error });
}

/** Whether a KafkaSource retries a response with this HTTP status (knative.md §2.6). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}
