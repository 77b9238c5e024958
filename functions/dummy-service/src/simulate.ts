/**
 * A simulated service for `dummy_*` workflows: a scripted telemetry sequence read from the
 * start command's parameters, so the manager, the console, benchmarks and fault tests can be
 * exercised without an exchange or a store. The parameters are read by parseSimulation
 * (@streamforge/core/requests), the same check the manager applies at the door.
 *
 *   steps, records_per_step, interval_ms   `started`, `loading` × steps (records_written
 *                                          grows by records_per_step), then `finished`
 *   fail_after_s                           `error` once that many seconds passed (the steps
 *                                          run until then)
 *   crash_after_s                          `error`, then the process exits 1 (a crash), that
 *                                          many seconds after the start was acknowledged
 *
 * The script runs inside the delivery of the start command and answers only when its last
 * event is on Kafka (a 2xx tells the KafkaSource the work is durable), so a crash of the process
 * mid-script makes the KafkaSource deliver the command again and the script runs again.
 * Event ids are `<queue_id>:dummy:<n>`: a rerun repeats ids, and the manager's trail keeps
 * each once. A crash is scheduled after the acknowledgement, so its command is not
 * delivered again into another crash.
 */
import { TOPICS, type EventProducer } from '@streamforge/core/bus';
import {
  EVENT_TYPES,
  shortIdOf,
  sourceOf,
  telemetryEventContract,
  telemetryId,
  type StartCommand,
  type TelemetryEvent,
} from '@streamforge/core/contracts';
import { parseSimulation, type Simulation } from '@streamforge/core/requests';
import { sleep as pause } from '@streamforge/core/retry';

export const SERVICE = 'dummy-service';

export interface SimulationDeps {
  producer: EventProducer;
  clock?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Schedules the crash (process.exit in the service; tests pass their own). */
  crash?: (afterMs: number, beforeExit: () => Promise<void>) => void;
}

export type SimulationOutcome = 'finished' | 'error' | 'stopped' | 'crashing' | 'invalid';

/** Runs the script of one start command; resolves once its last event is acknowledged by Kafka. */
export async function runSimulation(
  deps: SimulationDeps,
  command: StartCommand,
  signal: AbortSignal,
): Promise<SimulationOutcome> {
  const clock = deps.clock ?? Date.now;
  const sleep = deps.sleep ?? pause;
  const producer = command.telemetry_id ?? telemetryId(SERVICE, shortIdOf(command.queue_id));
  let n = 0;
  const emit = (fields: Omit<TelemetryEvent, 'queue_id' | 'producer'>) => {
    const data = telemetryEventContract.parse({
      queue_id: command.queue_id,
      producer,
      symbol: command.symbol,
      type: command.type,
      timestamp: clock() / 1000,
      ...fields,
    });
    n += 1;
    return deps.producer.send(TOPICS.events, [
      {
        id: `${command.queue_id}:dummy:${n}`,
        type: EVENT_TYPES.telemetry,
        source: sourceOf(SERVICE),
        subject: command.queue_id,
        partitionKey: command.symbol,
        data,
      },
    ]);
  };

  let sim: Simulation;
  try {
    sim = parseSimulation(command);
  } catch (error) {
    const message = `params: ${(error as Error).message}`;
    await emit({ status: 'error', message, finished: true, error: { code: 'SF_CONTRACT_INVALID', message } });
    return 'invalid';
  }
  const started = clock();
  await emit({
    status: 'started',
    message: `simulating ${sim.steps} steps of ${sim.records_per_step} records`,
    finished: false,
    records_written: 0,
    progress: { done: 0, total: sim.steps, unit: 'steps' },
  });

  if (sim.crash_after_s !== undefined) {
    const crash =
      deps.crash ??
      ((afterMs, beforeExit) => {
        setTimeout(() => void beforeExit().finally(() => process.exit(1)), afterMs);
      });
    crash(sim.crash_after_s * 1000, async () => {
      const message = `simulated crash after ${sim.crash_after_s} s: the process exits`;
      await emit({ status: 'error', message, finished: true, error: { code: 'SF_INTERNAL', message } }).catch(
        () => undefined,
      );
    });
    return 'crashing';
  }

  const failAt = sim.fail_after_s === undefined ? undefined : started + sim.fail_after_s * 1000;
  for (let step = 1; step <= sim.steps; step++) {
    const due = started + step * sim.interval_ms;
    if (failAt !== undefined && failAt <= due) break;
    await sleep(due - clock(), signal);
    if (signal.aborted) break;
    const records = step * sim.records_per_step;
    await emit({
      status: 'loading',
      message: `loaded ${records} records`,
      records_written: records,
      finished: false,
      progress: { done: step, total: sim.steps, unit: 'steps' },
    });
  }
  if (failAt !== undefined && !signal.aborted) await sleep(failAt - clock(), signal);
  if (signal.aborted) {
    await emit({ status: 'stopped', message: 'stopped by command', finished: true });
    return 'stopped';
  }
  if (failAt !== undefined) {
    const message = `simulated failure after ${sim.fail_after_s} s`;
    await emit({ status: 'error', message, finished: true, error: { code: 'SF_INTERNAL', message, retryable: false } });
    return 'error';
  }
  const total = sim.steps * sim.records_per_step;
  // `events_sent` counts this one too: what a load test compares the manager's trail with.
  await emit({
    status: 'finished',
    message: `finished: ${total} records`,
    records_written: total,
    finished: true,
    progress: { done: sim.steps, total: sim.steps, unit: 'steps' },
    events_sent: n + 1,
  });
  return 'finished';
}
