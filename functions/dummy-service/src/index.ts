/**
 * dummy-service: diagnostics for the event chain. A `ping` on queue-control comes back as a
 * `pong` telemetry event on queue-events, carrying the ping's send time so the round trip
 * can be measured.
 */
import type { CloudEvent } from 'cloudevents';
import { connectServiceBus, type ServiceBus } from '@streamforge/shared/bus';
import { controlCommandContract, serviceOf, telemetryId } from '@streamforge/shared/contracts';
import { StreamForgeError } from '@streamforge/shared/errors';
import type { Context, FunctionRuntimeInfo } from '@streamforge/shared/runtime';
import { answerPing } from './ping.ts';

const SERVICE = 'dummy-service';
let bus: ServiceBus;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  bus = await connectServiceBus(SERVICE, info.logger);
}

export async function shutdown(): Promise<void> {
  await bus?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event) throw new StreamForgeError('SF_EVENT_MALFORMED', 'dummy-service takes CloudEvents from queue-control');
  const command = controlCommandContract.parse(event.data);
  // Every command on queue-control reaches every consumer; act only on ours (or untargeted pings).
  if (command.target !== undefined && serviceOf(command.target) !== SERVICE) return undefined;
  if (command.command === 'ping') {
    await answerPing(bus.telemetry, command, command.telemetry_id as string | undefined ?? telemetryId(SERVICE, 'diag'));
    context.log.info('pong');
  }
  return undefined;
}
