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

/** What the machine had to give at this poll. */
export interface MachineRoom {
  cores: number;
  /** The cores' idle share since the last poll; undefined when it cannot be read. */
  idleShare: number | undefined;
  /** False once another function grew past the cores at this poll: one idle sample grows one function. */
  free: boolean;
}

/**
 * How many of `wanted` instances the machine can place, the function having `current`: up to
 * the cores at once; past them one more per poll, and only while the cores had idle time, so
 * a burst of idle time (a backfill just starting) does not let every function jump to its
 * full lag at once. Never fewer than `current`: a full machine is no reason to scale down.
 */
export function place(wanted: number, current: number, room: MachineRoom): Placement {
  const floor = Math.max(current, room.cores);
  if (wanted <= floor) return { instances: wanted };
  const { cores, idleShare, free } = room;
  const machine = `the machine's ${cores === 1 ? 'one core' : `${cores} cores`}`;
  if (idleShare === undefined)
    return { instances: floor, held: `held at ${floor}: the machine's idle time cannot be read` };
  if (idleShare < FULL_BELOW_IDLE)
    return {
      instances: floor,
      held: `held at ${floor}: ${machine} ${cores === 1 ? 'is' : 'are'} ${Math.round((1 - idleShare) * 100)} % busy, so another instance would only share them`,
    };
  if (!free) return { instances: floor, held: `held at ${floor}: another function grew past ${machine} at this poll` };
  const instances = floor + 1;
  if (instances === wanted) return { instances };
  return {
    instances,
    held: `${instances} for now: past ${machine}, one more instance a poll while they have idle time (${Math.round(idleShare * 100)} % idle)`,
  };
}
