/**
 * The operator console's browser code (bundled into ../app.js by scripts/build-console.ts).
 * No framework: the server pushes every workflow change over one stream; the page keeps the
 * newest version of each workflow and redraws at most once per frame. Nothing polls.
 */
import { api } from './api-client.ts';
import { byId } from './dom.ts';
import { showResult } from './form-result.ts';
import { createLiveStream } from './live-stream.ts';
import { showPlatform } from './platform-panel.ts';
import { setUpStartForm } from './start-form.ts';
import { openTimeline, refreshTimeline } from './timeline.ts';
import { setUpTokenDialog } from './token-dialog.ts';
import type { PlatformMessage, Snapshot, WorkflowView } from './wire.ts';
import { drawDetail } from './workflow-detail.ts';
import { createWorkflowTable } from './workflow-table.ts';

const workflows = new Map<string, WorkflowView>();
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

const stream = createLiveStream(onMessage);
setUpTokenDialog(() => stream.connect());
setUpStartForm((created) => {
  apply(created);
  select(created.queue_id);
});
stream.connect();
