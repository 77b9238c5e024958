/**
 * What a live workflow's loader-ws Job is given: its spec from the workflow, and the
 * environment made of it (functions/loader-ws/src/job-config.ts reads it). Here, not in the
 * platform, because the manager checks a request's Job environment at the door.
 */
import { shortIdOf, telemetryId } from '../contracts/ids.ts';
import { StreamForgeError } from '../errors.ts';
import type { WorkflowRecord } from '../store/port.ts';

/** What a live workflow's Job needs to know (the workflow's fields, as the manager stores them). */
export interface LiveJobSpec {
  queue_id: string;
  type: string;
  market: string;
  symbols: string[];
  collection_name: string;
  kafka_topic: string;
  telemetry_id: string;
  params?: Record<string, unknown>;
}

/** A live workflow's Job spec. */
export function jobSpecOf(workflow: WorkflowRecord): LiveJobSpec {
  return {
    queue_id: workflow.queue_id,
    type: workflow.type,
    market: workflow.market,
    symbols: workflow.symbols ?? [workflow.symbol],
    collection_name: workflow.collection_name,
    kafka_topic: workflow.kafka_topic,
    // The same producer id the start command names (queue-manager's workflow-request.ts).
    telemetry_id: telemetryId('loader-ws', shortIdOf(workflow.queue_id)),
    ...(workflow.params ? { params: workflow.params } : {}),
  };
}

/**
 * The most one variable of a Job's environment may take, `NAME=value` with its closing NUL:
 * Linux refuses to start a program with a longer environment string (MAX_ARG_STRLEN, 32
 * pages = 128 KiB; execve(2), "Limits on size of arguments and environment"), so a pod (or a
 * local Job's process) given one would never start.
 */
export const JOB_ENV_ENTRY_MAX_BYTES = 32 * 4096;

/**
 * The environment a loader-ws Job gets for its workflow (functions/loader-ws/src/job-config.ts
 * reads it); SF_CONTRACT_INVALID naming the variable when one is too large to start a process with.
 */
export function jobEnvOf(spec: LiveJobSpec): Record<string, string> {
  const env = {
    QUEUE_ID: spec.queue_id,
    TYPE: spec.type,
    MARKET: spec.market,
    SYMBOLS: spec.symbols.join(','),
    SYMBOL: spec.symbols[0] ?? '',
    COLLECTION_NAME: spec.collection_name,
    KAFKA_TOPIC: spec.kafka_topic,
    TELEMETRY_PRODUCER_ID: spec.telemetry_id,
    LOADER_WS_PARAMS: JSON.stringify(spec.params ?? {}),
  };
  for (const [name, value] of Object.entries(env)) {
    const bytes = Buffer.byteLength(`${name}=${value}`) + 1;
    if (bytes > JOB_ENV_ENTRY_MAX_BYTES) {
      const reason = `${bytes} bytes as the Job's ${name}, more than the ${JOB_ENV_ENTRY_MAX_BYTES} one variable of a process environment may take (Linux MAX_ARG_STRLEN)`;
      throw new StreamForgeError('SF_CONTRACT_INVALID', `${name}: ${reason}`, {
        details: { errors: [{ field: name, reason }] },
      });
    }
  }
  return env;
}
