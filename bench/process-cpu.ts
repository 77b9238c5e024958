/**
 * Where a benchmark's CPU goes: the CPU seconds of every process on the machine, grouped by what
 * the process is, read from /proc (Linux). A function instance is named by its `K_SERVICE`, the
 * broker by its main class, any other Node process by its script. Sampled, so a process that
 * exits between two samples loses its last interval: sample often (the benches do every 200 ms).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat's times: 100 on every Linux this runs on. */
const TICKS_PER_S = 100;

interface Seen {
  what: string;
  ticks: number;
}

function read(pid: string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/**
 * A process's identity (pid and start time, so a reused pid is another process) and its
 * utime + stime in ticks. The command name may hold spaces, so fields count from its closing ')'.
 */
function timesOf(pid: string, stat: string): { id: string; ticks: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { id: `${pid}@${fields[19]}`, ticks: Number(fields[11]) + Number(fields[12]) };
}

function whatIs(pid: string): string {
  const service = read(pid, 'environ')
    ?.split('\0')
    .find((v) => v.startsWith('K_SERVICE='));
  if (service !== undefined) return service.slice('K_SERVICE='.length);
  const argv = (read(pid, 'cmdline') ?? '').split('\0').filter((a) => a !== '');
  if (argv.includes('kafka.Kafka')) return 'kafka-broker';
  const script = argv.slice(1).find((a) => /\.(ts|js|mjs)$/.test(a));
  if (script === undefined) return basename(argv[0] ?? `pid ${pid}`);
  const owner = /(?:packages|functions)\/([^/]+)\//.exec(script)?.[1];
  return owner === undefined ? basename(script) : `${owner}/${basename(script)}`;
}

export interface CpuSampler {
  /** Reads every process's CPU time now; call it often while the measured work runs. */
  sample(): void;
  /** CPU seconds each kind of process spent since the sampler was made, largest first; kinds under 0.05 s left out. */
  seconds(): Record<string, number>;
}

/** Starts counting from now: what each process had already spent is the baseline. */
export function cpuSampler(): CpuSampler {
  const baseline = new Map<string, number>();
  const seen = new Map<string, Seen>();
  const scan = (into: (pid: string, id: string, ticks: number) => void): void => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = read(pid, 'stat');
      if (stat === undefined) continue;
      const { id, ticks } = timesOf(pid, stat);
      into(pid, id, ticks);
    }
  };
  scan((_pid, id, ticks) => baseline.set(id, ticks));
  return {
    sample() {
      scan((pid, id, ticks) => {
        const known = seen.get(id);
        if (known) known.ticks = ticks;
        else seen.set(id, { what: whatIs(pid), ticks });
      });
    },
    seconds() {
      const by = new Map<string, number>();
      for (const [id, { what, ticks }] of seen) by.set(what, (by.get(what) ?? 0) + ticks - (baseline.get(id) ?? 0));
      return Object.fromEntries(
        [...by]
          .map(([what, ticks]) => [what, Math.round((ticks / TICKS_PER_S) * 10) / 10] as const)
          .filter(([, s]) => s >= 0.05)
          .sort((a, b) => b[1] - a[1]),
      );
    },
  };
}
