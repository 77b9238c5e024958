/**
 * The manager's REST API (fastify, a JSON Schema on every route; OpenAPI at /openapi.json).
 * With STREAMFORGE_API_TOKEN set, every API route wants `Authorization: Bearer <token>`;
 * health, metrics and the CloudEvent endpoint stay open (probes and the dispatcher).
 */
import { timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamForgeError } from '@streamforge/core/errors';
import { COLLECTION_NAME_PATTERN, QUEUE_ID_PATTERN } from '@streamforge/core/contracts';
import { WORKFLOW_STATUSES, type Store } from '@streamforge/core/store';
import { bookRoutes } from './book-routes.ts';
import { candleRoutes } from './candle-routes.ts';
import { deadLetterRoutes } from './dead-letter-routes.ts';
import { errorSchema } from './error-schema.ts';
import { graphRoutes } from './graph-routes.ts';
import { modelRoutes } from './model-routes.ts';
import { seriesRoutes } from './series-routes.ts';
import { tradeRoutes } from './trade-routes.ts';
import { cursorOf, positionOf } from './events-cursor.ts';
import type { Manager } from './manager.ts';
import { workflowRequestSchema, type WorkflowRequest } from './workflow-request.ts';

const serviceProgressSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    status: { type: 'string' },
    records_written: { type: 'integer' },
    rejected: { type: 'integer' },
    progress: {
      type: 'object',
      properties: {
        done: { type: 'integer' },
        total: { type: 'integer' },
        unit: { type: 'string' },
        bytes: {
          type: 'object',
          description: 'Bulk history: bytes of the archive files read, of all the plan names.',
          properties: { done: { type: 'integer' }, total: { type: 'integer' } },
        },
      },
    },
    message: { type: 'string' },
    updated_at: { type: 'number' },
  },
} as const;

export const workflowSchema = {
  type: 'object',
  properties: {
    queue_id: { type: 'string' },
    symbol: { type: 'string' },
    symbols: { type: 'array', items: { type: 'string' } },
    type: { type: 'string' },
    market: { type: 'string' },
    time_range: { type: 'string' },
    kafka_topic: { type: 'string' },
    collection_name: { type: 'string' },
    status: { type: 'string', enum: [...WORKFLOW_STATUSES] },
    services: { type: 'array', items: { type: 'string' } },
    progress: { type: 'object', additionalProperties: serviceProgressSchema },
    error: { type: 'string' },
    params: { type: 'object', additionalProperties: true },
    dead_letters: {
      type: 'object',
      description:
        'Per service: events of this workflow that went to a dead-letter topic, how many were replayed, the latest reason',
      additionalProperties: {
        type: 'object',
        properties: { total: { type: 'integer' }, replayed: { type: 'integer' }, reason: { type: 'string' } },
      },
    },
    deadline_at: {
      type: 'number',
      description: 'When the workflow ends in error unless it moves first (pending or no-progress timeout, ms)',
    },
    created_at: { type: 'number' },
    updated_at: { type: 'number' },
    stored: {
      type: 'object',
      description: 'What the store holds for this workflow (backfills): pages done of total, records, rejects.',
      properties: {
        pages_done: { type: 'integer' },
        pages_total: { type: 'integer' },
        records_written: { type: 'integer' },
        rejected: { type: 'integer' },
      },
    },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: QUEUE_ID_PATTERN } },
} as const;
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: COLLECTION_NAME_PATTERN } },
} as const;
const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };

