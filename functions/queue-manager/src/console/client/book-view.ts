/**
 * The order-book view: a depth collection's latest stored book as a ladder (bids and asks with
 * cumulative quantities) under its best bid and ask over time, or a bookTicker collection's
 * best bid, best ask and spread (GET /collections/{name}/depth or …/book-ticker, at most about
 * a pixel's worth of points, downsampled by the server). Spot bookTicker records carry no time:
 * their chart runs over the update id, and its axis says so.
 *
 * As the candle chart does, zooming in or panning to the edge of what was read asks again for
 * the visible range, with finer buckets, and a running stream's view extends as its workflow
 * reports records (bookGrew): only what follows the last record read is read (book-series.ts).
 *
 * What was drawn is also on the element, for tests: data-kind, data-axis, data-points,
 * data-records, data-bids, data-asks, data-book (the ladder's update id), data-bucket,
 * data-bucket-size, data-from, data-to, data-max-points, data-loads, data-read (open, zoom,
 * live: what the last read was for), data-read-range (JSON [from, to] it asked for, null where
 * left out), data-live (running, ended), data-state, data-collection.
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
import { type BookSeries, liveQuery, mergeLive, recordsOf, seriesOf } from './book-series.ts';
import { byId, el } from './dom.ts';
import { fmt } from './format.ts';
import type { BookAnswer, LadderLevel } from './wire.ts';

export type BookKind = 'depth' | 'book_ticker';

const BID = '#16a34a';
const ASK = '#dc2626';
const SPREAD = '#2563eb';
/** Ladder rows shown per side; the rest are counted in the summary. */
const LADDER_ROWS = 20;
/** Zoomed in until fewer than max_points / this buckets show: read finer buckets. */
const FINER_AFTER = 8;
/** How long the view rests before a zoom or pan is read (a drag fires many changes). */
const SETTLE_MS = 250;
/** A live view reads its new records at most this often, however fast they arrive. */
const LIVE_MS = 1_000;

type Book = NonNullable<BookAnswer['book']>;

interface View {
  name: string;
  kind: BookKind;
  symbol: string;
  series: BookSeries | undefined;
  book: Book | undefined;
  /** The newest x known stored (the series' own end may lie before it after a zoom). */
  newest: number;
  /** max_points of the full reads: about a pixel a point. */
  maxPoints: number;
  loads: number;
  /** The view has not been moved by the user since it opened: it keeps everything in sight. */
  fitted: boolean;
  /** The stream stored more than was read. */
  due: boolean;
  /** Its workflow ended: one last read, then no more. */
  final: boolean;
}

let chart: IChartApi | undefined;
let bid: ISeriesApi<'Line'> | undefined;
let ask: ISeriesApi<'Line'> | undefined;
let spread: ISeriesApi<'Line'> | undefined;
let view: View | undefined;
/** Bumped by every full read (open, zoom) and by closing: an older answer is dropped. */
let turn = 0;
let fullReads = 0;
let liveTimer: ReturnType<typeof setTimeout> | undefined;
let liveBusy = false;
let settle: ReturnType<typeof setTimeout> | undefined;
/** Changes of the visible range the page makes itself are not the user zooming. */
let placing = false;

