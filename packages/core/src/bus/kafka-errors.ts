/**
 * What the bus tells its callers about a client error, in the project's own terms: the
 * broker's error name (e.g. INVALID_SESSION_TIMEOUT) and whether trying again can help.
 */
import { StreamForgeError } from '../errors.ts';

interface ClientError extends Error {
  findBy?(property: string, value: unknown): (Error & Record<string, unknown>) | null;
  errors?: unknown[];
}

/** Every error in a client error's tree (the client nests per-broker and per-partition failures). */
function* errorTree(error: unknown, depth = 0): Generator<Error & Record<string, unknown>> {
  if (!(error instanceof Error) || depth > 8) return;
  yield error as Error & Record<string, unknown>;
  for (const inner of (error as ClientError).errors ?? []) yield* errorTree(inner, depth + 1);
  if (error.cause !== undefined) yield* errorTree(error.cause, depth + 1);
}

/** The broker's name of the first protocol error in the tree (UNKNOWN_TOPIC_OR_PARTITION, …). */
export function kafkaErrorName(error: unknown): string | undefined {
  for (const e of errorTree(error)) if (typeof e.apiId === 'string') return e.apiId;
  return undefined;
}

/** Whether the client or the broker said that the same request may succeed later. */
export function isRetriableKafkaError(error: unknown): boolean {
  let retriable = false;
  for (const e of errorTree(error)) {
    // A rebalance under way (the client rejoins the group) is worth another try, though the client marks it final.
    if (e.needsRejoin === true) retriable = true;
    else if (e.canRetry === false && typeof e.apiId === 'string') return false; // the broker said no
    if (e.canRetry === true || e.code === 'PLT_KFK_NETWORK') retriable = true;
  }
  return retriable;
}

/** A client failure as the project's error: retried (503) when Kafka may answer later. */
export function kafkaFailure(what: string, error: unknown): StreamForgeError {
  if (StreamForgeError.is(error)) return error;
  const name = kafkaErrorName(error);
  const retriable = isRetriableKafkaError(error);
  return new StreamForgeError(
    retriable ? 'SF_DEPENDENCY_UNAVAILABLE' : 'SF_INTERNAL',
    `${what}: ${(error as Error).message}${name ? ` (${name})` : ''}`,
    {
      cause: error,
      details: { ...(name ? { kafka_error: name } : {}), retriable },
    },
  );
}
