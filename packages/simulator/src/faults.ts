/**
 * Fault injection of the exchange simulator, for the failures a Binance client must survive
 * (docs/binance.md, errors): added latency, 5xx answers with Binance-like bodies, and
 * connections dropped without any response. Decisions come from a seeded sequence, one draw
 * set per request in arrival order, so a run with the same seed and the same requests
 * injects the same faults. Besides, `failingSymbols`: one symbol's market data failing every
 * time (a poison for the work of that symbol only), for isolation tests.
 */
import type { Market } from '@streamforge/core/contracts';
import { seededRandom } from './random.ts';

export interface FaultOptions {
  /** Added to every response, in ms. */
  latencyMs?: number;
  /** Random extra latency, uniform in [0, jitterMs). */
  jitterMs?: number;
  /** Fraction of requests answered 500, 502 or 503 (weight still counted: the exchange did the work). */
  errorRate?: number;
  /** Fraction of requests whose connection is destroyed without a response (not counted). */
  dropRate?: number;
  /** Seed of the fault sequence; setting it restarts the sequence. */
  seed?: number;
  /** Overrides the REQUEST_WEIGHT budget: one number for both markets, or per market; `Infinity` lifts it. */
  weightLimit?: number | Partial<Record<Market, number>>;
  /**
   * Symbols whose market data (klines, trades, depth, …) is answered 503 "overloaded" (-1008)
   * every time, weight counted, as when the exchange's backend for one symbol fails;
   * exchangeInfo still lists them.
   */
  failingSymbols?: readonly string[];
}

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'drop' }
  | { kind: 'error'; status: 500 | 502 | 503; code: number; msg: string };

const ERRORS = [
  { status: 500, code: -1000, msg: 'An unknown error occurred while processing the request.' },
  { status: 502, code: -1000, msg: 'An unknown error occurred while processing the request.' },
  {
    status: 503,
    code: -1008,
    msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.',
  },
] as const;

/** Binance's answer when a backend is overloaded: what a failing symbol's requests get. */
export const OVERLOADED = ERRORS[2];

export class Faults {
  #options: FaultOptions = {};
  #random: () => number = seededRandom(1);

  constructor(options: FaultOptions = {}) {
    this.set({ seed: 1, ...options });
  }

  /** Changes the knobs given, keeps the others. */
  set(options: FaultOptions): void {
    this.#options = { ...this.#options, ...options };
    if (options.seed !== undefined) this.#random = seededRandom(options.seed);
  }

  get options(): FaultOptions {
    return { ...this.#options };
  }

  /** Whether a request for this symbol's market data fails (`failingSymbols`). */
  failsSymbol(symbol: string | undefined): boolean {
    return symbol !== undefined && (this.#options.failingSymbols?.includes(symbol) ?? false);
  }

  /** Latency and fault for the next request. */
  next(): { latencyMs: number; fault: FaultDecision } {
    const { latencyMs = 0, jitterMs = 0, errorRate = 0, dropRate = 0 } = this.#options;
    const [r1, r2, r3, r4] = [this.#random(), this.#random(), this.#random(), this.#random()];
    const latency = latencyMs + r1 * jitterMs;
    if (r2 < dropRate) return { latencyMs: latency, fault: { kind: 'drop' } };
    if (r3 < errorRate)
      return { latencyMs: latency, fault: { kind: 'error', ...ERRORS[Math.floor(r4 * ERRORS.length)]! } };
    return { latencyMs: latency, fault: { kind: 'none' } };
  }
}
