/** A status as a coloured pill (the CSS colours it by its status-<name> class). */
import { el } from './dom.ts';

export function statusBadge(status: string): HTMLSpanElement {
  return el('span', { cls: `status status-${status}`, text: status });
}
