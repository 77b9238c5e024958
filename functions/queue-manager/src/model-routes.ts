/**
 * The model registry, inside the API's scope (same token rule), for the console's training
 * curves: `GET /models[?workflow=]` lists versions (of the models, or the one a workflow
 * trained) without their curves; `GET /models/{id}` answers one version's record with its
 * metadata (metrics, hyperparameters, `curves` by epoch), the latest ready one unless
 * `version` names another.
 */
import type { FastifyInstance } from 'fastify';
import { QUEUE_ID_PATTERN } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { MODEL_ID_PATTERN, type ModelRecord, type Store } from '@streamforge/core/store';
import { errorResponses } from './error-schema.ts';

export const modelResponseSchema = {
  type: 'object',
  properties: {
    model_id: { type: 'string' },
    version: { type: 'integer' },
    status: { type: 'string', enum: ['training', 'ready'] },
    s3_key: { type: 'string' },
    queue_id: { type: 'string' },
    metadata: {
      type: 'object',
      additionalProperties: true,
      description:
        'The metadata.json document: task, features, hyperparameters, metrics, curves (loss and accuracies by epoch)',
    },
    created_at: { type: 'number' },
    updated_at: { type: 'number' },
  },
} as const;

/** A listing leaves the curves out: a few hundred numbers per version, read one version at a time. */
function withoutCurves(model: ModelRecord): ModelRecord {
  const { curves: _curves, ...metadata } = model.metadata;
  return { ...model, metadata };
}

/** Versions the registry scans for a workflow's (registries hold hundreds, not millions). */
const SCANNED_VERSIONS = 10_000;

export function modelRoutes(api: FastifyInstance, { store }: { store: Store }): void {
  api.get<{ Querystring: { workflow?: string; limit: number } }>(
    '/models',
    {
      schema: {
        summary: 'Model versions, each model newest first, or the ones a workflow trained (without their curves)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: {
              type: 'string',
              pattern: QUEUE_ID_PATTERN,
              description: 'Only what this gnn_train workflow trained',
            },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: { type: 'object', properties: { models: { type: 'array', items: modelResponseSchema } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { workflow, limit } = request.query;
      const models = await store.listModels({ limit: workflow ? SCANNED_VERSIONS : limit });
      const chosen = workflow ? models.filter((m) => m.queue_id === workflow).slice(0, limit) : models;
      return { models: chosen.map(withoutCurves) };
    },
  );

  api.get<{ Params: { id: string }; Querystring: { version?: number } }>(
    '/models/:id',
    {
      schema: {
        summary: 'A trained model version and its metadata (the latest ready one by default)',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: MODEL_ID_PATTERN } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1 } },
        },
        response: { 200: modelResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const model = await store.getModel(id, request.query.version);
      if (!model)
        throw new StreamForgeError(
          'SF_NOT_FOUND',
          request.query.version === undefined
            ? `no ready model ${id}`
            : `no model ${id} version ${request.query.version}`,
        );
      return model;
    },
  );
}
