/**
 * gnn-trainer's HTTP route beside the CloudEvent endpoint `/` (the runtime serves a module's
 * `routes` plugin on the same server):
 *
 *   POST /predict   {model_id [, version] | model_key, graph_id [, window] | graph}
 *                   → 200 {model_id, version, model_key, task, classes, graph_id?, window?,
 *                          window_start?, window_end?, predictions: [{symbol, probabilities, class}]}
 *                   400 a malformed request, 404 an unknown model or graph, 503 storage down
 */
import type { FastifyInstance } from 'fastify';
import { predict, predictRequestSchema, type PredictDeps } from './predict.ts';

export async function registerRoutes(app: FastifyInstance, deps: () => PredictDeps): Promise<void> {
  app.post('/predict', { schema: { body: predictRequestSchema } }, async (request) => predict(deps(), request.body));
}
