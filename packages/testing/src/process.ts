/**
 * Runs one of the project's TypeScript entry points as a real child process (the
 * dispatcher, a function, the CLI), so tests can kill it as a crash would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { childOf } from '@streamforge/platform';

export interface NodeProcess {
  child: ChildProcess;
  /** The first stdout line that parses as JSON (entry points announce their address this way). */
  announced: Promise<Record<string, unknown>>;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<number | null>;
}

export function startNodeProcess(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): NodeProcess {
  const child = spawn(process.execPath, [file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const followed = childOf(child);
  const exited = followed.exited.then(({ code }) => code);
  const announced = new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (!line.startsWith('{')) return;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (!('level' in parsed)) resolve(parsed); // pino lines carry a level; announcements do not
      } catch {
        // not JSON after all
      }
    });
    void exited.then((code) => reject(new Error(`${file} exited with ${code} before announcing itself:\n${output}`)));
  });
  announced.catch(() => undefined); // programs that never announce are fine; awaiting callers still see it
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    child,
    announced,
    output: () => output,
    exited,
    stop: async (graceMs = 10_000) => (await followed.stop(graceMs)).code,
    kill: async () => (await followed.kill()).code,
  };
}
