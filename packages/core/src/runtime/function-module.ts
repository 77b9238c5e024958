/**
 * What a function module exports, as the Knative Node runtime (faas-js-runtime) expects:
 * `handle` (required), and optionally `init`, `shutdown`, `readiness`, `liveness`. A
 * function with a REST API (the manager) also exports `routes`, a fastify plugin served
 * beside `/` by the same server.
 */
import type { CloudEvent } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../telemetry/logger.ts';
import type { FunctionMetrics } from '../telemetry/metrics.ts';

export interface Context {
  /** Logger of this request; carries `queue_id` when the event has a subject. */
  log: Logger;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  contentType: string | undefined;
  /** Parsed body of a plain HTTP call (JSON parsed when the content type says JSON). */
  body: unknown;
  cloudevent: CloudEvent<unknown> | undefined;
  metrics: FunctionMetrics;
}

/** What a handler may return (faas-js-runtime's mapping): nothing → 204, a CloudEvent, a string, or a structured reply. */
export type HandlerResult =
  | undefined
  | null
  | string
  | CloudEvent<unknown>
  | { statusCode?: number; headers?: Record<string, string>; body?: unknown }
  | Record<string, unknown>;

export interface FunctionRuntimeInfo {
  name: string;
  logger: Logger;
  metrics: FunctionMetrics;
}

export interface FunctionModule {
  handle(context: Context, event?: CloudEvent<unknown>): HandlerResult | Promise<HandlerResult>;
  init?(info: FunctionRuntimeInfo): void | Promise<void>;
  shutdown?(): void | Promise<void>;
  readiness?(): boolean | Promise<boolean>;
  liveness?(): boolean | Promise<boolean>;
  routes?(app: FastifyInstance, info: FunctionRuntimeInfo): void | Promise<void>;
}