const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
/** The axis of what is drawn: the chart's labels follow it. */
const axisOf = (): BookAnswer['axis'] => view?.series?.axis ?? 'time';
/** The chart's x of a point: seconds on the time axis, the update id itself on the other. */
const xOf = (x: number): UTCTimestamp => (axisOf() === 'time' ? Math.floor(x / 1000) : x) as UTCTimestamp;
/** The API's x of a chart's x. */
const apiX = (t: Time): number => (axisOf() === 'time' ? Number(t) * 1000 : Number(t));
/** Ticks on the update-id axis count from the first id drawn (whole ids would overlap); the crosshair shows the id. */
const label = (t: Time): string => (axisOf() === 'time' ? utc(Number(t) * 1000).slice(11) : `#${fmt(Number(t))}`);
const tick = (t: Time): string => (axisOf() === 'time' ? label(t) : `+${fmt(Number(t) - (view?.series?.from ?? 0))}`);

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
    // A live view keeps up to book-series' CAP points: all of them fit a chart's width.
    timeScale: { borderColor: '#e2e5ea', tickMarkFormatter: tick, minBarSpacing: 0.1 },
    rightPriceScale: { borderColor: '#e2e5ea', scaleMargins: { top: 0.08, bottom: 0.3 } },
  });
  bid = chart.addSeries(LineSeries, { color: BID, lineWidth: 2, title: 'bid' });
  ask = chart.addSeries(LineSeries, { color: ASK, lineWidth: 2, title: 'ask' });
  spread = chart.addSeries(LineSeries, { color: SPREAD, lineWidth: 1, priceScaleId: 'spread', title: 'spread' });
  chart.priceScale('spread').applyOptions({ scaleMargins: { top: 0.75, bottom: 0 } });
  chart.timeScale().subscribeVisibleTimeRangeChange(() => {
    if (placing || !view?.series) return;
    view.fitted = false;
    clearTimeout(settle);
    settle = setTimeout(() => void followView(), SETTLE_MS);
  });
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

/** Where the view goes after drawing: everything, a range of the API's x, or the newest points at the same scale. */
type Placement = 'fit' | 'newest' | { from: number; to: number } | undefined;

