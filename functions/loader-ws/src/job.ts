/**
 * loader-ws: a plain long-running program, run as a Kubernetes Job (or, on one machine, as a
 * local process by the same launcher interface) for one live workflow. It streams until a
 * `stop` for its queue_id arrives on queue-control.loader-ws or SIGTERM comes (the manager deleting
 * the Job), then flushes, reports `stopped` and exits 0.
 *
 * Exit codes: 0 stopped; 1 a failure worth another pod (Kafka or the exchange unreachable);
 * 2 a failure no retry can fix (an error whose disposition is not retry, such as an unknown
 * symbol; configuration the Job cannot read), which the Job template's podFailurePolicy turns
 * into an immediate Job failure.
 */
import { connectServiceBus, type EventConsumer, type ServiceBus } from '@streamforge/core/bus';
import { env } from '@streamforge/core/config';
import { toStreamForgeError } from '@streamforge/core/errors';
import { BinanceRestClient, exchangeTimeFromEnv } from '@streamforge/exchange';
import { createLogger } from '@streamforge/core/telemetry';
import { jobConfigFromEnv, type LiveJobConfig } from './job-config.ts';
import { startJobServer, type JobServer } from './job-server.ts';
import { LiveLoader } from './live-loader.ts';
import { startStopListener } from './stop-listener.ts';

export const EXIT_PERMANENT = 2;

const root = createLogger({ service: 'loader-ws' });
let config: LiveJobConfig;
try {
  config = jobConfigFromEnv();
} catch (error) {
  root.fatal({ err: error }, 'loader-ws cannot start: bad configuration');
  process.exit(EXIT_PERMANENT);
}
const logger = root.child({ queue_id: config.queueId });
const time = exchangeTimeFromEnv();
const bus: ServiceBus = await connectServiceBus('loader-ws', logger);
const exchange = new BinanceRestClient({ logger, time });
const loader = new LiveLoader({
  config,
  producer: bus.producer,
  telemetry: bus.telemetry,
  exchange,
  time,
  logger,
  latencyScale: 1 / Number(env('EXCHANGE_TIME_FACTOR')),
});
let server: JobServer | undefined;
let listener: EventConsumer | undefined;
let ending: Promise<never> | undefined;

/** Stops everything in order and exits; the first caller decides the exit code. */
function end(code: number, reason: string): Promise<never> {
  ending ??= (async () => {
    logger.info({ reason, code }, 'loader-ws ending');
    const deadline = setTimeout(() => {
      logger.error('loader-ws did not end within 25 s; exiting');
      process.exit(code === 0 ? 1 : code);
    }, 25_000);
    deadline.unref();
    if (code === 0)
      await loader.stop(reason).catch((error: unknown) => logger.error({ err: error }, 'stop was not clean'));
    await listener?.stop().catch(() => undefined);
    await server?.close();
    await exchange.close();
    await bus.close().catch(() => undefined);
    process.exit(code);
  })();
  return ending;
}

process.once('SIGTERM', () => void end(0, 'SIGTERM'));
process.once('SIGINT', () => void end(0, 'SIGINT'));
listener = await startStopListener({
  connection: bus.connection,
  queueId: config.queueId,
  logger,
  onStop: (reason) => void end(0, reason),
}).catch((error: unknown) => {
  logger.fatal({ err: error }, 'cannot listen to queue-control.loader-ws');
  return end(1, 'queue-control.loader-ws unavailable');
});

try {
  server = await startJobServer(loader, config.metricsPort, config.queueId);
  await loader.start();
  logger.info({ metrics_port: server.port }, 'loader-ws streaming');
} catch (error) {
  const failure = toStreamForgeError(error);
  // The code's disposition says whether another pod could succeed (errors.ts).
  const permanent = failure.disposition !== 'retry';
  logger.fatal({ err: failure, permanent }, 'loader-ws failed to start');
  await bus.telemetry
    .emit({
      queue_id: config.queueId,
      producer: config.telemetryId,
      symbol: config.symbols[0]!,
      type: config.type,
      status: 'error',
      message: failure.message,
      error: { code: failure.code, message: failure.message, retryable: !permanent },
    })
    .catch(() => undefined);
  await end(permanent ? EXIT_PERMANENT : 1, failure.message);
}
