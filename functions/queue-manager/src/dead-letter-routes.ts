/**
 * Dead letters over HTTP, inside the API's scope (same token rule): list them with their
 * reason, show one with its event, replay them to their original topics after a fix. The
 * CLI's `streamforge dlq ls | show | replay` call these routes.
 */
import type { FastifyInstance } from 'fastify';
import { QUEUE_ID_PATTERN } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { DeadLetter, Store } from '@streamforge/core/store';
import { errorResponses } from './error-schema.ts';
import { cursorOf, positionOf } from './events-cursor.ts';
import { REPLAY_BATCH, type Manager } from './manager.ts';

const letterSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Where it lies: <dead-letter topic>:<partition>:<offset>' },
    queue_id: { type: 'string' },
    service: { type: 'string', description: 'The service that could not take it' },
    topic: { type: 'string', description: 'Where a replay sends it (empty: unknown, not replayable)' },
    reason: { type: 'string' },
    status: { type: 'integer' },
    dead_lettered_at: { type: 'number' },
    replayed_at: { type: 'number' },
    event: { type: 'object', additionalProperties: true },
  },
} as const;

/** A listing shows what the event was, not its data (a data batch can be a megabyte). */
function summary(letter: DeadLetter): DeadLetter {
  const { data: _data, ...attributes } = letter.event;
  return { ...letter, event: attributes };
}

export function deadLetterRoutes(api: FastifyInstance, { manager, store }: { manager: Manager; store: Store }): void {
  api.get<{ Querystring: { workflow?: string; limit: number; after?: string } }>(
    '/dead-letters',
    {
      schema: {
        summary: 'Dead letters, oldest first, with their reason (without their data)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: { type: 'string', pattern: QUEUE_ID_PATTERN },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            after: { type: 'string', description: '`next` of the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { dead_letters: { type: 'array', items: letterSchema }, next: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { workflow, limit, after } = request.query;
      if (workflow !== undefined) await manager.getWorkflow(workflow);
      const letters = await store.listDeadLetters({
        limit,
        ...(workflow === undefined ? {} : { queue_id: workflow }),
        ...(after === undefined ? {} : { after: positionOf(after) }),
      });
      const last = letters.at(-1);
      return {
        dead_letters: letters.map(summary),
        next: last ? cursorOf({ received_at: last.dead_lettered_at, event_id: last.id }) : (after ?? null),
      };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/dead-letters/:id',
    {
      schema: {
        summary: 'One dead letter with its event and data',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 300 } } },
        response: { 200: letterSchema, ...errorResponses },
      },
    },
    async (request) => {
      const letter = await store.getDeadLetter(request.params.id);
      if (!letter) throw new StreamForgeError('SF_NOT_FOUND', `no dead letter ${request.params.id}`);
      return letter;
    },
  );

  api.post<{ Body: { workflow?: string; ids?: string[]; all?: true } }>(
    '/dead-letters/replay',
    {
      schema: {
        summary: `Publish dead letters to their original topics again: by id, every one not yet replayed of a workflow, or of all (\`all: true\`); at most ${REPLAY_BATCH} per call (\`more\` says when others wait)`,
        body: {
          type: 'object',
          additionalProperties: false,
          // Exactly one way of choosing: replaying everything is never what an empty body means.
          oneOf: [{ required: ['workflow'] }, { required: ['ids'] }, { required: ['all'] }],
          properties: {
            workflow: { type: 'string', pattern: QUEUE_ID_PATTERN },
            ids: { type: 'array', minItems: 1, maxItems: REPLAY_BATCH, items: { type: 'string', maxLength: 300 } },
            all: { const: true },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              more: { type: 'boolean' },
              replayed: { type: 'array', items: { type: 'string' } },
              skipped: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, reason: { type: 'string' } } },
              },
              reopened: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const body = request.body;
      return manager.replayDeadLetters({
        ...(body.workflow === undefined ? {} : { queueId: body.workflow }),
        ...(body.ids === undefined ? {} : { ids: body.ids }),
      });
    },
  );
}