function draw(current: View, place: Placement): void {
  const series = current.series!;
  ensureChart();
  placing = true;
  try {
    const points = series.points;
    bid!.setData(points.map((p) => ({ time: xOf(p.x), value: p.bid })));
    ask!.setData(points.map((p) => ({ time: xOf(p.x), value: p.ask })));
    spread!.setData(points.map((p) => ({ time: xOf(p.x), value: p.spread })));
    chart!.applyOptions({ timeScale: { timeVisible: series.axis === 'time', secondsVisible: series.axis === 'time' } });
    if (place === 'fit') chart!.timeScale().fitContent();
    else if (place === 'newest') chart!.timeScale().scrollToRealTime();
    else if (place) chart!.timeScale().setVisibleRange({ from: xOf(place.from), to: xOf(place.to) });
  } finally {
    // The chart reports the change on its next frame: the flag holds until then.
    requestAnimationFrame(() => requestAnimationFrame(() => (placing = false)));
  }
  const book = current.book;
  const points = series.points;
  byId('book-ladder').hidden = current.kind !== 'depth';
  byId('book-bids').replaceChildren(...rows(book?.bids ?? []));
  byId('book-asks').replaceChildren(...rows(book?.asks ?? []));
  const last = points[points.length - 1];
  const records = recordsOf(series);
  const range =
    series.axis === 'time'
      ? `${utc(series.from)} → ${utc(series.to)} UTC`
      : `update ids ${fmt(series.from)} → ${fmt(series.to)} (spot's stream has no time)`;
  byId('book-summary').textContent = [
    `${current.symbol} · ${current.kind === 'depth' ? 'order book' : 'best bid/ask'}`,
    `${series.bucket} a point`,
    range,
    `${fmt(records)} records`,
    series.live && !current.final && byId('book').dataset.live === 'running' ? 'live' : '',
    last ? `last: bid ${last.bid} · ask ${last.ask} · spread ${Number(last.spread.toPrecision(8))}` : '',
    book
      ? `book #${book.last_update_id}: ${book.bids.length} bids, ${book.asks.length} asks (${book.levels} levels kept)`
      : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const box = byId('book');
  box.dataset.kind = current.kind;
  box.dataset.axis = series.axis;
  box.dataset.points = String(points.length);
  box.dataset.records = String(records);
  box.dataset.bids = String(Math.min(LADDER_ROWS, book?.bids.length ?? 0));
  box.dataset.asks = String(Math.min(LADDER_ROWS, book?.asks.length ?? 0));
  box.dataset.book = book ? String(book.last_update_id) : '';
  box.dataset.bucket = series.bucket;
  box.dataset.bucketSize = String(series.size);
  box.dataset.from = String(series.from);
  box.dataset.to = String(series.to);
}

function path(current: View, query: URLSearchParams): string {
  const route = current.kind === 'depth' ? 'depth' : 'book-ticker';
  return `/collections/${encodeURIComponent(current.name)}/${route}?${query.toString()}`;
}

function failed(error: unknown): void {
  byId('book').dataset.state = 'error';
  byId('book-error').hidden = false;
  byId('book-error').textContent = (error as Error).message;
}

function counted(current: View, read: 'open' | 'zoom' | 'live', range: [number | null, number | null]): void {
  const box = byId('book');
  box.dataset.loads = String(++current.loads);
  box.dataset.read = read;
  box.dataset.readRange = JSON.stringify(range);
  box.dataset.state = 'ready';
  byId('book-error').hidden = true;
}

/** Reads [from, to) again in about a pixel's worth of buckets; `to` left out: up to the newest record, and live. */
async function readRange(
  range: { from?: number; to?: number },
  read: 'open' | 'zoom',
  place: Placement,
): Promise<void> {
  const current = view;
  if (!current) return;
  const mine = ++turn;
  fullReads++;
  const box = byId('book');
  box.dataset.state = 'loading';
  box.dataset.maxPoints = String(current.maxPoints);
  const query = new URLSearchParams({ max_points: String(current.maxPoints) });
  if (range.from !== undefined) query.set('from', String(Math.floor(range.from)));
  if (range.to !== undefined) query.set('to', String(Math.ceil(range.to)));
  try {
    const answer = await api<BookAnswer>('GET', path(current, query));
    if (mine !== turn || view !== current) return;
    current.symbol = answer.symbol;
    current.series = seriesOf(answer, range.to === undefined);
    if (answer.book) current.book = answer.book;
    current.newest = Math.max(current.newest, answer.last_stored);
    draw(current, place);
    counted(current, read, [range.from ?? null, range.to ?? null]);
  } catch (error) {
    if (mine === turn && view === current) failed(error);
  } finally {
    fullReads--;
    // Records stored while it was read are read next.
    if (view === current && current.due) scheduleLive(LIVE_MS);
  }
}

/** After a zoom or pan: reads the visible range again when finer buckets or more records would show. */
async function followView(): Promise<void> {
  const series = view?.series;
  const visible = chart?.timeScale().getVisibleRange();
  if (!view || !series || !visible) return;
  const from = apiX(visible.from);
  const to = apiX(visible.to) + series.size;
  const span = to - from;
  const finest = series.axis === 'time' ? 1_000 : 1;
  const finer = series.size > finest && span / series.size < view.maxPoints / FINER_AFTER;
  // Near an edge of what was read while more is stored beyond it.
  const moreLeft = series.from > series.firstStored && from - series.from < span / 4;
  const moreRight = !series.live && series.to <= view.newest && series.to - to < span / 4;
  if (!finer && !moreLeft && !moreRight) return;
  const want = { from: Math.max(series.firstStored, from - span / 2), to: to + span / 2 };
  // Up to the newest record: read without an end, so the view goes on extending.
  const range = want.to <= view.newest ? want : { from: want.from };
  await readRange(range, 'zoom', { from, to: to - series.size });
}

function scheduleLive(delay: number): void {
  if (liveTimer !== undefined || liveBusy) return;
  liveTimer = setTimeout(() => {
    liveTimer = undefined;
    void readLive();
  }, delay);
}

/** Reads what follows the last record read, merges it, and goes on while the stream stores more. */
async function readLive(): Promise<void> {
  const current = view;
  const series = current?.series;
  if (!current || !series || !current.due) return;
  // Looking back in history: the view stays where it is.
  if (!series.live) {
    current.due = false;
    if (current.final) byId('book').dataset.live = 'ended';
    return;
  }
  // A full read in flight reads the newest records itself, and schedules this again when done.
  if (fullReads > 0) return;
  current.due = false;
  liveBusy = true;
  const mine = turn;
  const q = liveQuery(series);
  let more = false;
  try {
    const query = new URLSearchParams({ from: String(q.from), to: String(q.to), max_points: String(q.maxPoints) });
    const answer = await api<BookAnswer>('GET', path(current, query));
    if (mine === turn && view === current && current.series === series) {
      // Before the merge: whether the view shows the newest points, so it goes on showing them.
      const range = chart?.timeScale().getVisibleLogicalRange();
      const visible = chart?.timeScale().getVisibleRange();
      const atNewest = !range || range.to >= series.points.length - 1.5;
      more = mergeLive(series, answer, q.from);
      if (answer.book) current.book = answer.book;
      current.newest = Math.max(current.newest, answer.last_stored);
      const place: Placement = current.fitted
        ? 'fit'
        : atNewest
          ? 'newest'
          : visible
            ? { from: apiX(visible.from), to: apiX(visible.to) }
            : undefined;
      draw(current, place);
      counted(current, 'live', [q.from, q.to]);
    }
  } catch (error) {
    if (mine === turn && view === current) failed(error);
  } finally {
    liveBusy = false;
  }
  if (view === current && more) current.due = true;
  // Records stored meanwhile (of this view, or of one opened since) are read next.
  if (view?.due) scheduleLive(view === current && more ? 0 : LIVE_MS);
  else if (view === current && current.final) byId('book').dataset.live = 'ended';
}

/**
 * A collection got records (its ws_depth or ws_book_ticker workflow changed): when its view
 * is open and reads up to the newest record, what follows the last record read is read (at
 * most once a second), so the series and the ladder extend without reloading. `ended`: the
 * workflow is final; one last read, then the view stops extending.
 */
export function bookGrew(name: string, ended: boolean): void {
  if (view?.name !== name || view.final) return;
  view.due = true;
  view.final = ended;
  if (!ended) byId('book').dataset.live = 'running';
  if (view.series) scheduleLive(LIVE_MS);
}

/** Opens a collection's order-book view: a depth collection's ladder and quotes, or a bookTicker's quotes. */
export async function showBook(name: string, kind: BookKind): Promise<void> {
  const section = byId('book-view');
  section.hidden = false;
  byId('book-name').textContent = name;
  byId('book-title').textContent = kind === 'depth' ? 'Order book' : 'Best bid/ask';
  // The address names the view, as the candle chart's does (main.ts opens it on load).
  history.replaceState(null, '', `#${new URLSearchParams({ collection: name, view: kind }).toString()}`);
  const box = byId('book');
  box.dataset.collection = name;
  box.dataset.loads = '0';
  delete box.dataset.live;
  // About one point per pixel of the chart, within the API's limits.
  const maxPoints = Math.max(100, Math.min(2_000, Math.round(byId('book-chart').clientWidth || 800)));
  clearTimeout(liveTimer);
  liveTimer = undefined;
  view = {
    name,
    kind,
    symbol: '',
    series: undefined,
    book: undefined,
    newest: 0,
    maxPoints,
    loads: 0,
    fitted: true,
    due: false,
    final: false,
  };
  ensureChart();
  section.scrollIntoView({ block: 'nearest' });
  // Without a range: the most recent records that fit the API's limit, up to the newest.
  await readRange({}, 'open', 'fit');
}

export function setUpBookView(): void {
  byId('book-close').addEventListener('click', () => {
    turn++;
    view = undefined;
    clearTimeout(liveTimer);
    liveTimer = undefined;
    history.replaceState(null, '', location.pathname + location.search);
    byId('book-view').hidden = true;
  });
}
