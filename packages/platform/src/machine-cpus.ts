/**
 * The local platform's one node: how many cores it has, and how much of their time went
 * unused since the last look. The autoscaler places instances on it as a cluster's scheduler
 * places pods on nodes (scale-placement.ts).
 */
import { availableParallelism, cpus } from 'node:os';

export interface MachineCpus {
  readonly cores: number;
  /**
   * The share of the cores' time spent idle since the previous call (the first call: since
   * this object was made); undefined where the machine reports no CPU times.
   */
  idleShare(): number | undefined;
}

function totals(): { idle: number; all: number } {
  let idle = 0;
  let all = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    all += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, all };
}

export function machineCpus(): MachineCpus {
  let last = totals();
  let share: number | undefined;
  return {
    cores: availableParallelism(),
    idleShare() {
      const now = totals();
      const all = now.all - last.all;
      // No time counted since the last call (or no CPU times at all): the last share stands.
      if (all <= 0) return share;
      share = (now.idle - last.idle) / all;
      last = now;
      return share;
    },
  };
}
