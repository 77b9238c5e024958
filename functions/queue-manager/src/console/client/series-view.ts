/**
 * The time series view: a funding rate collection (the rate over funding time, in %) or a
 * metrics collection (open interest above on the right scale, the long/short ratios below on the left)
 * as lines (lightweight-charts, bundled), from GET /collections/{name}/series. The server
 * buckets the records (the last of each), about one a pixel; zooming in until fewer than
 * max_points / 8 buckets show reads the visible range again in finer buckets.
 *
 * What was drawn is also on the element, for tests: data-kind, data-points (points of each
 * line), data-lines, data-records, data-bucket, data-from, data-to, data-max-points,
 * data-loads, data-state, data-collection.
 */
import {
  ColorType,
  createChart,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { api } from './api-client.ts';
import { byId, el } from './dom.ts';
import { fmt } from './format.ts';
import { priceFormatFor } from './price-format.ts';
import type { SeriesAnswer } from './wire.ts';

type Kind = SeriesAnswer['kind'];

interface Line {
  field: string;
  label: string;
  color: string;
  /** `right`, `left`, or an overlay scale of its own (hidden). */
  scale: string;
}

const LINES: Record<Kind, Line[]> = {
  funding_rate: [{ field: 'funding_rate', label: 'funding rate', color: '#2563eb', scale: 'right' }],
  metrics: [
    { field: 'sum_open_interest', label: 'open interest (above, right)', color: '#2563eb', scale: 'right' },
    // Open interest in quote asset: the same shape on another scale, hidden to keep two axes.
    { field: 'sum_open_interest_value', label: 'its value (own scale)', color: '#93c5fd', scale: 'value' },
    {
      field: 'count_toptrader_long_short_ratio',
      label: 'top traders L/S, accounts (below, left)',
      color: '#16a34a',
      scale: 'left',
    },
    { field: 'sum_toptrader_long_short_ratio', label: 'top traders L/S, positions', color: '#65a30d', scale: 'left' },
    { field: 'count_long_short_ratio', label: 'all accounts L/S', color: '#d97706', scale: 'left' },
    { field: 'sum_taker_long_short_vol_ratio', label: 'taker buy/sell volume', color: '#dc2626', scale: 'left' },
  ],
};
const TITLES: Record<Kind, string> = { funding_rate: 'Funding rate', metrics: 'Open interest and long/short ratios' };
const FINER_AFTER = 8;
const SETTLE_MS = 250;

interface View {
  name: string;
  kind: Kind | undefined;
  loaded: SeriesAnswer | undefined;
  /** The whole series, from the first read. */
  extent: { from: number; to: number } | undefined;
  loads: number;
}

const seconds = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;
const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

let chart: IChartApi | undefined;
let lines: Array<{ line: Line; series: ISeriesApi<'Line'> }> = [];
let view: View | undefined;
let reading = 0;
let placing = false;
let settle: ReturnType<typeof setTimeout> | undefined;

function maxPoints(): number {
  return Math.max(100, Math.min(2_000, Math.round(byId('series-chart').clientWidth || 800)));
}

/** A chart with the kind's lines; made again when the kind changes. */
function ensureChart(kind: Kind): void {
  if (chart && view?.kind === kind && lines.length > 0) return;
  chart?.remove();
  const container = byId('series-chart');
  chart = createChart(container, {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#1d2330', attributionLogo: false },
    grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#e2e5ea' },
    rightPriceScale: { borderColor: '#e2e5ea' },
    leftPriceScale: { borderColor: '#e2e5ea', visible: kind === 'metrics' },
  });
  lines = LINES[kind].map((line) => ({
    line,
    series: chart!.addSeries(LineSeries, {
      color: line.color,
      lineWidth: 2,
      priceScaleId: line.scale,
      title: '',
      priceLineVisible: false,
      // A hidden scale's line would still label its last value on the axes.
      lastValueVisible: line.scale !== 'value',
      // The funding rate in % (0.0100 % rather than 0.000100).
      ...(kind === 'funding_rate'
        ? {
            priceFormat: {
              type: 'custom' as const,
              minMove: 1e-8,
              formatter: (rate: number) => `${(rate * 100).toFixed(4)} %`,
            },
          }
        : {}),
    }),
  }));
  if (kind === 'metrics') {
    // Two bands: open interest above, the ratios (around 1) below, so neither hides the other.
    const top = { top: 0.05, bottom: 0.5 };
    chart.priceScale('right').applyOptions({ scaleMargins: top });
    chart.priceScale('value').applyOptions({ visible: false, scaleMargins: top });
    chart.priceScale('left').applyOptions({ scaleMargins: { top: 0.55, bottom: 0.05 } });
  }
  chart.timeScale().subscribeVisibleTimeRangeChange(() => {
    if (placing || !view?.loaded) return;
    clearTimeout(settle);
    settle = setTimeout(() => void followView(), SETTLE_MS);
  });
  byId('series-legend').replaceChildren(
    ...LINES[kind].map((line) => {
      const swatch = el('span', { cls: 'swatch' });
      // Through the CSSOM: the page's CSP refuses style attributes.
      swatch.style.background = line.color;
      return el('span', { cls: 'legend-item' }, swatch, line.label);
    }),
  );
}

function draw(answer: SeriesAnswer, keep: { from: number; to: number } | undefined): void {
  ensureChart(answer.kind);
  const box = byId('series');
  placing = true;
  try {
    for (const { line, series } of lines) {
      const points = answer.points.filter((p) => Number.isFinite(p[line.field]));
      if (answer.kind === 'metrics')
        series.applyOptions({ priceFormat: priceFormatFor(points.map((p) => p[line.field]!)) });
      series.setData(points.map((p) => ({ time: seconds(p.time), value: p[line.field]! })));
    }
    if (keep) chart!.timeScale().setVisibleRange({ from: seconds(keep.from) as Time, to: seconds(keep.to) as Time });
    else chart!.timeScale().fitContent();
  } finally {
    requestAnimationFrame(() => requestAnimationFrame(() => (placing = false)));
  }
  box.dataset.kind = answer.kind;
  box.dataset.points = String(answer.points.length);
  box.dataset.lines = String(lines.length);
  box.dataset.records = String(answer.records);
  box.dataset.bucket = answer.bucket;
  box.dataset.from = String(answer.from);
  box.dataset.to = String(answer.to);
  byId('series-title').textContent = TITLES[answer.kind];
  byId('series-summary').textContent = [
    answer.symbol,
    `${answer.bucket} a point (the last record of each)`,
    `${utc(answer.from)} → ${utc(answer.to)} UTC`,
    `${fmt(answer.records)} records${answer.complete ? '' : ' (the first that fit; narrow the range for more)'}`,
  ].join(' · ');
}

async function read(range: { from: number; to: number } | undefined, keep?: { from: number; to: number }) {
  if (!view) return;
  const current = view;
  const turn = ++reading;
  const box = byId('series');
  box.dataset.state = 'loading';
  const points = maxPoints();
  box.dataset.maxPoints = String(points);
  const query = new URLSearchParams({ max_points: String(points) });
  if (range) {
    query.set('from', String(Math.floor(range.from)));
    query.set('to', String(Math.ceil(range.to)));
  }
  try {
    const answer = await api<SeriesAnswer>('GET', `/collections/${encodeURIComponent(current.name)}/series?${query}`);
    if (turn !== reading || view !== current) return;
    current.loaded = answer;
    current.extent ??= { from: answer.from, to: answer.to };
    current.loads++;
    draw(answer, keep);
    current.kind = answer.kind;
    box.dataset.loads = String(current.loads);
    box.dataset.state = 'ready';
    byId('series-error').hidden = true;
  } catch (error) {
    if (turn !== reading) return;
    box.dataset.state = 'error';
    byId('series-error').hidden = false;
    byId('series-error').textContent = (error as Error).message;
  }
}

/** Zoomed in past a few buckets: the visible range, with half a span on each side, in finer buckets. */
async function followView(): Promise<void> {
  const loaded = view?.loaded;
  const visible = chart?.timeScale().getVisibleRange();
  if (!view || !loaded || !visible || !view.extent) return;
  const from = Number(visible.from) * 1000;
  const to = Number(visible.to) * 1000 + loaded.bucket_ms;
  const span = to - from;
  if (loaded.bucket_ms <= 1_000 || span / loaded.bucket_ms >= maxPoints() / FINER_AFTER) return;
  const want = {
    from: Math.max(view.extent.from, from - span / 2),
    to: Math.min(view.extent.to, to + span / 2),
  };
  if (want.from < want.to) await read(want, { from, to });
}

/** Opens a funding rate or metrics collection as lines: its whole series (what fits the limit). */
export function showSeries(name: string): void {
  byId('series-view').hidden = false;
  byId('series-name').textContent = name;
  const box = byId('series');
  box.dataset.collection = name;
  box.dataset.loads = '0';
  view = { name, kind: view?.kind, loaded: undefined, extent: undefined, loads: 0 };
  history.replaceState(null, '', `#${new URLSearchParams({ collection: name, view: 'series' }).toString()}`);
  void read(undefined);
  byId('series-view').scrollIntoView({ block: 'nearest' });
}

export function setUpSeriesView(): void {
  byId('series-home').addEventListener('click', () => {
    if (view?.extent) void read(undefined);
  });
  byId('series-close').addEventListener('click', () => {
    view = undefined;
    reading++;
    history.replaceState(null, '', location.pathname + location.search);
    byId('series-view').hidden = true;
  });
}
