/**
 * The operator console's browser code (bundled into ../app.js by scripts/build-console.ts).
 * No framework: the server pushes every workflow change over one stream; the page keeps the
 * newest version of each workflow and redraws at most once per frame. Nothing polls.
 */
import { api } from './api-client.ts';
import { bookGrew, bookKindOfType, setUpBookView, showBook } from './book-view.ts';
import { collectionGrew, setUpCollectionView, showCollection } from './candle-chart.ts';
import { setUpCollectionsPanel } from './collections-panel.ts';
import { setUpGraphView, showGraph } from './graph-view.ts';
import { setUpSeriesView, showSeries } from './series-view.ts';
import { setUpTrainingView, showTraining } from './training-curves.ts';
import { byId } from './dom.ts';
import { showResult } from './form-result.ts';
import { isFinal } from './format.ts';
import { createLiveStream } from './live-stream.ts';
import { showPlatform } from './platform-panel.ts';
import { setUpStartForm } from './start-form.ts';
import { openTimeline, refreshTimeline } from './timeline.ts';
import { setUpTokenDialog } from './token-dialog.ts';
import type { PlatformMessage, Snapshot, WorkflowView } from './wire.ts';
import { chartOf, drawDetail, seriesOf } from './workflow-detail.ts';
import { createWorkflowTable } from './workflow-table.ts';

const workflows = new Map<string, WorkflowView>();
/** Live streams whose collection a chart shows: candles, and trades as price candles. */
const LIVE_CANDLES = /^ws_(candles_.+|agg_trades|trades)$/;
let selected: string | null = null;
let drawQueued = false;

const table = createWorkflowTable({ select, stop: stopWorkflow });

function draw(): void {
  table.draw([...workflows.values()], selected);
  const shown = selected ? workflows.get(selected) : undefined;
  if (shown) drawDetail(shown);
}

function queueDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

/** Keeps the newest version: a change may arrive twice, or after a newer one (snapshot and stream overlap). */
function apply(w: WorkflowView): void {
  const known = workflows.get(w.queue_id);
  if (known && known.version > w.version) return;
  workflows.set(w.queue_id, w);
  if (w.queue_id === selected) void refreshTimeline();
  // A live candle stream stored more: its chart, if open, extends.
  if (LIVE_CANDLES.test(w.type) && w.collection_name && known && known.version < w.version)
    collectionGrew(w.collection_name);
  // A live order-book stream stored more (or ended): its view, if open, extends (or stops).
  if (bookKindOfType(w.type) && w.collection_name && known && known.version < w.version)
    bookGrew(w.collection_name, isFinal(w.status));
  queueDraw();
}

function select(id: string): void {
  selected = id;
  openTimeline(id);
  byId('detail').hidden = false;
  void refreshTimeline();
  draw();
}

async function stopWorkflow(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    apply(await api<WorkflowView>('POST', `/workflows/${encodeURIComponent(id)}/stop`));
    showResult(`stop requested for ${id}`, false);
  } catch (error) {
    showResult(`could not stop ${id}: ${(error as Error).message}`, true);
    button.disabled = false;
  }
}

function onMessage(event: string, payload: unknown): void {
  if (event === 'snapshot') {
    const snapshot = payload as Snapshot;
    snapshot.workflows.forEach(apply);
    showPlatform(snapshot.platform);
  } else if (event === 'workflow') {
    apply(payload as WorkflowView);
  } else if (event === 'platform') {
    showPlatform(payload as PlatformMessage);
  } else if (event === 'failure') {
    showResult((payload as { message: string }).message, true);
  }
}

/** `#collection=NAME[&from=MS&to=MS]` or `#collection=NAME&view=depth|book_ticker|series`: a link straight to a collection's view. */
function openLinkedCollection(): void {
  const link = new URLSearchParams(location.hash.slice(1));
  const name = link.get('collection');
  if (!name) return;
  const view = link.get('view');
  if (view === 'depth' || view === 'book_ticker') {
    void showBook(name, view);
    return;
  }
  if (view === 'series') {
    showSeries(name);
    return;
  }
  const from = Number(link.get('from'));
  const to = Number(link.get('to'));
  showCollection(name, link.has('from') && link.has('to') && from < to ? { from, to } : undefined);
}

/** The selected workflow's collection as a chart (klines, trades, funding rate and metrics workflows). */
function chartSelected(): void {
  const shown = selected ? workflows.get(selected) : undefined;
  const chart = shown ? chartOf(shown) : undefined;
  const series = shown ? seriesOf(shown) : undefined;
  if (series) showSeries(series);
  else if (chart) showCollection(chart.name, chart.range, chart.source);
}

const stream = createLiveStream(onMessage);
setUpCollectionView();
setUpCollectionsPanel();
byId('detail-chart').addEventListener('click', chartSelected);
setUpGraphView();
setUpTrainingView();
setUpBookView();
setUpSeriesView();
byId('detail-book').addEventListener('click', () => {
  const shown = selected ? workflows.get(selected) : undefined;
  const kind = shown ? bookKindOfType(shown.type) : undefined;
  if (shown?.collection_name && kind) void showBook(shown.collection_name, kind);
});
byId('detail-training').addEventListener('click', () => {
  if (selected) void showTraining(selected);
});
byId('detail-graph').addEventListener('click', () => {
  const shown = selected ? workflows.get(selected) : undefined;
  if (shown?.collection_name) showGraph(shown.collection_name);
});
openLinkedCollection();
setUpTokenDialog(() => stream.connect());
setUpStartForm((created) => {
  apply(created);
  select(created.queue_id);
});
stream.connect();
