/**
 * The state of a running local stack in `.streamforge/stack.json` (or $STREAMFORGE_HOME):
 * who runs, where the broker and the API are. Written atomically by the supervisor; read
 * by `streamforge down`, `ps`, the CLI commands and tests.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './kafka-broker.ts';

export interface StackProcessInfo {
  pid: number | undefined;
  url?: string;
  restarts?: number;
}

export interface StackState {
  status: 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';
  pid: number;
  started_at: string;
  kafka_brokers?: string;
  api_url?: string;
  exchange_url?: string;
  store_url?: string;
  s3_endpoint?: string;
  topic_prefix?: string;
  /** The local platform's status and metrics (instances, lag, scaling decisions). */
  platform_url?: string;
  error?: string;
  broker?: StackProcessInfo & { local: boolean };
  dispatcher?: StackProcessInfo;
  functions: Record<string, StackProcessInfo>;
  processes?: Record<string, StackProcessInfo>;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STREAMFORGE_HOME ?? join(PROJECT_ROOT, '.streamforge');
}

export function statePath(dir: string): string {
  return join(dir, 'stack.json');
}

export function readStackState(dir: string): StackState | undefined {
  const path = statePath(dir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function writeStackState(dir: string, state: StackState): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, statePath(dir));
}

export { isAlive } from './child-process.ts';
