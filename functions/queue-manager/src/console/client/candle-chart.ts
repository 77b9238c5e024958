/**
 * The collection view: a klines collection as candlesticks with volume (lightweight-charts,
 * bundled), from GET /collections/{name}/candles (a mark/index/premium price series: the
 * candles alone, the scale's decimals fitted to its prices), or a trades collection's price candles
 * (chart-source.ts). The server groups the candles, so a year
 * of 1m is one answer of at most a chart's width of buckets; zooming in or panning to the
 * edge of what was read asks again for the visible range, with finer buckets. Gaps (expected
 * candles not stored) are shaded over the whole height at their time. A live stream's chart
 * extends as its workflow reports records (collectionGrew).
 *
 * What was drawn is also on the chart element, for tests: data-candles, data-gaps,
 * data-gap-ranges (JSON [[from, to], …] in ms), data-gap-bars, data-bucket, data-from, data-to,
 * data-max-points (asked for), data-loads, data-state, data-source, data-kind, data-volume
 * (`shown`, `none`), data-precision (the price scale's decimals).
 */
import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { type ChartSource, readChart } from './chart-source.ts';
import { byId, el } from './dom.ts';
import { fmt } from './format.ts';
import { priceFormatFor } from './price-format.ts';
import type { CandlesAnswer } from './wire.ts';

/** The futures price series: candles of prices only, no volume pane. */
const PRICE_SERIES: Record<string, string> = {
  mark_price_klines: 'mark price',
  index_price_klines: 'index price',
  premium_index_klines: 'premium index',
};

const UP = '#16a34a';
const DOWN = '#dc2626';
const GAP = 'rgba(220, 38, 38, 0.16)';
/** A chart never draws more shaded gap bars than this (one per bucket inside a gap). */
const MAX_GAP_BARS = 4_000;
/** Gaps listed under the chart; the rest are counted. */
const LISTED_GAPS = 12;
/** Zoomed in until fewer than max_points / this buckets show: read finer buckets. */
const FINER_AFTER = 8;
/** How long the view rests before a zoom or pan is read (a drag fires many changes). */
const SETTLE_MS = 250;
/** A live collection's chart reads its newest candles at most this often, however fast they arrive. */
const LIVE_MS = 1_000;

interface View {
  name: string;
  /** Klines or trades; undefined until the first read found out. */
  source: ChartSource | undefined;
  /** The range the chart opens on and returns to; undefined: the whole stored series. */
  home: { from: number; to: number } | undefined;
  /** What was read last, and the range the server answered for. */
  loaded: CandlesAnswer | undefined;
  /** The series' whole stored extent, from the first answer. */
  extent: { from: number; to: number } | undefined;
  loads: number;
}

const seconds = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;
const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

let chart: IChartApi | undefined;
let candles: ISeriesApi<'Candlestick'> | undefined;
let volume: ISeriesApi<'Histogram'> | undefined;
let gapBars: ISeriesApi<'Histogram'> | undefined;
let view: View | undefined;
let settle: ReturnType<typeof setTimeout> | undefined;
/** Changes of the visible range the page makes itself are not the user zooming. */
let placing = false;
let reading = 0;
let live: ReturnType<typeof setTimeout> | undefined;

function ensureChart(): IChartApi {
  if (chart) return chart;
  const container = byId('chart');
  chart = createChart(container, {
    autoSize: true,
    // The attribution sits in the section's footer: the logo would inject a <style> the page's CSP refuses.
    layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#1d2330', attributionLogo: false },
    grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#e2e5ea' },
    rightPriceScale: { borderColor: '#e2e5ea', scaleMargins: { top: 0.08, bottom: 0.28 } },
  });
  gapBars = chart.addSeries(HistogramSeries, {
    priceScaleId: 'gaps',
    color: GAP,
    priceLineVisible: false,
    lastValueVisible: false,
    base: 0,
  });
  chart.priceScale('gaps').applyOptions({ scaleMargins: { top: 0, bottom: 0 }, visible: false });
  volume = chart.addSeries(HistogramSeries, {
    priceScaleId: 'volume',
    priceFormat: { type: 'volume' },
    priceLineVisible: false,
    lastValueVisible: false,
  });
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.78, bottom: 0 }, visible: false });
  candles = chart.addSeries(CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderUpColor: UP,
    borderDownColor: DOWN,
    wickUpColor: UP,
    wickDownColor: DOWN,
  });
  chart.timeScale().subscribeVisibleTimeRangeChange(() => {
    if (placing || !view?.loaded) return;
    clearTimeout(settle);
    settle = setTimeout(() => void followView(), SETTLE_MS);
  });
  return chart;
}

/** Buckets a chart of this width shows: about one a pixel, within the API's limits. */
function maxPoints(): number {
  return Math.max(100, Math.min(2_000, Math.round(byId('chart').clientWidth || 800)));
}

