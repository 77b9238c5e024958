/**
 * The background process behind `streamforge up`: runs the stack until SIGTERM (from
 * `streamforge down`), then stops every process it started. Its own log is
 * .streamforge/logs/supervisor.log; each child's is beside it.
 */
import { env } from '@streamforge/core/config';
import { createLogger } from '@streamforge/core/telemetry';
import { runStack } from './stack.ts';
import { isAlive, stateDir } from './stack-state.ts';

const logger = createLogger({ service: 'streamforge-platform' });
const dir = stateDir();
let starting: ReturnType<typeof runStack> | undefined;
let stopping = false;

const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stack stopping');
  // A stop while the stack still starts waits for it: its children are running already.
  const stack = await starting?.catch(() => undefined);
  await stack?.stop();
  logger.info('stack stopped');
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

// A test stack must not outlive the test run that started it, even when that run is killed.
const owner = Number(env('STREAMFORGE_STOP_WITH_PID')) || undefined;
if (owner !== undefined) {
  setInterval(() => {
    if (!isAlive(owner)) void stop('owner exited');
  }, 2000).unref();
}

try {
  starting = runStack({ stateDir: dir, apiPort: Number(env('STREAMFORGE_PORT')), env: process.env, logger });
  await starting;
} catch (error) {
  logger.fatal({ err: error }, 'stack failed to start');
  process.exit(1);
}
