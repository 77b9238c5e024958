/**
 * The graph sets graph-builder stored, inside the API's scope (same token rule), for the
 * console's graph view: `GET /graphs/{id}` answers the set's description and one window's
 * vertices and edges (the latest by default), never every window at once.
 */
import type { FastifyInstance } from 'fastify';
import { COLLECTION_NAME_PATTERN } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { GRAPH_ID_MAX_LENGTH, type Store } from '@streamforge/core/store';
import { errorResponses } from './error-schema.ts';

const anyObject = { type: 'object', additionalProperties: true } as const;

export const graphResponseSchema = {
  type: 'object',
  properties: {
    set: {
      type: 'object',
      properties: {
        graph_id: { type: 'string' },
        status: { type: 'string', enum: ['building', 'complete'] },
        windows: { type: 'integer' },
        feature_names: { type: 'array', items: { type: 'string' } },
        symbols: { type: 'array', items: { type: 'string' } },
        params: anyObject,
        created_at: { type: 'number' },
        updated_at: { type: 'number' },
      },
    },
    window: {
      description: 'The window asked for; null when it holds no vertex (not stored)',
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            window: { type: 'integer' },
            start: { type: 'number' },
            end: { type: 'number' },
            vertices: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  symbol: { type: 'string' },
                  features: { type: 'array', items: { type: 'number' } },
                  label: {
                    anyOf: [
                      { type: 'null' },
                      {
                        type: 'object',
                        properties: {
                          class: { type: 'integer' },
                          value: { type: 'number' },
                          known_at: { type: 'number' },
                        },
                      },
                    ],
                  },
                  attributes: anyObject,
                },
              },
            },
            edges: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  from: { type: 'string' },
                  to: { type: 'string' },
                  weight: { type: 'number' },
                  attributes: anyObject,
                },
              },
            },
          },
        },
      ],
    },
  },
} as const;

export function graphRoutes(api: FastifyInstance, { store }: { store: Store }): void {
  api.get<{ Params: { id: string }; Querystring: { window?: number } }>(
    '/graphs/:id',
    {
      schema: {
        summary: 'A graph set and one of its windows (vertices with features and labels, weighted edges)',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: COLLECTION_NAME_PATTERN, maxLength: GRAPH_ID_MAX_LENGTH } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            window: { type: 'integer', minimum: 0, description: 'Window index (default: the latest)' },
          },
        },
        response: { 200: graphResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const set = await store.getGraphSet(id);
      if (!set) throw new StreamForgeError('SF_NOT_FOUND', `no graph set ${id}`);
      if (set.windows === 0) return { set, window: null };
      const index = request.query.window ?? set.windows - 1;
      if (index >= set.windows)
        throw new StreamForgeError(
          'SF_CONTRACT_INVALID',
          `window: ${index} is past the set's last window, ${set.windows - 1}`,
        );
      const graph = await store.readGraph(id, { window: index });
      const window = graph?.windows[0];
      return { set: graph?.set ?? set, window: window ?? null };
    },
  );
}
