/**
 * One window of the graph set, from candles aligned on a common timeline of bars: the
 * vertices' features (from the window's bars only), their labels (from the bars after it
 * only) and the correlation edges.
 *
 * Window w covers bars [from, to) with from = w · step and to = from + window; it ends at the
 * close of bar to − 1, and nothing in its features or edges reads a bar from `to` on. Returns
 * are log returns between consecutive bars inside the window (window − 1 of them), so not
 * even the bar before the window is read. The label is the direction of the log return
 * from the window's last close to the close `horizon` bars later: data that only exists
 * after the window ends, known at that later bar's close (`known_at`).
 *
 * Features (returns, realised volatility, volume on a log scale, ranges):
 *   mean_return  mean of the log returns
 *   volatility   their sample standard deviation (n − 1)
 *   log_volume   ln(1 + mean quote-asset volume per bar), comparable across symbols
 *   mean_range   mean of ln(high / low) per bar (intrabar range)
 *   last_return  the latest log return of the window
 */
import { nextOpenTime, type Interval } from '@streamforge/core/contracts';
import type { GraphLabel, GraphVertex, GraphWindow } from '@streamforge/core/store';
import { correlationEdges, type CorrelationMethod, type EdgePolicy } from './correlation-edges.ts';

export const FEATURE_NAMES = ['mean_return', 'volatility', 'log_volume', 'mean_range', 'last_return'] as const;

export interface Bar {
  close: number;
  high: number;
  low: number;
  quoteVolume: number;
}

/** One symbol's bars on the timeline (undefined where the exchange has no candle). */
export interface AlignedSeries {
  symbol: string;
  bars: ReadonlyArray<Bar | undefined>;
}

export interface Timeline {
  interval: Interval;
  /** Open time of every bar, increasing. */
  openTimes: readonly number[];
}

export interface WindowSpan {
  index: number;
  /** First bar (inclusive). */
  from: number;
  /** End bar (exclusive). */
  to: number;
}

export interface WindowOptions {
  edges: EdgePolicy;
  correlation: CorrelationMethod;
  /** Bars after the window's last one whose close the label compares with. */
  horizon: number;
  /** Returns a vertex (and a pair, for an edge) needs in the window. */
  minReturns: number;
}

/** Windows of `window` bars every `step` bars over `bars` bars, each whole. */
export function planWindows(bars: number, window: number, step: number): WindowSpan[] {
  const spans: WindowSpan[] = [];
  for (let from = 0, index = 0; from + window <= bars; from += step, index++)
    spans.push({ index, from, to: from + window });
  return spans;
}

/** Log returns of the window's bars: element k is bar from + k against bar from + k − 1, NaN when either is missing (always for k = 0). */
export function windowReturns(series: AlignedSeries, span: WindowSpan): Float64Array {
  const out = new Float64Array(span.to - span.from).fill(Number.NaN);
  for (let i = span.from + 1; i < span.to; i++) {
    const previous = series.bars[i - 1];
    const bar = series.bars[i];
    if (previous && bar) out[i - span.from] = Math.log(bar.close / previous.close);
  }
  return out;
}

/** The features of one symbol in one window, in FEATURE_NAMES order; undefined with fewer than `minReturns` returns. */
export function vertexFeatures(
  series: AlignedSeries,
  span: WindowSpan,
  returns: Float64Array,
  minReturns: number,
): number[] | undefined {
  const valid = [...returns].filter((r) => !Number.isNaN(r));
  if (valid.length < Math.max(2, minReturns)) return undefined;
  const mean = valid.reduce((s, r) => s + r, 0) / valid.length;
  const volatility = Math.sqrt(valid.reduce((s, r) => s + (r - mean) ** 2, 0) / (valid.length - 1));
  let volume = 0;
  let range = 0;
  let bars = 0;
  for (let i = span.from; i < span.to; i++) {
    const bar = series.bars[i];
    if (!bar) continue;
    volume += bar.quoteVolume;
    range += Math.log(bar.high / bar.low);
    bars++;
  }
  return [mean, volatility, Math.log1p(volume / bars), range / bars, valid[valid.length - 1]!];
}

/** The next-window direction: from the window's last close to the close `horizon` bars on; null when not (yet) in the data. */
export function nextWindowLabel(
  series: AlignedSeries,
  span: WindowSpan,
  timeline: Timeline,
  horizon: number,
): GraphLabel | null {
  const last = span.to - 1;
  const later = last + horizon;
  const reference = series.bars[last];
  const future = series.bars[later];
  if (later >= timeline.openTimes.length || !reference || !future) return null;
  const value = Math.log(future.close / reference.close);
  return { class: value > 0 ? 1 : 0, value, known_at: nextOpenTime(timeline.interval, timeline.openTimes[later]!) };
}

/** The graph of one window: a vertex per symbol with enough data, correlation edges among them. */
export function buildWindow(
  graphId: string,
  timeline: Timeline,
  series: readonly AlignedSeries[],
  span: WindowSpan,
  options: WindowOptions,
): GraphWindow {
  const vertices: GraphVertex[] = [];
  const returns: Float64Array[] = [];
  for (const s of series) {
    const r = windowReturns(s, span);
    const features = vertexFeatures(s, span, r, options.minReturns);
    if (!features) continue;
    const bars = s.bars.slice(span.from, span.to).filter((b) => b !== undefined).length;
    vertices.push({
      symbol: s.symbol,
      features,
      label: nextWindowLabel(s, span, timeline, options.horizon),
      attributes: { bars, returns: r.filter((x) => !Number.isNaN(x)).length },
    });
    returns.push(r);
  }
  return {
    graph_id: graphId,
    window: span.index,
    start: timeline.openTimes[span.from]!,
    end: nextOpenTime(timeline.interval, timeline.openTimes[span.to - 1]!),
    vertices,
    edges: correlationEdges(
      vertices.map((v) => v.symbol),
      returns,
      options.edges,
      options.correlation,
      options.minReturns,
    ),
  };
}
