/** One line's worth of a workflow: its records, its rejects and how far it is, from what its services report. */
import { isFinal } from './format.ts';
import type { WorkflowView } from './wire.ts';

/** What the store counted when the record says; otherwise the most any service reports. */
export function recordsOf(w: WorkflowView): number | null {
  if (w.stored && w.stored.records_written != null) return w.stored.records_written;
  let best: number | null = null;
  for (const service of Object.values(w.progress || {})) {
    const r = service.records_written;
    if (r != null && (best == null || r > best)) best = r;
  }
  return best;
}

export function rejectedOf(w: WorkflowView): number {
  if (w.stored?.rejected) return w.stored.rejected;
  let most = 0;
  for (const service of Object.values(w.progress || {})) most = Math.max(most, service.rejected || 0);
  return most;
}

/** The service furthest behind sets the bar; a final workflow without counts shows full (completed) or empty. */
export function progressOf(w: WorkflowView): { share: number; text: string } | null {
  let found: { share: number; text: string } | null = null;
  for (const service of Object.values(w.progress || {})) {
    const p = service.progress;
    if (p?.total) {
      const share = p.done / p.total;
      if (!found || share < found.share) found = { share, text: `${p.done}/${p.total} ${p.unit}` };
    }
  }
  if (!found && isFinal(w.status)) found = { share: w.status === 'completed' ? 1 : 0, text: '' };
  return found;
}
