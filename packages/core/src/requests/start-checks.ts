/**
 * What each target refuses of a start command, by workflow type, with the functions the
 * targets parse their commands with. queue-manager runs it before it stores or publishes
 * anything, so a command its target would dead-letter or fail at once is a 400 at the door.
 * Not here: what only the target can find out (a symbol the exchange lists, a graph that
 * exists, a dataset in object storage).
 */
import { parseWorkflowType, type StartCommand } from '../contracts/index.ts';
import { invalidField } from './field-refusal.ts';
import { parseGraphRequest } from './graph-request.ts';
import { marketRefusal, parseLiveStreamParams } from './live-stream.ts';
import { parseSimulation } from './simulation.ts';
import { parseTrainRequest } from './train-request.ts';

/** The parser each target that reads its start command's own fields runs on it first; the fuzz test of POST /workflows checks accepted commands with the same table. */
export const REQUEST_PARSERS = {
  graph: parseGraphRequest,
  gnn: parseTrainRequest,
  dummy: parseSimulation,
} as const satisfies Record<string, (command: StartCommand) => unknown>;

/** Throws SF_CONTRACT_INVALID naming the command's field (a param is a field of the command) and the reason. */
export function checkStartCommand(command: StartCommand): void {
  const plan = parseWorkflowType(command.type);
  const refusal = marketRefusal(plan, command.market ?? 'spot');
  if (refusal) throw invalidField('type', refusal);
  switch (plan.source) {
    case 'graph':
    case 'gnn':
    case 'dummy':
      REQUEST_PARSERS[plan.source](command);
      return;
    case 'ws':
      // The Job gets the workflow's params as LOADER_WS_PARAMS; in the command they are its fields.
      parseLiveStreamParams(command);
      return;
    case 'api':
    case 'bulk':
      // The loaders take what the command contract allows: its time_range and collection_name
      // are always set by the manager (@streamforge/backfill refuses a command without them).
      return;
  }
}