/** The open times of the buckets a gap covers, so the time axis keeps room for it and shades it. */
function gapTimes(answer: CandlesAnswer): number[] {
  const times: number[] = [];
  const step = answer.bucket_ms;
  const reference = answer.candles[0]?.time ?? answer.from;
  for (const gap of answer.gaps) {
    if (step === 0) {
      // Months: one bar at each missing month's open.
      for (let t = gap.from; t < gap.to && times.length < MAX_GAP_BARS; ) {
        times.push(t);
        const d = new Date(t);
        t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      }
      continue;
    }
    const first = gap.from - ((((gap.from - reference) % step) + step) % step);
    for (let t = first; t < gap.to && times.length < MAX_GAP_BARS; t += step) times.push(t);
  }
  return [...new Set(times)].sort((a, b) => a - b);
}

function describe(answer: CandlesAnswer): void {
  const gaps = answer.gaps.length;
  byId('chart-summary').textContent = [
    answer.trades
      ? `${answer.symbol} · price of ${answer.trades === 'agg_trades' ? 'aggregate trades' : 'trades'}`
      : `${answer.symbol} · ${PRICE_SERIES[answer.kind ?? ''] ?? ''}${PRICE_SERIES[answer.kind ?? ''] ? ' ' : ''}${answer.interval} candles`,
    answer.bucket === answer.interval && !answer.trades ? 'one per bar' : `${answer.bucket} a bar`,
    `${utc(answer.from)} → ${utc(answer.to)} UTC`,
    answer.trades ? `${fmt(answer.stored)} trades` : `${fmt(answer.stored)} of ${fmt(answer.expected)} stored`,
    answer.trades
      ? ''
      : gaps === 0
        ? 'no gaps'
        : `${gaps}${answer.gaps_truncated ? '+' : ''} gap${gaps === 1 ? '' : 's'} (${fmt(answer.missing)} missing)`,
  ]
    .filter(Boolean)
    .join(' · ');
  byId('chart-gaps').replaceChildren(
    ...answer.gaps
      .slice(0, LISTED_GAPS)
      .map((g) =>
        el(
          'li',
          { 'data-from': String(g.from), 'data-to': String(g.to) },
          `${utc(g.from)} → ${utc(g.to)} UTC: ${fmt(g.missing)} missing`,
        ),
      ),
    ...(gaps > LISTED_GAPS ? [el('li', { cls: 'muted', text: `and ${fmt(gaps - LISTED_GAPS)} more` })] : []),
  );
}

/** Where the view goes after a read: a range kept, the newest candles (live), or everything read. */
type Placement = { from: number; to: number } | 'latest' | undefined;

function draw(answer: CandlesAnswer, keep: Placement): void {
  ensureChart();
  const box = byId('chart');
  placing = true;
  try {
    // A premium index is about ±0.0005: the scale's decimals follow the prices drawn.
    const format = priceFormatFor(answer.candles.flatMap((c) => [c.high, c.low]));
    candles!.applyOptions({ priceFormat: format });
    candles!.setData(
      answer.candles.map((c) => ({ time: seconds(c.time), open: c.open, high: c.high, low: c.low, close: c.close })),
    );
    // Price series have no volumes: no volume pane, and the candles take its room.
    const withVolume = !PRICE_SERIES[answer.kind ?? ''];
    chart!.priceScale('right').applyOptions({ scaleMargins: { top: 0.08, bottom: withVolume ? 0.28 : 0.08 } });
    volume!.setData(
      withVolume
        ? answer.candles.map((c) => ({
            time: seconds(c.time),
            value: c.volume,
            color: c.close >= c.open ? 'rgba(22, 163, 74, 0.35)' : 'rgba(220, 38, 38, 0.35)',
          }))
        : [],
    );
    box.dataset.volume = withVolume ? 'shown' : 'none';
    box.dataset.precision = String(format.precision);
    const shaded = gapTimes(answer);
    gapBars!.setData(shaded.map((t) => ({ time: seconds(t), value: 1 })));
    if (keep === 'latest') chart!.timeScale().scrollToRealTime();
    else if (keep)
      chart!.timeScale().setVisibleRange({ from: seconds(keep.from) as Time, to: seconds(keep.to) as Time });
    else chart!.timeScale().fitContent();
    box.dataset.gapBars = String(shaded.length);
  } finally {
    // The chart reports the change on its next frame: the flag holds until then.
    requestAnimationFrame(() => requestAnimationFrame(() => (placing = false)));
  }
  box.dataset.candles = String(answer.candles.length);
  box.dataset.kind = answer.trades ?? answer.kind ?? 'klines';
  box.dataset.gaps = String(answer.gaps.length);
  box.dataset.gapRanges = JSON.stringify(answer.gaps.map((g) => [g.from, g.to]));
  box.dataset.bucket = answer.bucket;
  box.dataset.from = String(answer.from);
  box.dataset.to = String(answer.to);
  describe(answer);
}

