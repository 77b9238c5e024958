/** The form that starts a workflow (POST /workflows), with yesterday as its default range. */
import { api } from './api-client.ts';
import { byId } from './dom.ts';
import { showResult } from './form-result.ts';
import type { WorkflowView } from './wire.ts';

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function field(form: HTMLFormElement, name: string): Field {
  return form.elements.namedItem(name) as Field;
}

const DAY_MS = 86400000;

/** `onStarted` shows the new workflow (the stream may bring it later than the answer). */
export function setUpStartForm(onStarted: (created: WorkflowView) => void): void {
  const form = byId<HTMLFormElement>('start-form');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const request: { symbol: string; type: string; market: string; time_range?: string; params?: unknown } = {
      symbol: field(form, 'symbol').value.trim().toUpperCase(),
      type: field(form, 'type').value.trim(),
      market: field(form, 'market').value,
    };
    const from = field(form, 'from').value;
    const to = field(form, 'to').value;
    if (from || to) request.time_range = `${from}:${to}`;
    const params = field(form, 'params').value;
    if (params.trim()) {
      try {
        request.params = JSON.parse(params);
      } catch (error) {
        showResult(`params: not valid JSON (${(error as Error).message})`, true);
        return;
      }
    }
    const button = byId<HTMLButtonElement>('start-button');
    button.disabled = true;
    try {
      const created = await api<WorkflowView>('POST', '/workflows', request);
      onStarted(created);
      showResult(`started ${created.queue_id}`, false);
      byId('form-result').dataset.queueId = created.queue_id;
    } catch (error) {
      showResult(`not started: ${(error as Error).message}`, true);
    } finally {
      button.disabled = false;
    }
  });
  // Yesterday (UTC): a range that has data and is quick to load.
  const today = new Date();
  const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - DAY_MS);
  field(form, 'from').value = start.toISOString().slice(0, 10);
  field(form, 'to').value = new Date(start.getTime() + DAY_MS).toISOString().slice(0, 10);
}
