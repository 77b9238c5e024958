/**
 * The exchange simulator's settings from the environment (declared here, next to the code
 * that reads them), for the process started by the local platform when EXCHANGE=simulator.
 */
import { declareEnv, env, envInt, envList } from '@streamforge/core/config';
import type { ArchiveFault, ArchiveFaultKind } from './archive-faults.ts';
import type { ExchangeSimulatorOptions } from './server.ts';
import { DEFAULT_SYMBOLS, deriveSymbolSpec, type SymbolSpec } from './symbols.ts';

/** A named symbol's spec: from the default table, or derived from its name. */
const specOf = (symbol: string): SymbolSpec =>
  DEFAULT_SYMBOLS.find((s) => s.symbol === symbol) ?? deriveSymbolSpec(symbol);

declareEnv({
  SIM_HOST: { default: '127.0.0.1', description: 'Interface the exchange simulator listens on.' },
  SIM_PORT: {
    default: '0',
    description: 'Port of the exchange simulator; 0 picks a free one (printed as {"url": …} on stdout).',
  },
  SIM_KLINES_DIR: {
    default: '',
    description:
      'Folder of data.binance.vision kline CSV files the simulator serves (spot/, usdm/ sub-folders); empty: synthetic data only.',
  },
  SIM_SYMBOLS: {
    default: '',
    description: 'Comma-separated symbols the simulator lists; empty: its default table (BTCUSDT, ETHUSDT, …).',
  },
  SIM_TRADE_GAP_MS: {
    default: '',
    description:
      'Mean time between aggregate trades of every listed symbol, in ms; empty: each symbol its own (500 ms for most). Larger gaps make days of trades small enough for quick tests.',
  },
  SIM_WEIGHT_LIMIT: {
    default: '',
    description:
      'REQUEST_WEIGHT per minute for both markets; empty: Binance\'s 6000 spot / 2400 USD-M; "Infinity" lifts it.',
  },
  SIM_LATENCY_MS: { default: '0', description: 'Latency the simulator adds to every response.' },
  SIM_ERROR_RATE: { default: '0', description: 'Fraction of simulator responses that are 5xx.' },
  SIM_DROP_RATE: { default: '0', description: 'Fraction of simulator requests whose connection is dropped.' },
  SIM_SEED: { default: '1', description: "Seed of the simulator's fault sequence." },
  SIM_FAILING_SYMBOLS: {
    default: '',
    description:
      "Comma-separated symbols whose market data the simulator answers 503 every time (one symbol's backend down: a poison for that symbol's work); empty: none.",
  },
  SIM_ARCHIVE_LAG_MS: {
    default: '0',
    description:
      "Delay after a day's (month's) end before the simulator's archive site publishes its daily (monthly) files.",
  },
  SIM_ARCHIVE_CORRUPT: {
    default: '',
    description:
      'Comma-separated path globs (`*` any characters; `glob@K`: first K requests only) of archive zips served with bytes flipped (their CHECKSUM stays right).',
  },
  SIM_ARCHIVE_BAD_CHECKSUM: {
    default: '',
    description: 'Path globs (as SIM_ARCHIVE_CORRUPT) of archive zips whose CHECKSUM file gives a wrong hash.',
  },
  SIM_ARCHIVE_TRUNCATE: {
    default: '',
    description:
      'Path globs (as SIM_ARCHIVE_CORRUPT) of archive zips whose download is cut after SIM_ARCHIVE_TRUNCATE_BYTES.',
  },
  SIM_ARCHIVE_TRUNCATE_BYTES: { default: '1024', description: 'Bytes of a truncated archive download.' },
  SIM_ARCHIVE_SLOW: {
    default: '',
    description: 'Path globs (as SIM_ARCHIVE_CORRUPT) of archive files sent at SIM_ARCHIVE_SLOW_BYTES_PER_SECOND.',
  },
  SIM_ARCHIVE_SLOW_BYTES_PER_SECOND: { default: '65536', description: 'Speed of a slow archive download.' },
  SIM_ARCHIVE_MISSING: {
    default: '',
    description: 'Path globs (as SIM_ARCHIVE_CORRUPT) of published archive files answered 404 NoSuchKey anyway.',
  },
  SIM_ARCHIVE_MALFORMED: {
    default: '',
    description:
      'Path globs (as SIM_ARCHIVE_CORRUPT) of archive files served with their second CSV line garbled, under a CHECKSUM that matches.',
  },
  SIM_ARCHIVE_FAULT_TIMES: {
    default: '0',
    description:
      'Archive faults without `@K` hit only the first K requests of each path (transient); 0: every request (permanent).',
  },
});

