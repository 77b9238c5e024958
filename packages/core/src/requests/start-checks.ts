/**
 * What each target refuses of a start command, by workflow type, with the functions the
 * targets parse their commands with. queue-manager runs it before it stores or publishes
 * anything, so a command its target would dead-letter or fail at once is a 400 at the door.
 * Not here: what only the target can find out (a symbol the exchange lists, a graph that
 * exists, a dataset in object storage).
 */
import { parseWorkflowType, type StartCommand } from '../contracts/index.ts';
import { StreamForgeError } from '../errors.ts';
import { parseGraphRequest } from './graph-request.ts';
import { marketRefusal, parseLiveStreamParams } from './live-stream.ts';
import { parseSimulation } from './simulation.ts';
import { parseTrainRequest } from './train-request.ts';

/** Throws SF_CONTRACT_INVALID naming the command's field (a param is a field of the command) and the reason. */
export function checkStartCommand(command: StartCommand): void {
  const plan = parseWorkflowType(command.type);
  const refusal = marketRefusal(plan, command.market ?? 'spot');
  if (refusal)
    throw new StreamForgeError('SF_CONTRACT_INVALID', `type: ${refusal}`, {
      details: { errors: [{ field: 'type', reason: refusal }] },
    });
  switch (plan.source) {
    case 'graph':
      parseGraphRequest(command);
      return;
    case 'gnn':
      parseTrainRequest(command);
      return;
    case 'dummy':
      parseSimulation(command);
      return;
    case 'ws':
      // The Job gets the workflow's params as LOADER_WS_PARAMS; in the command they are its fields.
      parseLiveStreamParams(command);
      return;
    case 'api':
      // loader-api takes what the command contract allows: its time_range and collection_name
      // are always set by the manager (plan-pages.ts refuses a command without them).
      return;
  }
}
