/**
 * The selected workflow's side panel: status, error, dead letters, deadline and each
 * service's report, and for a klines workflow a button to chart its collection.
 */
import { bookKindOfType } from './book-view.ts';
import { type ChartSource, sourceOfType } from './chart-source.ts';
import { byId, el } from './dom.ts';
import { fmt, isFinal, progressText, time } from './format.ts';
import { statusBadge } from './status-badge.ts';
import type { WorkflowView } from './wire.ts';

const DAY_RANGE = /^(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})$/;

/** The collection a klines workflow fills and the range it asked for (when a plain date range), or undefined. */
export function chartOf(
  w: WorkflowView,
): { name: string; source: ChartSource; range?: { from: number; to: number } } | undefined {
  const source = sourceOfType(w.type);
  if (!source || !w.collection_name) return undefined;
  const days = DAY_RANGE.exec(w.time_range || '');
  const from = days ? Date.parse(`${days[1]}T00:00:00Z`) : Number.NaN;
  const to = days ? Date.parse(`${days[2]}T00:00:00Z`) : Number.NaN;
  return { name: w.collection_name, source, ...(from < to ? { range: { from, to } } : {}) };
}

/** The collection of a funding rate or metrics workflow: charted as lines (series-view.ts). */
export function seriesOf(w: WorkflowView): string | undefined {
  return /^((api|bulk)_funding_rate|bulk_metrics)$/.test(w.type) ? w.collection_name || undefined : undefined;
}

export function drawDetail(w: WorkflowView): void {
  const chart = chartOf(w);
  const series = seriesOf(w);
  byId('detail-chart').hidden = !chart && !series;
  byId('detail-chart').textContent = series
    ? `Chart its ${w.type === 'bulk_metrics' ? 'metrics' : 'funding rate'}`
    : chart?.source === 'trades'
      ? 'Chart its trades'
      : 'Chart its candles';
  // A correlation graph set is named after the workflow's collection (its graph id).
  byId('detail-graph').hidden = !(w.type === 'graph_correlation' && w.collection_name);
  // A depth or bookTicker stream's collection opens as the order-book view.
  const book = w.collection_name ? bookKindOfType(w.type) : undefined;
  byId('detail-book').hidden = !book;
  byId('detail-book').textContent = book === 'book_ticker' ? 'Chart its best bid/ask' : 'Show its order book';
  // A gnn_train workflow's model is found by the workflow that trained it.
  byId('detail-training').hidden = w.type !== 'gnn_train';
  byId('detail-chart').dataset.collection = chart?.name ?? series ?? '';
  byId('detail-id').textContent = w.queue_id;
  byId('detail-status').replaceChildren(statusBadge(w.status));
  byId('detail-summary').textContent = [w.symbol, w.type, w.market, w.time_range].filter(Boolean).join(' · ');
  byId('detail-error').hidden = !w.error;
  byId('detail-error').textContent = w.error || '';
  const letters = Object.entries(w.dead_letters || {}).map(
    ([service, d]) => `${service} ${d.total}${d.replayed ? ` (${d.replayed} replayed)` : ''}`,
  );
  byId('detail-dead-letters').hidden = letters.length === 0;
  byId('detail-dead-letters').textContent = letters.length
    ? `Dead letters: ${letters.join(', ')} · streamforge dlq ls --workflow ${w.queue_id}`
    : '';
  byId('detail-deadline').hidden = isFinal(w.status) || w.deadline_at == null;
  byId('detail-deadline').textContent =
    w.deadline_at != null ? `Ends in error at ${time(w.deadline_at)} unless it moves first` : '';
  // The services it waits for first, then any other that reported.
  const services = (w.services || []).slice();
  for (const s of Object.keys(w.progress || {})) if (!services.includes(s)) services.push(s);
  byId('detail-services').replaceChildren(
    ...services.map((s) => {
      const p = w.progress?.[s] || {};
      return el(
        'tr',
        null,
        el('td', { text: s }),
        el('td', null, p.status ? statusBadge(p.status) : el('span', { cls: 'muted', text: 'waiting' })),
        el('td', { text: p.progress ? progressText(p.progress) : '' }),
        el('td', { cls: 'num', text: fmt(p.records_written) }),
        el('td', { cls: 'num', text: p.rejected ? fmt(p.rejected) : '' }),
        el('td', { text: p.message || '' }),
      );
    }),
  );
}
