/**
 * The script a `dummy_*` start command asks dummy-service to play (simulate.ts there runs it):
 *
 *   steps, records_per_step, interval_ms   `started`, `loading` × steps, then `finished`
 *   fail_after_s                           `error` once that many seconds passed
 *   crash_after_s                          `error`, then the process exits 1 (a crash)
 *
 * dummy-service reads it with this function, and queue-manager refuses at the door what it
 * refuses (one check, no drift).
 */
import type { StartCommand } from '../contracts/index.ts';
import { invalidField, shown } from './field-refusal.ts';

/** Longest script: well inside the 30 s delivery timeout of dummy-service-control (kafka-sources/). */
export const MAX_SCRIPT_MS = 25_000;
const MAX_STEPS = 1_000;

export interface Simulation {
  steps: number;
  records_per_step: number;
  interval_ms: number;
  fail_after_s?: number;
  crash_after_s?: number;
}

export const DEFAULT_SIMULATION: Simulation = { steps: 3, records_per_step: 100, interval_ms: 0 };

function number(
  command: StartCommand,
  field: keyof Simulation,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  const raw = command[field];
  if (raw === undefined) return undefined;
  if (
    typeof raw !== 'number' ||
    !Number.isFinite(raw) ||
    (integer && !Number.isInteger(raw)) ||
    raw < min ||
    raw > max
  ) {
    throw invalidField(
      field,
      `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${shown(raw)}`,
    );
  }
  return raw;
}

/** The script a start command asks for, or SF_CONTRACT_INVALID naming the field and the reason. */
export function parseSimulation(command: StartCommand): Simulation {
  const sim: Simulation = {
    steps: number(command, 'steps', 0, MAX_STEPS, true) ?? DEFAULT_SIMULATION.steps,
    records_per_step: number(command, 'records_per_step', 0, 1e9, true) ?? DEFAULT_SIMULATION.records_per_step,
    interval_ms: number(command, 'interval_ms', 0, MAX_SCRIPT_MS, true) ?? DEFAULT_SIMULATION.interval_ms,
  };
  const fail = number(command, 'fail_after_s', 0, MAX_SCRIPT_MS / 1000, false);
  const crash = number(command, 'crash_after_s', 0, 3_600, false);
  if (fail !== undefined) sim.fail_after_s = fail;
  if (crash !== undefined) sim.crash_after_s = crash;
  const lasts = fail !== undefined ? fail * 1000 : sim.steps * sim.interval_ms;
  if (crash === undefined && lasts > MAX_SCRIPT_MS) {
    throw invalidField(
      'interval_ms',
      `${sim.steps} steps × ${sim.interval_ms} ms would last ${lasts / 1000} s, longer than the ${MAX_SCRIPT_MS / 1000} s one delivery may take`,
    );
  }
  return sim;
}