/** Archive faults from SIM_ARCHIVE_* globs: one fault per glob, `glob@K` transient for K requests. */
function archiveFaultsFromEnv(source: NodeJS.ProcessEnv): ArchiveFault[] {
  const times = envInt('SIM_ARCHIVE_FAULT_TIMES', source);
  // Literal names in each read, so the deploy checks can see what is read.
  const kinds: Array<[string[], ArchiveFaultKind, number | undefined]> = [
    [envList('SIM_ARCHIVE_CORRUPT', source), 'corrupt', undefined],
    [envList('SIM_ARCHIVE_BAD_CHECKSUM', source), 'badChecksum', undefined],
    [envList('SIM_ARCHIVE_TRUNCATE', source), 'truncate', envInt('SIM_ARCHIVE_TRUNCATE_BYTES', source)],
    [envList('SIM_ARCHIVE_SLOW', source), 'slow', envInt('SIM_ARCHIVE_SLOW_BYTES_PER_SECOND', source)],
    [envList('SIM_ARCHIVE_MISSING', source), 'missing', undefined],
    [envList('SIM_ARCHIVE_MALFORMED', source), 'malformed', undefined],
  ];
  const faults: ArchiveFault[] = [];
  for (const [globs, kind, bytes] of kinds) {
    for (const item of globs) {
      const at = /^(.*)@(\d+)$/.exec(item);
      const k = at === null ? times : Number(at[2]);
      faults.push({
        kind,
        paths: [at === null ? item : at[1]!],
        ...(k > 0 ? { times: k } : {}),
        ...(bytes === undefined ? {} : { bytes }),
      });
    }
  }
  return faults;
}

function number(name: string, source: NodeJS.ProcessEnv): number | undefined {
  const raw = env(name, source);
  if (raw === '') return undefined;
  const value = Number(raw);
  if (Number.isNaN(value)) throw new TypeError(`environment variable ${name} must be a number, got "${raw}"`);
  return value;
}

/** Simulator options from SIM_* variables. */
export function simulatorOptionsFromEnv(source: NodeJS.ProcessEnv = process.env): ExchangeSimulatorOptions {
  const named = envList('SIM_SYMBOLS', source);
  const tradeGapMs = number('SIM_TRADE_GAP_MS', source);
  const symbols: Array<string | SymbolSpec> =
    tradeGapMs === undefined
      ? named
      : (named.length === 0 ? DEFAULT_SYMBOLS : named.map(specOf)).map((spec) => ({ ...spec, tradeGapMs }));
  const weightLimit = number('SIM_WEIGHT_LIMIT', source);
  const klinesDir = env('SIM_KLINES_DIR', source);
  const failingSymbols = envList('SIM_FAILING_SYMBOLS', source);
  return {
    host: env('SIM_HOST', source),
    port: envInt('SIM_PORT', source),
    ...(klinesDir === '' ? {} : { klinesDir }),
    ...(symbols.length === 0 ? {} : { symbols }),
    ...(weightLimit === undefined ? {} : { weightLimit }),
    faults: {
      latencyMs: number('SIM_LATENCY_MS', source) ?? 0,
      errorRate: number('SIM_ERROR_RATE', source) ?? 0,
      dropRate: number('SIM_DROP_RATE', source) ?? 0,
      seed: number('SIM_SEED', source) ?? 1,
      ...(failingSymbols.length === 0 ? {} : { failingSymbols }),
    },
    archive: { lagMs: envInt('SIM_ARCHIVE_LAG_MS', source), faults: archiveFaultsFromEnv(source) },
  };
}