/** Reads [from, to) of the view's collection; a bound left out is the series' own (its first or newest candle). */
async function read(range: { from?: number; to?: number } | undefined, keep?: Placement): Promise<void> {
  if (!view) return;
  const current = view;
  const turn = ++reading;
  const box = byId('chart');
  box.dataset.state = 'loading';
  const points = maxPoints();
  box.dataset.maxPoints = String(points);
  const query = new URLSearchParams({ max_points: String(points) });
  if (range?.from !== undefined) query.set('from', String(Math.floor(range.from)));
  if (range?.to !== undefined) query.set('to', String(Math.ceil(range.to)));
  try {
    const { answer, source } = await readChart(current.name, current.source, query);
    // A newer read (another zoom, another collection) wins.
    if (turn !== reading || view !== current) return;
    current.source = source;
    box.dataset.source = source;
    current.loaded = answer;
    // A live collection grows: the extent is what the latest answer saw.
    current.extent = { from: answer.first_stored, to: answer.last_stored + 1 };
    current.loads++;
    draw(answer, keep);
    box.dataset.loads = String(current.loads);
    box.dataset.state = 'ready';
    byId('chart-error').hidden = true;
  } catch (error) {
    if (turn !== reading) return;
    box.dataset.state = 'error';
    byId('chart-error').hidden = false;
    byId('chart-error').textContent = (error as Error).message;
  }
}

/** After a zoom or pan: reads the visible range again when finer buckets or more data would show. */
async function followView(): Promise<void> {
  const loaded = view?.loaded;
  const visible = chart?.timeScale().getVisibleRange();
  if (!view || !loaded || !visible) return;
  // What can be read: the opening range and everything stored.
  const stored = view.extent ?? { from: loaded.from, to: loaded.to };
  const bounds = view.home
    ? { from: Math.min(view.home.from, stored.from), to: Math.max(view.home.to, stored.to) }
    : stored;
  const from = Number(visible.from) * 1000;
  const to = Number(visible.to) * 1000 + Math.max(loaded.bucket_ms, 1);
  const span = to - from;
  const points = maxPoints();
  const finer =
    loaded.bucket !== loaded.interval && loaded.bucket_ms > 0 && span / loaded.bucket_ms < points / FINER_AFTER;
  // Near an edge of what was read while more lies beyond it, or zoomed out past it.
  const moreLeft = loaded.from > bounds.from && from - loaded.from < span / 4;
  const moreRight = loaded.to < bounds.to && loaded.to - to < span / 4;
  if (!finer && !moreLeft && !moreRight) return;
  const want = { from: Math.max(bounds.from, from - span / 2), to: Math.min(bounds.to, to + span / 2) };
  await read(want, { from, to });
}

/**
 * A collection got records (a live stream's workflow changed): when its chart shows the
 * newest candles, they are read again up to the newest one, so the chart extends as
 * candles arrive. Looking back in history, the view stays where it is.
 */
export function collectionGrew(name: string): void {
  if (view?.name !== name || !view.loaded || live !== undefined) return;
  live = setTimeout(() => {
    live = undefined;
    const loaded = view?.loaded;
    const visible = chart?.timeScale().getVisibleRange();
    if (!view || view.name !== name || !loaded || !visible) return;
    const step = Math.max(loaded.bucket_ms, 60_000);
    if (Number(visible.to) * 1000 + step < loaded.last_stored) return;
    view.home = undefined;
    // Up to the newest stored candle (the server's default end, whatever the exchange's clock):
    // everything stored stays in view if it was, else about the same span.
    const everything = loaded.from <= loaded.first_stored;
    const from = everything ? loaded.from : loaded.last_stored - (loaded.to - loaded.from);
    void read({ from }, everything ? undefined : 'latest');
  }, LIVE_MS);
}

/** Opens a collection's chart: on `range` (a workflow's), or the whole stored series. */
export function showCollection(name: string, range?: { from: number; to: number }, source?: ChartSource): void {
  byId('collection-view').hidden = false;
  byId('chart-name').textContent = name;
  const box = byId('chart');
  box.dataset.collection = name;
  box.dataset.loads = '0';
  view = { name, source, home: range, loaded: undefined, extent: undefined, loads: 0 };
  // The address names the chart, so it can be kept and shared (main.ts opens it on load).
  const link = new URLSearchParams({
    collection: name,
    ...(range ? { from: String(range.from), to: String(range.to) } : {}),
  });
  history.replaceState(null, '', `#${link.toString()}`);
  // The read goes out first: the chart is made while the server answers.
  void read(range);
  ensureChart();
  byId('collection-view').scrollIntoView({ block: 'nearest' });
}

export function setUpCollectionView(): void {
  byId('chart-home').addEventListener('click', () => {
    if (view) void read(view.home);
  });
  byId('chart-close').addEventListener('click', () => {
    view = undefined;
    history.replaceState(null, '', location.pathname + location.search);
    reading++;
    byId('collection-view').hidden = true;
  });
}
