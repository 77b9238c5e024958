/**
 * gnn-trainer: on a `start` command for a `gnn_train` workflow, trains a two-layer GCN (in
 * TypeScript, packages/gnn/src) on a built graph set (next-window direction, evaluated
 * walk-forward against a no-graph and a majority baseline) or on a node-classification
 * dataset, exports it to ONNX checked against the TypeScript forward pass, stores model.onnx
 * and metadata.json in object storage under a new version and records it in the store.
 *
 * Inference with onnxruntime-node, sessions cached: `POST /predict` (routes.ts), and the
 * CloudEvent `dev.streamforge.gnn.predict` (same body) answered with a
 * `dev.streamforge.gnn.prediction` CloudEvent (Knative's request-reply: a Trigger's reply
 * goes back to the broker). Prediction events are sent to the function, not on its
 * command topic, which carries only commands.
 */
import { CloudEvent } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { parseCommandFor, sourceOf, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { openObjectStore, type ObjectStore } from '@streamforge/core/objects';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { openStore, type Store } from '@streamforge/core/store';
import { createModelCache, type ModelCache } from './model-cache.ts';
import { PREDICT_EVENT_TYPES, predict } from './predict.ts';
import { registerRoutes } from './routes.ts';
import { SERVICE, trainFromCommand, type TrainerDeps } from './train-model.ts';

let bus: ServiceBus;
let store: Store;
let objects: ObjectStore;
let cache: ModelCache;
let deps: TrainerDeps;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus(SERVICE, info.logger);
  // Object storage is contacted on first use: a function that only serves cached models, or
  // starts while MinIO does, still becomes ready.
  objects = openObjectStore();
  cache = createModelCache(objects);
  deps = { store, objects, telemetry: bus.telemetry, logger: info.logger };
}

export async function routes(app: FastifyInstance): Promise<void> {
  await registerRoutes(app, () => ({ store, cache }));
}

export async function shutdown(): Promise<void> {
  await cache?.close();
  await bus?.close();
  await store?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<CloudEvent<unknown> | undefined> {
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'gnn-trainer takes CloudEvents (start commands from queue-control.gnn-trainer, dev.streamforge.gnn.predict); POST /predict is its HTTP route',
    );
  if (event.type === PREDICT_EVENT_TYPES.request) {
    const answer = await predict({ store, cache }, event.data);
    return new CloudEvent({
      type: PREDICT_EVENT_TYPES.reply,
      source: sourceOf(SERVICE),
      subject: event.subject ?? `${answer.model_id}:v${answer.version}`,
      datacontenttype: 'application/json',
      data: answer,
    });
  }
  const command = parseCommandFor(SERVICE, event.data);
  // A training runs to its end within one delivery: a stop has nothing to interrupt.
  if (command.command !== 'start') return undefined;
  const metadata = await trainFromCommand(deps, command as StartCommand);
  if (metadata) context.log.info({ model_id: metadata.model_id, version: metadata.version }, 'model published');
  return undefined;
}
