/**
 * Stored candles of each symbol, read from the store (in key order, page by page) and laid
 * on one timeline: every bar of the interval whose open time is in the requested range. A
 * candle the exchange never produced stays a gap (a trading halt), never an interpolation.
 */
import { klineKey, openTimesIn, type Interval, type KlineRecord } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { CandleSource } from '@streamforge/core/requests';
import type { RecordStore } from '@streamforge/core/store';
import type { AlignedSeries, Bar, Timeline } from './window-features.ts';

const PAGE = 5_000;

export type { CandleSource };

/** A stored kline as a bar, or undefined when its numbers make no sense for log returns. */
function barOf(record: KlineRecord): Bar | undefined {
  const bar = {
    close: Number(record.close),
    high: Number(record.high),
    low: Number(record.low),
    quoteVolume: Number(record.quote_asset_volume),
  };
  return bar.close > 0 && bar.low > 0 && bar.high >= bar.low && bar.quoteVolume >= 0 ? bar : undefined;
}

/** One symbol's candles of `interval` with open time in [startMs, endMs), by open time. */
export async function readCandles(
  store: RecordStore,
  source: CandleSource,
  interval: Interval,
  startMs: number,
  endMs: number,
): Promise<Map<number, Bar>> {
  const bars = new Map<number, Bar>();
  // Kline keys are `SYMBOL:interval:openTime` with 13-digit times, so key order is time order:
  // paging may start right before the range.
  let after: string | undefined = startMs >= 1e12 ? klineKey(source.symbol, interval, startMs - 1) : undefined;
  for (;;) {
    const page = (await store.listRecords(source.collection, {
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    })) as unknown as KlineRecord[];
    for (const record of page) {
      if (
        record.symbol !== source.symbol ||
        record.interval !== interval ||
        record.open_time < startMs ||
        record.open_time >= endMs
      )
        continue;
      const bar = barOf(record);
      if (bar) bars.set(record.open_time, bar);
    }
    const last = page.at(-1);
    if (
      page.length < PAGE ||
      last === undefined ||
      (last.symbol === source.symbol && last.interval === interval && last.open_time >= endMs)
    )
      break;
    after = last.key;
  }
  return bars;
}

/** Every symbol's candles on the common timeline; a symbol with none at all is an error naming its collection. */
export async function alignedCandles(
  store: RecordStore,
  sources: readonly CandleSource[],
  interval: Interval,
  startMs: number,
  endMs: number,
): Promise<{ timeline: Timeline; series: AlignedSeries[] }> {
  const openTimes = [...openTimesIn(interval, startMs, endMs)];
  const series = await Promise.all(
    sources.map(async (source) => {
      const bars = await readCandles(store, source, interval, startMs, endMs);
      if (bars.size === 0) {
        throw new StreamForgeError(
          'SF_CONTRACT_INVALID',
          `collections.${source.symbol}: no ${interval} candles of ${source.symbol} in collection ${source.collection} between ${new Date(startMs).toISOString()} and ${new Date(endMs).toISOString()}; backfill them first (api_candles_${interval})`,
          { details: { field: `collections.${source.symbol}` } },
        );
      }
      return { symbol: source.symbol, bars: openTimes.map((t) => bars.get(t)) };
    }),
  );
  return { timeline: { interval, openTimes }, series };
}
