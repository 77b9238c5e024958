/**
 * The workflows table, newest first. A row and its cells are built once; a redraw only
 * changes what the cells hold. Chromium sends a click to the common ancestor when the
 * pressed element leaves the document before the release, so a Stop button detached by a
 * redraw would select the row instead of stopping.
 */
import { byId, el } from './dom.ts';
import { fmt, isFinal, time } from './format.ts';
import { statusBadge } from './status-badge.ts';
import type { WorkflowView } from './wire.ts';
import { progressOf, recordsOf, rejectedOf } from './workflow-summary.ts';

export interface TableActions {
  select(id: string): void;
  stop(id: string, button: HTMLButtonElement): void;
}

interface Row {
  row: HTMLTableRowElement;
  type: HTMLTableCellElement;
  range: HTMLTableCellElement;
  status: HTMLTableCellElement;
  progress: HTMLTableCellElement;
  records: HTMLTableCellElement;
  updated: HTMLTableCellElement;
  stop: HTMLButtonElement;
}

export function createWorkflowTable(actions: TableActions): {
  draw(list: WorkflowView[], selected: string | null): void;
} {
  const rows = new Map<string, Row>();

  function buildRow(id: string): Row {
    const row = el('tr', { cls: 'workflow', 'data-queue-id': id });
    row.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.tagName !== 'BUTTON') actions.select(id);
    });
    const stop = el('button', { cls: 'stop', type: 'button', 'data-action': 'stop', text: 'Stop' });
    stop.addEventListener('click', () => actions.stop(id, stop));
    const cells: Row = {
      row,
      type: el('td'),
      range: el('td'),
      status: el('td', { cls: 'status-cell' }),
      progress: el('td', { cls: 'progress' }),
      records: el('td', { cls: 'num records' }),
      updated: el('td'),
      stop,
    };
    row.append(
      el('td', { cls: 'id' }, el('code', { text: id })),
      cells.type,
      cells.range,
      cells.status,
      cells.progress,
      cells.records,
      cells.updated,
      el('td', null, stop),
    );
    rows.set(id, cells);
    return cells;
  }

  function rowFor(w: WorkflowView, selected: string | null): HTMLTableRowElement {
    const cells = rows.get(w.queue_id) ?? buildRow(w.queue_id);
    const progress = progressOf(w);
    let bar: HTMLSpanElement | null = null;
    if (progress) {
      const fill = el('span');
      fill.style.width = `${Math.round(progress.share * 100)}%`;
      bar = el('span', null, el('span', { cls: 'bar' }, fill), progress.text);
    }
    cells.type.textContent = w.type + (w.market && w.market !== 'spot' ? ` (${w.market})` : '');
    cells.range.textContent = (w.time_range || '').replace(':', ' → ');
    cells.status.replaceChildren(statusBadge(w.status), w.error ? el('span', { cls: 'reason', text: w.error }) : '');
    cells.progress.replaceChildren(bar || '');
    const rejected = rejectedOf(w);
    cells.records.replaceChildren(
      fmt(recordsOf(w)),
      rejected ? el('span', { cls: 'rejected', text: ` (${fmt(rejected)} rejected)` }) : '',
    );
    cells.updated.textContent = time(w.updated_at);
    cells.stop.hidden = isFinal(w.status);
    cells.row.classList.toggle('selected', w.queue_id === selected);
    return cells.row;
  }

  function draw(workflows: WorkflowView[], selected: string | null): void {
    const list = workflows.slice().sort((a, b) => b.created_at - a.created_at || (a.queue_id < b.queue_id ? 1 : -1));
    const body = byId('workflow-rows');
    // A new row is inserted in its place; rows already in place never move.
    list
      .map((w) => rowFor(w, selected))
      .forEach((r, i) => {
        if (body.children[i] !== r) body.insertBefore(r, body.children[i] || null);
      });
    while (body.children.length > list.length) body.lastElementChild?.remove();
    byId('no-workflows').hidden = list.length > 0;
    byId('workflow-count').textContent = list.length ? `(${list.length})` : '';
  }

  return { draw };
}
