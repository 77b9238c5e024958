/**
 * Where the local platform differs from a cluster on purpose: it is one machine. A cluster
 * gives each new instance a core of its own, or leaves the pod Pending when no node has room;
 * here every instance shares the same cores. Past one instance per core, another instance of
 * a function whose work is CPU-bound only adds a process to start and schedule (and, on the
 * SQLite store, another writer waiting for the one lock): measured with `bench/backfill.ts`,
 * uncapped autoscaling ran a backfill at 0.6–0.7 × the rate of two instances per function. An
 * instance that mostly waits (on a slow exchange) leaves the cores idle, and more of them is
 * what helps then; so beyond the cores, the platform grows a function only while the cores
 * have idle time.
 */

/** The idle share of the cores below which they are taken to be full. */
export const FULL_BELOW_IDLE = 0.25;

export interface Placement {
  /** The instances the function gets. */
  instances: number;
  /** Why fewer than wanted, when so. */
  held?: string;
}

/**
 * How many of `wanted` instances the machine can place, the function having `current`.
 * Never fewer than `current` (a full machine is no reason to scale down) or `cores`.
 */
export function place(wanted: number, current: number, cores: number, idleShare: number): Placement {
  if (wanted <= Math.max(current, cores) || idleShare >= FULL_BELOW_IDLE) return { instances: wanted };
  const instances = Math.max(current, cores);
  return {
    instances,
    held: `held at ${instances}: the machine's ${cores === 1 ? 'one core is' : `${cores} cores are`} ${Math.round((1 - idleShare) * 100)} % busy, so another instance would only share them`,
  };
}
