/**
 * The selected workflow's telemetry timeline. Read once when selected, then extended when a
 * change of that workflow arrives: never polled. A read asked for while one runs is done
 * right after it, so a change is never missed; events already shown are skipped by id.
 */
import { api } from './api-client.ts';
import { byId, el } from './dom.ts';
import { fmt, progressText } from './format.ts';
import { showResult } from './form-result.ts';
import { statusBadge } from './status-badge.ts';
import type { TimelineEvent, TimelinePage } from './wire.ts';

interface TimelineState {
  id: string | null;
  events: TimelineEvent[];
  seen: Set<string>;
  /** The cursor of the last read: events after it come next. */
  next: string | null;
  loading: boolean;
  again: boolean;
}

const empty = (id: string | null): TimelineState => ({
  id,
  events: [],
  seen: new Set(),
  next: null,
  loading: false,
  again: false,
});
let timeline = empty(null);

/** When it happened (ms): the event's own time when it has one, else when it was received. */
function eventTime(e: TimelineEvent): number {
  const ev = e.event || {};
  const s = ev.timestamp || ev.sent_at;
  return s ? s * 1000 : e.received_at;
}

/** Starts the timeline of another workflow (empty until refreshTimeline has read it). */
export function openTimeline(id: string): void {
  timeline = empty(id);
  byId('timeline').replaceChildren();
}

export async function refreshTimeline(): Promise<void> {
  const t = timeline;
  if (!t.id) return;
  if (t.loading) {
    t.again = true;
    return;
  }
  t.loading = true;
  try {
    do {
      t.again = false;
      // The cursor names the last event read (time and id): nothing in its millisecond is skipped.
      const query = `?limit=5000${t.next ? `&after=${encodeURIComponent(t.next)}` : ''}`;
      const body = await api<TimelinePage>('GET', `/workflows/${encodeURIComponent(t.id)}/events${query}`);
      // Another workflow was selected meanwhile: this answer is for a timeline no longer shown.
      if (timeline !== t) return;
      t.next = body.next ?? null;
      const fresh = body.events.filter((e) => !t.seen.has(e.event_id));
      for (const e of fresh) {
        t.seen.add(e.event_id);
        t.events.push(e);
      }
      drawTimeline(t, fresh);
    } while (t.again);
  } catch (error) {
    showResult(`timeline: ${(error as Error).message}`, true);
  } finally {
    t.loading = false;
  }
}

function drawTimeline(t: TimelineState, fresh: TimelineEvent[]): void {
  const list = byId('timeline');
  const first = t.events[0] ? eventTime(t.events[0]) : 0;
  for (const e of fresh) {
    const ev = e.event || {};
    const parts: string[] = [];
    if (ev.message) parts.push(ev.message);
    if (ev.records_written != null && String(ev.message || '').indexOf(String(ev.records_written)) < 0)
      parts.push(`${fmt(ev.records_written)} records`);
    if (ev.progress) parts.push(progressText(ev.progress));
    if (ev.error?.message && !parts.includes(ev.error.message)) parts.push(ev.error.message);
    list.append(
      el(
        'li',
        { 'data-status': ev.status },
        el('span', { cls: 't', text: `+${((eventTime(e) - first) / 1000).toFixed(2)} s` }),
        el('span', { cls: 'producer', text: ev.producer || '', title: ev.producer || '' }),
        el('span', null, statusBadge(ev.status || '?')),
        el('span', { text: parts.join(' · ') }),
      ),
    );
  }
}
