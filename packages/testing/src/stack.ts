/**
 * A whole local stack for an end-to-end test, started the way a user starts it
 * (`streamforge up`), isolated from other tests on the shared broker by a unique topic
 * prefix, its own state folder and its own API port; `down` at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { PROJECT_ROOT } from '@streamforge/platform';
import { readStackState, type PlatformStatusDocument, type StackState } from '@streamforge/platform';
import { testBrokers } from './kafka.ts';
import { uniqueName } from './unique.ts';

const CLI = join(PROJECT_ROOT, 'packages', 'cli', 'bin', 'streamforge.js');

export interface TestStack {
  state: StackState;
  env: NodeJS.ProcessEnv;
  prefix: string;
  home: string;
  /** Runs a `streamforge` command against this stack; resolves with its exit code and output. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The platform's /status: each function's instances, sources and scaling decisions. */
  platformStatus(): Promise<PlatformStatusDocument>;
  /** How many instances of one function run now (draining ones included), from /status; throws for a function the stack does not run. */
  instances(name: string): Promise<number>;
  down(): Promise<void>;
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export async function startTestStack(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestStack> {
  const home = mkdtempSync(join(tmpdir(), 'sf-stack-'));
  const prefix = `${uniqueName('t')}.`;
  const env: NodeJS.ProcessEnv = {
    STREAMFORGE_HOME: home,
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    // Any free port, taken by the manager's listener itself: a port picked here could be taken
    // by another process before the stack, seconds later, listens on it.
    STREAMFORGE_PORT: '0',
    LOG_LEVEL: 'info',
    STREAMFORGE_STOP_WITH_PID: String(process.pid),
    ...extraEnv,
  };
  const up = await runCli(['up'], env);
  if (up.code !== 0) {
    const logs = ['supervisor', 'kafka-source-dispatcher'].map((name) => {
      try {
        return `--- ${name}.log (last lines)\n${readFileSync(join(home, 'logs', `${name}.log`), 'utf8')
          .split('\n')
          .slice(-15)
          .join('\n')}`;
      } catch {
        return '';
      }
    });
    throw new Error(`streamforge up failed (${up.code}):\n${up.stdout}\n${up.stderr}\n${logs.join('\n')}`);
  }
  const state = readStackState(home);
  if (!state) throw new Error('streamforge up returned without a stack.json');
  const platformStatus = async (): Promise<PlatformStatusDocument> =>
    (await (await fetch(`${state.platform_url}/status`)).json()) as PlatformStatusDocument;
  return {
    state,
    env,
    prefix,
    home,
    cli: (args) => runCli(args, env),
    platformStatus,
    async instances(name) {
      const fn = (await platformStatus()).functions.find((f) => f.name === name);
      if (!fn) throw new Error(`the stack runs no function ${name}`);
      return fn.instances.length;
    },
    async down() {
      const down = await runCli(['down'], env);
      if (down.code !== 0) throw new Error(`streamforge down failed: ${down.stderr}`);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The running local loader-ws Jobs of a stack, queue id → pid, from the launcher's files in its `jobs/` folder (an ended Job's file, kept with its `state`, is left out). */
export function localJobPids(home: string): Map<string, number> {
  const dir = join(home, 'jobs');
  const out = new Map<string, number>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir)) {
    try {
      const saved = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        pid: number;
        spec: { queue_id: string };
        state?: string;
      };
      if (saved.state === undefined) out.set(saved.spec.queue_id, saved.pid);
    } catch {
      // being written or removed
    }
  }
  return out;
}

/**
 * One stack for all the tests of a file, on the exchange simulator with no weight limit (the
 * end-to-end tests measure StreamForge, not Binance's budget): started before the first test,
 * taken down after the last; `started` and `stopping` set up and close what the file adds to it
 * (a producer on its topics). Returns the started stack; call it inside tests.
 */
export function simulatorStackForFile(
  extraEnv: NodeJS.ProcessEnv = {},
  hooks: { started?: (stack: TestStack) => Promise<void>; stopping?: () => Promise<void> } = {},
): () => TestStack {
  let stack: TestStack | undefined;
  before(async () => {
    stack = await startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity', ...extraEnv });
    await hooks.started?.(stack);
  });
  after(async () => {
    await hooks.stopping?.();
    await stack?.down();
  });
  return () => {
    if (stack === undefined) throw new Error('the stack starts before the first test: use it inside a test');
    return stack;
  };
}
