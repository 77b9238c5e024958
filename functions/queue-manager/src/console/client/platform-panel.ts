/** The local platform's panel (streamforge up only): instances per function, lag per KafkaSource, recent scaling decisions. */
import { byId, el } from './dom.ts';
import { fmt, time } from './format.ts';
import type { PlatformMessage } from './wire.ts';

/** A decision's time: seconds or ms since the epoch, or an ISO string. */
function decisionTime(at: string | number): string {
  return typeof at === 'number' ? time(at < 1e12 ? at * 1000 : at) : time(Date.parse(at));
}

/** Hidden when there is no platform (in a cluster) or it does not answer. */
export function showPlatform(p: PlatformMessage | null | undefined): void {
  const section = byId('platform');
  if (!p?.available || !p.status) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const s = p.status;
  byId('platform-functions').replaceChildren(
    ...(s.functions || []).map((f) => {
      let inFlight = 0;
      const cells = (f.instances || []).map((i) => {
        inFlight += i.in_flight || 0;
        return el('span', {
          cls: `instance instance-${i.state}`,
          title: (i.url || '') + (i.pid ? ` pid ${i.pid}` : ''),
          text: i.state,
        });
      });
      const instances = el('td', { cls: 'instances' });
      instances.append(...(cells.length ? cells : [el('span', { cls: 'muted', text: 'none' })]));
      return el(
        'tr',
        { 'data-function': f.name },
        el('td', { text: f.name }),
        el('td', { text: `${f.min_scale != null ? f.min_scale : '?'}–${f.max_scale != null ? f.max_scale : '?'}` }),
        instances,
        el('td', { cls: 'num', text: String(inFlight) }),
      );
    }),
  );
  byId('platform-sources').replaceChildren(
    ...(s.sources || []).map((src) =>
      el(
        'tr',
        { 'data-source': src.name },
        el('td', { text: src.name, title: (src.topics || []).join(', ') }),
        el('td', { cls: 'num', text: fmt(src.lag) }),
        el('td', { cls: 'num', text: fmt(src.lag_threshold) }),
        el('td', { cls: 'num', text: fmt(src.desired) }),
      ),
    ),
  );
  byId('platform-decisions').replaceChildren(
    ...(s.decisions || [])
      .slice(-12)
      .reverse()
      .map((d) =>
        el('li', {
          text: `${decisionTime(d.at)} ${d.function}: ${d.from} → ${d.to} (${d.reason})`,
        }),
      ),
  );
}
