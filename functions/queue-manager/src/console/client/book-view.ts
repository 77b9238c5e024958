/**
 * The order-book view: a depth collection's latest stored book as a ladder (bids and asks with
 * cumulative quantities) under its best bid and ask over time, or a bookTicker collection's
 * best bid, best ask and spread (GET /collections/{name}/depth or …/book-ticker, at most about
 * a pixel's worth of points, downsampled by the server). Spot bookTicker records carry no time:
 * their chart runs over the update id, and its axis says so.
 *
 * What was drawn is also on the element, for tests: data-kind, data-axis, data-points,
 * data-bids, data-asks, data-bucket, data-from, data-to, data-max-points, data-loads,
 * data-state, data-collection.
 */
import {
  ColorType,
  createChart,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { api } from './api-client.ts';
import { byId, el } from './dom.ts';
import { fmt } from './format.ts';
import type { BookAnswer, LadderLevel } from './wire.ts';

export type BookKind = 'depth' | 'book_ticker';

const BID = '#16a34a';
const ASK = '#dc2626';
const SPREAD = '#2563eb';
/** Ladder rows shown per side; the rest are counted in the summary. */
const LADDER_ROWS = 20;

let chart: IChartApi | undefined;
let bid: ISeriesApi<'Line'> | undefined;
let ask: ISeriesApi<'Line'> | undefined;
let spread: ISeriesApi<'Line'> | undefined;
/** The axis of what is drawn: the chart's labels follow it. */
let axis: BookAnswer['axis'] = 'time';
let reading = 0;
let loads = 0;

const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
/** The chart's x of a point: seconds on the time axis, the update id itself on the other. */
const xOf = (x: number): UTCTimestamp => (axis === 'time' ? Math.floor(x / 1000) : x) as UTCTimestamp;
/** The first update id drawn: ticks count from it (whole ids would overlap), the crosshair shows the id. */
let firstId = 0;
const label = (t: Time): string => (axis === 'time' ? utc(Number(t) * 1000).slice(11) : `#${fmt(Number(t))}`);
const tick = (t: Time): string => (axis === 'time' ? label(t) : `+${fmt(Number(t) - firstId)}`);

/** The kind of a workflow's stream, when it stores order-book records. */
export function bookKindOfType(type: string): BookKind | undefined {
  return type === 'ws_depth' ? 'depth' : type === 'ws_book_ticker' ? 'book_ticker' : undefined;
}

function ensureChart(): IChartApi {
  if (chart) return chart;
  chart = createChart(byId('book-chart'), {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#1d2330', attributionLogo: false },
    grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
    localization: { timeFormatter: label },
    timeScale: { borderColor: '#e2e5ea', tickMarkFormatter: tick },
    rightPriceScale: { borderColor: '#e2e5ea', scaleMargins: { top: 0.08, bottom: 0.3 } },
  });
  bid = chart.addSeries(LineSeries, { color: BID, lineWidth: 2, title: 'bid' });
  ask = chart.addSeries(LineSeries, { color: ASK, lineWidth: 2, title: 'ask' });
  spread = chart.addSeries(LineSeries, { color: SPREAD, lineWidth: 1, priceScaleId: 'spread', title: 'spread' });
  chart.priceScale('spread').applyOptions({ scaleMargins: { top: 0.75, bottom: 0 } });
  return chart;
}

function rows(levels: LadderLevel[]): HTMLTableRowElement[] {
  return levels
    .slice(0, LADDER_ROWS)
    .map((l) =>
      el(
        'tr',
        null,
        el('td', { cls: 'num', text: String(l.price) }),
        el('td', { cls: 'num', text: String(l.quantity) }),
        el('td', { cls: 'num', text: String(Number(l.cumulative.toPrecision(12))) }),
      ),
    );
}

function draw(answer: BookAnswer): void {
  axis = answer.axis;
  firstId = answer.from;
  ensureChart();
  const points = answer.points;
  bid!.setData(points.map((p) => ({ time: xOf(p.x), value: p.bid })));
  ask!.setData(points.map((p) => ({ time: xOf(p.x), value: p.ask })));
  spread!.setData(points.map((p) => ({ time: xOf(p.x), value: p.spread })));
  chart!.applyOptions({ timeScale: { timeVisible: answer.axis === 'time', secondsVisible: answer.axis === 'time' } });
  chart!.timeScale().fitContent();
  const book = answer.book ?? undefined;
  byId('book-ladder').hidden = answer.kind !== 'depth';
  byId('book-bids').replaceChildren(...rows(book?.bids ?? []));
  byId('book-asks').replaceChildren(...rows(book?.asks ?? []));
  const last = points[points.length - 1];
  const range =
    answer.axis === 'time'
      ? `${utc(answer.from)} → ${utc(answer.to)} UTC`
      : `update ids ${fmt(answer.from)} → ${fmt(answer.to)} (spot's stream has no time)`;
  byId('book-summary').textContent = [
    `${answer.symbol} · ${answer.kind === 'depth' ? 'order book' : 'best bid/ask'}`,
    `${answer.bucket} a point`,
    range,
    `${fmt(answer.records)} records`,
    last ? `last: bid ${last.bid} · ask ${last.ask} · spread ${Number(last.spread.toPrecision(8))}` : '',
    book
      ? `book #${book.last_update_id}: ${book.bids.length} bids, ${book.asks.length} asks (${book.levels} levels kept)`
      : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const box = byId('book');
  box.dataset.kind = answer.kind;
  box.dataset.axis = answer.axis;
  box.dataset.points = String(points.length);
  box.dataset.bids = String(Math.min(LADDER_ROWS, book?.bids.length ?? 0));
  box.dataset.asks = String(Math.min(LADDER_ROWS, book?.asks.length ?? 0));
  box.dataset.bucket = answer.bucket;
  box.dataset.from = String(answer.from);
  box.dataset.to = String(answer.to);
}

/** Opens a collection's order-book view: a depth collection's ladder and quotes, or a bookTicker's quotes. */
export async function showBook(name: string, kind: BookKind): Promise<void> {
  const view = byId('book-view');
  view.hidden = false;
  byId('book-name').textContent = name;
  byId('book-title').textContent = kind === 'depth' ? 'Order book' : 'Best bid/ask';
  // The address names the view, as the candle chart's does (main.ts opens it on load).
  history.replaceState(null, '', `#${new URLSearchParams({ collection: name, view: kind }).toString()}`);
  const box = byId('book');
  box.dataset.collection = name;
  box.dataset.state = 'loading';
  loads = 0;
  box.dataset.loads = '0';
  const turn = ++reading;
  // About one point per pixel of the chart, within the API's limits.
  const points = Math.max(100, Math.min(2_000, Math.round(byId('book-chart').clientWidth || 800)));
  box.dataset.maxPoints = String(points);
  ensureChart();
  view.scrollIntoView({ block: 'nearest' });
  try {
    const path = kind === 'depth' ? 'depth' : 'book-ticker';
    const answer = await api<BookAnswer>(
      'GET',
      `/collections/${encodeURIComponent(name)}/${path}?max_points=${points}`,
    );
    if (turn !== reading) return;
    draw(answer);
    box.dataset.loads = String(++loads);
    box.dataset.state = 'ready';
    byId('book-error').hidden = true;
  } catch (error) {
    if (turn !== reading) return;
    box.dataset.state = 'error';
    byId('book-error').hidden = false;
    byId('book-error').textContent = (error as Error).message;
  }
}

export function setUpBookView(): void {
  byId('book-close').addEventListener('click', () => {
    reading++;
    history.replaceState(null, '', location.pathname + location.search);
    byId('book-view').hidden = true;
  });
}
