/**
 * graph-builder: on a `start` command for a `graph_correlation` workflow, builds a graph of
 * the symbols for every window of the time range from their stored candles (features of
 * returns and volume, edges by return correlation, next-window labels kept apart) and
 * writes the windows through the store: an ArangoDB named graph, or tables in SQLite.
 * It answers 2xx only once the whole set is stored, so a KafkaSource retry rebuilds it.
 */
import type { CloudEvent } from 'cloudevents';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { parseCommandFor, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { openStore, type Store } from '@streamforge/core/store';
import { SERVICE, buildGraphs, type BuilderDeps } from './build-graphs.ts';

let bus: ServiceBus;
let store: Store;
let deps: BuilderDeps;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus(SERVICE, info.logger);
  deps = { store, telemetry: bus.telemetry, logger: info.logger };
}

export async function shutdown(): Promise<void> {
  await bus?.close();
  await store?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'graph-builder takes CloudEvents from queue-control.graph-builder (start commands of graph_correlation workflows)',
    );
  const command = parseCommandFor(SERVICE, event.data);
  // A build is short and idempotent: a stop has nothing to interrupt.
  if (command.command !== 'start') return undefined;
  const summary = await buildGraphs(deps, command as StartCommand);
  if (summary) context.log.info({ graph_id: summary.graphId, windows: summary.windows }, 'graphs built');
  return undefined;
}
