/**
 * The exchange client's budget as Prometheus metrics, read from its `stats()` at each
 * scrape: the weight Binance reports as used (`X-MBX-USED-WEIGHT-1M`, per market), the
 * limit the governor keeps under, and the 429/418 answers and waits that show the budget
 * was tight. Binance bans an IP that keeps going after a 429 (docs/binance.md), so the weight
 * used against the limit is the panel to watch when scaling the loaders out.
 */
import type { ExchangeClientStats } from '@streamforge/exchange';
import { MARKETS } from '@streamforge/core/contracts';
import { Counter, Gauge, type Registry } from '@streamforge/core/telemetry';

/** Registers the exchange metrics on `registry`; values are read from `stats()` when scraped. */
export function registerExchangeMetrics(registry: Registry, stats: () => ExchangeClientStats): void {
  new Gauge({
    name: 'streamforge_exchange_weight_used',
    help: 'Request weight the exchange reports used in the current minute (X-MBX-USED-WEIGHT-1M), per market.',
    labelNames: ['market'],
    registers: [registry],
    collect() {
      const s = stats();
      for (const market of MARKETS) {
        const used = s.usedWeight[market];
        if (used !== undefined) this.set({ market }, used);
      }
    },
  });
  new Gauge({
    name: 'streamforge_exchange_weight_limit',
    help: 'Request weight per minute the client keeps under, per market.',
    labelNames: ['market'],
    registers: [registry],
    collect() {
      const s = stats();
      for (const market of MARKETS) this.set({ market }, s.governors[market].limit);
    },
  });
  // Cumulative values owned by the client: each scrape sets the counter to the client's count.
  const cumulative = (name: string, help: string, read: (s: ExchangeClientStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(stats()));
      },
    });
  cumulative(
    'streamforge_exchange_requests_total',
    'HTTP requests sent to the exchange, retries included.',
    (s) => s.requests,
  );
  cumulative('streamforge_exchange_rate_limited_total', '429 and 418 answers from the exchange.', (s) => s.rateLimited);
  cumulative(
    'streamforge_exchange_weight_wait_seconds_total',
    'Time requests waited for the weight budget.',
    (s) => s.weightWaitedMs / 1000,
  );
}
