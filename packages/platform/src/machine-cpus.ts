/**
 * The local platform's one node: how many cores it has, and how much of their time went
 * unused since the last look. The autoscaler places instances on it as a cluster's scheduler
 * places pods on nodes (scale-placement.ts).
 */
import { availableParallelism, cpus } from 'node:os';

export interface MachineCpus {
  readonly cores: number;
  /** The share of all cores' time spent idle since the previous call (the first call: since boot). */
  idleShare(): number;
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
  return {
    cores: availableParallelism(),
    idleShare() {
      const now = totals();
      const all = now.all - last.all;
      const share = all > 0 ? (now.idle - last.idle) / all : 1;
      last = now;
      return share;
    },
  };
}
