/**
 * One error base for StreamForge. Every error carries a stable code, the HTTP status a
 * function answers with, and its disposition: what every retrying part of StreamForge (the
 * KafkaSource dispatcher, the Kafka consumers, the functions' own telemetry) does with the
 * work that failed:
 *
 * - `retry`: tried again with backoff; an event is answered with a 5xx or 429, which
 *   Knative's dispatcher retries too;
 * - `dead-letter`: never tried again; an event is answered with a 4xx Knative does not
 *   retry, so it goes to the dead-letter sink with the reason;
 * - `reject`: never tried again; a 4xx for a plain HTTP caller (bad request body, unknown
 *   id). An event is answered with a status Knative does not retry (eventStatus), so it
 *   too goes to the dead-letter sink.
 *
 * A failed request's response also carries the code, the reason, the disposition and whether
 * it is retried in `kne-` headers (ERROR_HEADERS), which become extensions of the dead-letter
 * event. The table lives in one place so that the status a handler answers with, what the
 * dispatcher and consumers do, the reason in a dead-letter record and the docs stay in step:
 * docs/errors.md is generated from it (scripts/generate-error-docs.ts; a test fails when the
 * two differ).
 */

export const DISPOSITIONS = ['retry', 'dead-letter', 'reject'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** What each disposition means to every part that acts on it: the one statement of the policy (docs/errors.md shows it). */
export const DISPOSITION_RULES: Record<
  Disposition,
  { event: string; dispatcher: string; consumer: string; telemetry: string }
> = {
  retry: {
    event: "the code's status, a 5xx or 429: Knative retries it",
    dispatcher:
      "tries again with the KafkaSource's backoff; once its retries are spent, the event goes to the dead-letter sink",
    consumer: 'tries again with backoff, for as long as it takes (the partition waits, the others go on)',
    telemetry: 'a function reporting it keeps the workflow going (a later attempt may finish it)',
  },
  'dead-letter': {
    event: "the code's status, a 4xx Knative does not retry",
    dispatcher: 'sends the event to the dead-letter sink at once, with the code and reason as extensions',
    consumer: 'does not try again: hands the record to `onFailed` (or logs it) and commits past it',
    telemetry: 'a function reporting it ends the workflow in error (`retryable: false`)',
  },
  reject: {
    event: "the code's status if Knative does not retry it, else 422",
    dispatcher: 'sends the event to the dead-letter sink at once, with the code and reason as extensions',
    consumer: 'does not try again: hands the record to `onFailed` (or logs it) and commits past it',
    telemetry: 'a function reporting it ends the workflow in error (`retryable: false`)',
  },
};

interface CodeInfo {
  status: number;
  disposition: Disposition;
  summary: string;
}

export const ERROR_CODES = {
  SF_CONTRACT_INVALID: {
    status: 400,
    disposition: 'dead-letter',
    summary: 'A message or request body does not match its JSON Schema.',
  },
  SF_EVENT_MALFORMED: {
    status: 400,
    disposition: 'dead-letter',
    summary: 'An HTTP request is not a valid CloudEvent (missing attributes, bad JSON).',
  },
  SF_EVENT_UNKNOWN_TYPE: {
    status: 400,
    disposition: 'dead-letter',
    summary: 'A CloudEvent type this function does not handle.',
  },
  SF_EVENT_TOO_LARGE: {
    status: 413,
    disposition: 'dead-letter',
    summary: 'An event larger than the 1 MiB body limit of the Knative runtime.',
  },
  SF_NOT_FOUND: { status: 404, disposition: 'reject', summary: 'An unknown workflow, collection or model.' },
  SF_CONFLICT: {
    status: 409,
    disposition: 'reject',
    summary: 'The request conflicts with the current state (e.g. stopping a finished workflow).',
  },
  SF_UNAUTHORIZED: {
    status: 401,
    disposition: 'reject',
    summary: 'A bearer token is required and was missing or wrong.',
  },
  SF_CONFIG_INVALID: {
    status: 500,
    disposition: 'retry',
    summary: 'An environment variable or manifest value is missing or malformed.',
  },
  SF_DEPENDENCY_UNAVAILABLE: {
    status: 503,
    disposition: 'retry',
    summary: 'Kafka, the store, object storage or the exchange is unreachable for now.',
  },
  SF_BUSY: {
    status: 503,
    disposition: 'retry',
    summary:
      'What the work needs is still being changed by other work (a graph set being built, many writers of one record at once); the same request succeeds later.',
  },
  SF_RATE_LIMITED: {
    status: 429,
    disposition: 'retry',
    summary: 'A rate limit (the exchange weight budget) says: come back later.',
  },
  SF_EXCHANGE_REJECTED: {
    status: 422,
    disposition: 'dead-letter',
    summary: 'The exchange refused a request for good (invalid symbol or interval).',
  },
  SF_MODEL_CHECK_FAILED: {
    status: 422,
    disposition: 'dead-letter',
    summary:
      "A trained model failed its check before publishing (onnxruntime's outputs differ from the TypeScript forward pass); training again on the same request does not fix it.",
  },
  SF_ARCHIVE_INVALID: {
    status: 502,
    disposition: 'retry',
    summary:
      "A download from Binance's public archive did not verify (SHA-256 differs from its CHECKSUM, fewer bytes than announced, connection cut); downloading it again may succeed.",
  },
  SF_ARCHIVE_MALFORMED: {
    status: 422,
    disposition: 'dead-letter',
    summary:
      'An archive file that matched its CHECKSUM does not read (not a zip of one CSV, a malformed line): the published file itself is broken, so downloading it again does not help.',
  },
  SF_INTERNAL: {
    status: 500,
    disposition: 'retry',
    summary: 'An unexpected failure; retried in case it was transient.',
  },
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

/** Whether a KafkaSource retries a response with this HTTP status: Knative retries 5xx, 404, 408, 409 and 429 only. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}

/**
 * The status a failed CloudEvent is answered with. Knative's dispatcher sees nothing but the
 * status, so it has to say what the disposition says. A retry code's status is a 5xx or 429 and
 * a dead-letter code's a 4xx Knative does not retry (the table is checked for both); a reject
 * code keeps its status for plain HTTP callers, but 404 and 409 are retried by Knative, so an
 * event gets 422 instead and goes to the dead-letter sink at once.
 */
export function eventStatus(code: ErrorCode): number {
  const { status, disposition } = ERROR_CODES[code];
  if ((disposition === 'retry') === isRetryableStatus(status)) return status;
  return disposition === 'retry' ? 503 : 422;
}

/** The disposition of a failure known only by its HTTP status: what Knative does with it. */
export function dispositionOfStatus(status: number): Disposition {
  return isRetryableStatus(status) ? 'retry' : 'dead-letter';
}

/** What to do with anything thrown: a StreamForgeError's disposition; anything else is SF_INTERNAL, retried. */
export function dispositionOf(error: unknown): Disposition {
  return toStreamForgeError(error).disposition;
}

/** Response headers of a failed request; Knative turns `kne-*` headers into extensions of the dead-letter event. */
export const ERROR_HEADERS = {
  code: 'kne-streamforgeerror',
  reason: 'kne-streamforgereason',
  disposition: 'kne-streamforgedisposition',
  retryable: 'kne-streamforgeretryable',
} as const;

/**
 * What a KafkaSource does with a failed delivery: the disposition the function runtime named in
 * its header; a sink that names none (not a StreamForge function, a proxy's error page) is
 * judged by its status alone, as Knative does.
 */
export function dispositionOfResponse(status: number, headers: Readonly<Record<string, unknown>>): Disposition {
  const named = headers[ERROR_HEADERS.disposition];
  return (DISPOSITIONS as readonly unknown[]).includes(named) ? (named as Disposition) : dispositionOfStatus(status);
}
