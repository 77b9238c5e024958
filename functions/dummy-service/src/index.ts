/**
 * dummy-service: diagnostics for the event chain and a simulated service.
 *
 * - a `ping` on queue-control.dummy-service comes back as a `pong` on queue-events, carrying the ping's
 *   send time so the round trip can be measured (GET /diagnostics does it for you);
 * - a `start` for a `dummy_*` workflow plays a scripted telemetry sequence (simulate.ts),
 *   a `stop` ends a script running here with `stopped`;
 * - POST /load runs the load generator (routes.ts).
 */
import type { CloudEvent } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { parseCommandFor, telemetryId, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { Counter } from '@streamforge/core/telemetry';
import { createDiagnostics, type Diagnostics } from './diagnostics.ts';
import { answerPing } from './ping.ts';
import { registerRoutes } from './routes.ts';
import { SERVICE, runSimulation } from './simulate.ts';

let bus: ServiceBus;
let diagnostics: Diagnostics;
let pings: Counter<string>;
let simulations: Counter<'outcome'>;
/** Scripts running in this process, by queue_id, so a `stop` can end them. */
const running = new Map<string, AbortController>();

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  bus = await connectServiceBus(SERVICE, info.logger);
  diagnostics = createDiagnostics({
    connection: bus.connection,
    producer: bus.producer,
    logger: info.logger,
    registry: info.metrics.registry,
  });
  const registers = [info.metrics.registry];
  pings = new Counter({ name: 'streamforge_dummy_pings_total', help: 'Pings answered with a pong.', registers });
  simulations = new Counter({
    name: 'streamforge_dummy_simulations_total',
    help: 'Simulated workflow scripts played, by outcome.',
    labelNames: ['outcome'],
    registers,
  });
}

export async function routes(app: FastifyInstance): Promise<void> {
  await registerRoutes(app, { diagnostics, producer: bus.producer });
}

export async function shutdown(): Promise<void> {
  for (const controller of running.values()) controller.abort();
  await diagnostics?.close();
  await bus?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'dummy-service takes CloudEvents from queue-control.dummy-service (GET /diagnostics and POST /load are its HTTP routes)',
    );
  const command = parseCommandFor(SERVICE, event.data);
  if (command.command === 'ping') {
    await answerPing(
      bus.telemetry,
      command,
      (command.telemetry_id as string | undefined) ?? telemetryId(SERVICE, 'diag'),
    );
    pings.inc();
    context.log.info('pong');
  } else if (command.command === 'start') {
    const controller = new AbortController();
    running.set(command.queue_id, controller);
    try {
      const outcome = await runSimulation({ producer: bus.producer }, command as StartCommand, controller.signal);
      simulations.inc({ outcome });
      context.log.info({ outcome }, 'simulation played');
    } finally {
      if (running.get(command.queue_id) === controller) running.delete(command.queue_id);
    }
  } else if (command.command === 'stop') {
    running.get(command.queue_id)?.abort();
  }
  return undefined;
}
