import type { FunctionModule } from './function-module.ts';
import { serveFunction, type ServeOptions } from './server.ts';

/**
 * Serves a function until SIGTERM or SIGINT, then drains and exits 0: the entry point of
 * every function process, local or in a pod. A failure to start exits 1 with the reason.
 */
export async function runUntilSignal(
  module: FunctionModule,
  options: ServeOptions & { logger: NonNullable<ServeOptions['logger']> },
): Promise<void> {
  const { logger } = options;
  if (typeof module.handle !== 'function') {
    logger.fatal('function module must export a handle function');
    process.exit(1);
  }
  let running: Awaited<ReturnType<typeof serveFunction>>;
  try {
    running = await serveFunction(module, options);
  } catch (error) {
    logger.fatal({ err: error }, 'function failed to start');
    process.exit(1);
  }
  const stop = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'draining');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
