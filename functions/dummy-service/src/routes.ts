/**
 * dummy-service's HTTP routes beside the CloudEvent endpoint `/` (the runtime serves a
 * module's `routes` plugin on the same server):
 *
 *   GET  /diagnostics[?timeout_ms=]   Kafka reachable, topics present, ping round trip;
 *                                     200 when all is well, 503 with the failing part
 *   POST /load                        {"workflows": {...}} or {"data": {...}}: the load
 *                                     generator (packages/load/src/load-generator.ts);
 *                                     answers with its report when the load is done
 *
 * /load starts workflows with the API token, so with STREAMFORGE_API_TOKEN set it wants
 * the same bearer token; /diagnostics stays open like the health routes.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { TOPICS, type EventProducer } from '@streamforge/core/bus';
import { env } from '@streamforge/core/config';
import { SYMBOL_PATTERN } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { runDataLoad, runWorkflowLoad } from '@streamforge/load';
import type { Diagnostics } from './diagnostics.ts';

const DATA_TOPICS = [TOPICS.dataKlines] as const;

export const loadRequestSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    workflows: {
      type: 'object',
      additionalProperties: false,
      required: ['count'],
      description: 'N workflows through the manager API, each followed to its final status.',
      properties: {
        count: { type: 'integer', minimum: 1, maximum: 10_000 },
        concurrency: { type: 'integer', minimum: 1, maximum: 1_000 },
        sequential: { type: 'boolean', description: 'One after another (a baseline).' },
        type: { type: 'string', minLength: 3, maxLength: 64, default: 'dummy_load' },
        params: {
          type: 'object',
          additionalProperties: true,
          description: 'The simulated script: steps, records_per_step, interval_ms, fail_after_s, crash_after_s.',
        },
        api_url: {
          type: 'string',
          pattern: '^https?://',
          description: 'The manager API; STREAMFORGE_API_URL when absent.',
        },
        timeout_ms: { type: 'integer', minimum: 1_000, maximum: 600_000 },
      },
    },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['events_per_second', 'seconds'],
      description: 'M kline batches per second for T seconds onto a data topic.',
      properties: {
        events_per_second: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 },
        seconds: { type: 'number', exclusiveMinimum: 0, maximum: 600 },
        records_per_event: { type: 'integer', minimum: 1, maximum: 5_000 },
        symbol: { type: 'string', pattern: SYMBOL_PATTERN },
        topic: { type: 'string', enum: [...DATA_TOPICS] },
      },
    },
  },
} as const;

interface LoadRequest {
  workflows?: {
    count: number;
    concurrency?: number;
    sequential?: boolean;
    type: string;
    params?: Record<string, unknown>;
    api_url?: string;
    timeout_ms?: number;
  };
  data?: { events_per_second: number; seconds: number; records_per_event?: number; symbol?: string; topic?: string };
}

export interface RouteDeps {
  diagnostics: Diagnostics;
  producer: EventProducer;
}

function authorised(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export async function registerRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.get<{ Querystring: { timeout_ms: number } }>(
    '/diagnostics',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { timeout_ms: { type: 'integer', minimum: 100, maximum: 60_000, default: 15_000 } },
        },
      },
    },
    async (request, reply) => {
      const report = await deps.diagnostics.run({ timeoutMs: request.query.timeout_ms });
      return reply.code(report.ok ? 200 : 503).send(report);
    },
  );

  app.post<{ Body: LoadRequest }>('/load', { schema: { body: loadRequestSchema } }, async (request) => {
    const token = env('STREAMFORGE_API_TOKEN');
    if (token && !authorised(request.headers.authorization, token)) {
      throw new StreamForgeError(
        'SF_UNAUTHORIZED',
        'a bearer token is required: Authorization: Bearer <STREAMFORGE_API_TOKEN>',
      );
    }
    const { workflows, data } = request.body;
    if (workflows) {
      const apiUrl = workflows.api_url ?? env('STREAMFORGE_API_URL');
      if (!apiUrl)
        throw new StreamForgeError(
          'SF_CONTRACT_INVALID',
          'workflows.api_url: is required when STREAMFORGE_API_URL is not set',
        );
      return {
        workflows: await runWorkflowLoad({
          apiUrl,
          ...(token ? { token } : {}),
          count: workflows.count,
          type: workflows.type,
          ...(workflows.concurrency ? { concurrency: workflows.concurrency } : {}),
          ...(workflows.sequential ? { sequential: true } : {}),
          ...(workflows.params ? { params: workflows.params } : {}),
          ...(workflows.timeout_ms ? { timeoutMs: workflows.timeout_ms } : {}),
        }),
      };
    }
    const d = data as NonNullable<LoadRequest['data']>;
    return {
      data: await runDataLoad({
        producer: deps.producer,
        eventsPerSecond: d.events_per_second,
        seconds: d.seconds,
        ...(d.records_per_event ? { recordsPerEvent: d.records_per_event } : {}),
        ...(d.symbol ? { symbol: d.symbol } : {}),
        ...(d.topic ? { topic: d.topic } : {}),
      }),
    };
  });
}
