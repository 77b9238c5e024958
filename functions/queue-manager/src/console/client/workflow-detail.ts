/** The selected workflow's side panel: status, error, dead letters, deadline and each service's report. */
import { byId, el } from './dom.ts';
import { fmt, isFinal, progressText, time } from './format.ts';
import { statusBadge } from './status-badge.ts';
import type { WorkflowView } from './wire.ts';

export function drawDetail(w: WorkflowView): void {
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
