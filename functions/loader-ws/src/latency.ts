/**
 * Latency from the exchange's event time to Kafka's acknowledgement, per record: the last
 * samples in a ring (enough for stable percentiles, bounded memory), read as percentiles for
 * telemetry and the benchmark.
 */
export class LatencyRecorder {
  readonly #samples: Float64Array;
  /** Exchange-clock ms to real ms (1 / the exchange time factor of a fast simulator clock). */
  readonly #scale: number;
  #next = 0;
  #count = 0;
  /** The kept samples sorted, while no sample came since (stats are read several times per report). */
  #sorted: Float64Array | undefined;

  constructor(size = 100_000, scale = 1) {
    this.#samples = new Float64Array(size);
    this.#scale = scale;
  }

  record(exchangeMs: number): void {
    this.#samples[this.#next] = Math.max(0, exchangeMs * this.#scale);
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#count += 1;
    this.#sorted = undefined;
  }

  get count(): number {
    return this.#count;
  }

  /** Percentiles (0–100) of the kept samples, in real milliseconds; empty when nothing was recorded. */
  percentiles(...ps: number[]): Record<string, number> {
    const n = Math.min(this.#count, this.#samples.length);
    if (n === 0) return {};
    this.#sorted ??= this.#samples.slice(0, n).sort();
    const sorted = this.#sorted;
    return Object.fromEntries(
      ps.map((p) => [`p${p}`, Math.round(sorted[Math.min(n - 1, Math.floor((p / 100) * n))]! * 100) / 100]),
    );
  }

  reset(): void {
    this.#next = 0;
    this.#count = 0;
    this.#sorted = undefined;
  }
}