/** Constant-time check of an `Authorization: Bearer <token>` header (the console's routes use it too). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export interface ApiOptions {
  manager: Manager;
  store: Store;
  token: string;
}

export async function registerApi(app: FastifyInstance, options: ApiOptions): Promise<void> {
  const { manager, store, token } = options;
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'StreamForge queue-manager',
        version: '0.1.0',
        description: 'Start, stop and watch workflows; read back what was stored.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(token ? { security: [{ bearer: [] }] } : {}),
    },
  });

  await app.register(async (api) => {
    if (token) {
      api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (!tokenMatches(request.headers.authorization, token)) {
          const error = new StreamForgeError(
            'SF_UNAUTHORIZED',
            'a bearer token is required: Authorization: Bearer <STREAMFORGE_API_TOKEN>',
          );
          return reply.code(401).header('www-authenticate', 'Bearer').send(error.toJSON());
        }
      });
    }

    api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    api.post<{ Body: WorkflowRequest }>(
      '/workflows',
      {
        schema: {
          summary: 'Start a workflow',
          body: workflowRequestSchema,
          response: { 201: workflowSchema, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await manager.startWorkflow(request.body)),
    );

    api.get<{ Querystring: { status?: (typeof WORKFLOW_STATUSES)[number]; limit: number; before?: string } }>(
      '/workflows',
      {
        schema: {
          summary: 'List workflows, newest first',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: [...WORKFLOW_STATUSES] },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
              before: { type: 'string', pattern: QUEUE_ID_PATTERN },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: { workflows: { type: 'array', items: workflowSchema }, next_before: { type: 'string' } },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const workflows = await manager.listWorkflows({
          limit: request.query.limit,
          ...(request.query.status ? { status: request.query.status } : {}),
          ...(request.query.before ? { before: request.query.before } : {}),
        });
        const last = workflows.at(-1);
        return {
          workflows,
          ...(workflows.length === request.query.limit && last ? { next_before: last.queue_id } : {}),
        };
      },
    );

    api.get<{ Params: { id: string } }>(
      '/workflows/:id',
      {
        schema: {
          summary: 'A workflow: status, per-service progress and counts, error reason',
          params: idParams,
          response: { 200: workflowSchema, ...errors },
        },
      },
      async (request) => {
        const workflow = await manager.getWorkflow(request.params.id);
        if (!workflow.kafka_topic) return workflow;
        const stored = await store.workflowProgress(workflow.queue_id);
        return {
          ...workflow,
          stored: {
            pages_done: stored.pagesDone,
            ...(stored.pagesTotal === undefined ? {} : { pages_total: stored.pagesTotal }),
            records_written: stored.recordsWritten,
            rejected: stored.rejected,
          },
        };
      },
    );

    api.get<{ Params: { id: string }; Querystring: { limit: number; after?: string } }>(
      '/workflows/:id/events',
      {
        schema: {
          summary: 'The telemetry trail of a workflow, oldest first',
          params: idParams,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
              after: { type: 'string', description: '`next` of the previous page: the trail goes on after it' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                events: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      event_id: { type: 'string' },
                      received_at: { type: 'number' },
                      event: { type: 'object', additionalProperties: true },
                    },
                  },
                },
                next: {
                  type: ['string', 'null'],
                  description: 'The cursor to pass as `after` for the events after these (null: none read yet)',
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const { after } = request.query;
        const events = await manager.listEvents(
          request.params.id,
          request.query.limit,
          after === undefined ? undefined : positionOf(after),
        );
        const last = events.at(-1);
        return { events, next: last ? cursorOf(last) : (after ?? null) };
      },
    );

    api.post<{ Params: { id: string } }>(
      '/workflows/:id/stop',
      {
        schema: {
          summary: 'Stop a workflow (publishes `stop` on the command topic of its service)',
          params: idParams,
          response: { 200: workflowSchema, ...errors },
        },
      },
      async (request) => manager.stopWorkflow(request.params.id),
    );

    api.get(
      '/collections',
      {
        schema: {
          summary: 'Collections and their record counts',
          response: {
            200: {
              type: 'object',
              properties: {
                collections: {
                  type: 'array',
                  items: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } },
                },
              },
            },
          },
        },
      },
      async () => ({ collections: await store.listCollections() }),
    );

    api.get<{ Params: { name: string } }>(
      '/collections/:name',
      {
        schema: {
          summary: 'Record count of a collection',
          params: nameParams,
          response: {
            200: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } },
            ...errors,
          },
        },
      },
      async (request) => {
        const found = (await store.listCollections()).find((c) => c.name === request.params.name);
        if (!found) throw new StreamForgeError('SF_NOT_FOUND', `no collection ${request.params.name}`);
        return found;
      },
    );

    api.get<{ Params: { name: string }; Querystring: { limit: number; after?: string } }>(
      '/collections/:name/records',
      {
        schema: {
          summary: 'Records of a collection in key order (keyset paging with `after`)',
          params: nameParams,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 5000, default: 100 },
              after: { type: 'string', maxLength: 254 },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                collection: { type: 'string' },
                records: { type: 'array', items: { type: 'object', additionalProperties: true } },
                next_after: { type: 'string' },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const { name } = request.params;
        if (!(await store.listCollections()).some((c) => c.name === name))
          throw new StreamForgeError('SF_NOT_FOUND', `no collection ${name}`);
        const records = await store.listRecords(name, {
          limit: request.query.limit,
          ...(request.query.after ? { after: request.query.after } : {}),
        });
        const last = records.at(-1);
        return {
          collection: name,
          records,
          ...(records.length === request.query.limit && last ? { next_after: last.key } : {}),
        };
      },
    );

    candleRoutes(api, { store });
    graphRoutes(api, { store });
    tradeRoutes(api, { store });
    modelRoutes(api, { store });
    bookRoutes(api, { store });
    seriesRoutes(api, { store });
    deadLetterRoutes(api, { manager, store });
  });
}
