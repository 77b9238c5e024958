/**
 * Runs the exchange simulator (a stand-in for Binance) as a process:
 *
 *   node packages/simulator/src/main.ts [--port 0] [--host 127.0.0.1] [--klines-dir DIR]
 *       [--weight-limit N|Infinity] [--latency-ms N] [--error-rate F] [--drop-rate F] [--seed N]
 *
 * Flags override the SIM_* environment variables. Prints one JSON line `{"url": …, "ws_urls":
 * {spot, usdm}}` on stdout once listening (logs go to stderr, so stdout stays
 * machine-readable) and exits cleanly on SIGTERM/SIGINT. The WebSocket side and the public
 * archive site (`/data/…`, configured by SIM_ARCHIVE_*) share the port;
 * the clock follows EXCHANGE_TIME_* (a fast clock for tests and demos).
 */
import { parseArgs } from 'node:util';
import { createLogger } from '@streamforge/core/telemetry';
import { exchangeTimeFromEnv } from '@streamforge/exchange';
import { startExchangeSimulator } from './server.ts';
import { DEFAULT_SYMBOLS } from './symbols.ts';
import { simulatorOptionsFromEnv } from './simulator-env.ts';
import { webSocketOptionsFromEnv } from './ws-env.ts';
import { attachWebSocketSide } from './ws-server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'klines-dir': { type: 'string' },
    'weight-limit': { type: 'string' },
    'latency-ms': { type: 'string' },
    'error-rate': { type: 'string' },
    'drop-rate': { type: 'string' },
    seed: { type: 'string' },
  },
});

const flag = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));
const options = simulatorOptionsFromEnv();
const faults = { ...options.faults };
if (values['latency-ms'] !== undefined) faults.latencyMs = flag(values['latency-ms']);
if (values['error-rate'] !== undefined) faults.errorRate = flag(values['error-rate']);
if (values['drop-rate'] !== undefined) faults.dropRate = flag(values['drop-rate']);
if (values.seed !== undefined) faults.seed = flag(values.seed);

const logger = createLogger({ service: 'exchange-simulator', destination: process.stderr });
const wsOptions = await webSocketOptionsFromEnv();
// A replayed capture's symbols are listed beside the configured ones, so exchangeInfo knows them.
const replayed = wsOptions.replay?.snapshots.map((s) => s.symbol) ?? [];
const simulator = await startExchangeSimulator({
  ...options,
  ...(replayed.length === 0 ? {} : { symbols: [...(options.symbols ?? DEFAULT_SYMBOLS), ...replayed] }),
  clock: exchangeTimeFromEnv().now,
  ...(values.port === undefined ? {} : { port: Number(values.port) }),
  ...(values.host === undefined ? {} : { host: values.host }),
  ...(values['klines-dir'] === undefined ? {} : { klinesDir: values['klines-dir'] }),
  ...(values['weight-limit'] === undefined ? {} : { weightLimit: Number(values['weight-limit']) }),
  faults,
  logger,
});
const ws = attachWebSocketSide(simulator, { ...wsOptions, logger });
process.stdout.write(`${JSON.stringify({ url: simulator.url, ws_urls: ws.urls })}\n`);
logger.info(
  {
    url: simulator.url,
    spot_symbols: simulator.data.symbols('spot').length,
    usdm_symbols: simulator.data.symbols('usdm').length,
    coinm_symbols: simulator.data.symbols('coinm').length,
  },
  'exchange simulator listening',
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'exchange simulator stopping');
    ws.close()
      .then(() => simulator.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'exchange simulator did not close cleanly');
          process.exit(1);
        },
      );
  });
}
