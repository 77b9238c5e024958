/**
 * The training view of a gnn_train workflow: the model version it trained (GET /models?workflow=)
 * and that version's curves by epoch (GET /models/{id}?version=), drawn as plain SVG lines: loss
 * (training solid, validation dashed) and accuracy the same way, one colour per network trained
 * (the final GCN; on a dataset, the GCN and the same network without edges).
 *
 * What was drawn is also on the element, for tests: data-model, data-version, data-points
 * (epochs of the first curve), data-curves (their names), data-state.
 */
import { api } from './api-client.ts';
import { byId, el } from './dom.ts';
import type { CurvePoint, ModelAnswer, ModelsAnswer } from './wire.ts';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 560;
const HEIGHT = 170;
const PAD = { left: 44, right: 10, top: 10, bottom: 22 };
const COLOURS = ['#2457d6', '#e07b12', '#16a34a', '#8e44ad'];

let reading = 0;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** One panel: `pick`'s training and validation values of every curve against the epoch. */
function panel(
  title: string,
  curves: Array<[string, CurvePoint[]]>,
  pick: (p: CurvePoint) => [number, number | undefined],
): SVGSVGElement {
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'curve', role: 'img', 'aria-label': title });
  const all = curves.flatMap(([, points]) => points.flatMap(pick)).filter((v): v is number => Number.isFinite(v));
  const epochs = curves.flatMap(([, points]) => points.map((p) => p.epoch));
  const [low, high] = [Math.min(...all), Math.max(...all)];
  const [first, last] = [Math.min(...epochs), Math.max(...epochs)];
  const x = (epoch: number) =>
    PAD.left + ((epoch - first) / Math.max(1, last - first)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) =>
    HEIGHT - PAD.bottom - ((value - low) / (high - low || 1)) * (HEIGHT - PAD.top - PAD.bottom);
  root.append(
    svg('line', {
      x1: PAD.left,
      y1: HEIGHT - PAD.bottom,
      x2: WIDTH - PAD.right,
      y2: HEIGHT - PAD.bottom,
      stroke: '#c7ccd6',
    }),
    svg('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: HEIGHT - PAD.bottom, stroke: '#c7ccd6' }),
  );
  for (const [value, at] of [
    [high, y(high)],
    [low, y(low)],
  ] as const) {
    const label = svg('text', { x: PAD.left - 4, y: at + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7385' });
    label.textContent = value.toFixed(3);
    root.append(label);
  }
  for (const [epoch, anchor] of [
    [first, 'start'],
    [last, 'end'],
  ] as const) {
    const label = svg('text', { x: x(epoch), y: HEIGHT - 6, 'text-anchor': anchor, 'font-size': 10, fill: '#6b7385' });
    label.textContent = `epoch ${epoch}`;
    root.append(label);
  }
  curves.forEach(([name, points], i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    for (const [which, dash] of [
      [0, ''],
      [1, '4 3'],
    ] as const) {
      const line = points
        .flatMap((p) => {
          const value = pick(p)[which];
          return value !== undefined && Number.isFinite(value)
            ? [`${x(p.epoch).toFixed(1)},${y(value).toFixed(1)}`]
            : [];
        })
        .join(' ');
      // A model trained on every labelled window (the final one) has no validation to draw.
      if (line === '') continue;
      root.append(
        svg('polyline', {
          points: line,
          fill: 'none',
          stroke: colour,
          'stroke-width': 1.6,
          'stroke-dasharray': dash,
          'data-curve': `${name}:${which === 0 ? 'train' : 'val'}`,
        }),
      );
    }
  });
  const heading = svg('text', {
    x: WIDTH - PAD.right,
    y: PAD.top + 4,
    'text-anchor': 'end',
    'font-size': 11,
    fill: '#1d2330',
  });
  heading.textContent = title;
  root.append(heading);
  return root;
}

function draw(model: ModelAnswer): void {
  const curves = Object.entries(model.metadata.curves ?? {}).filter(([, points]) => points.length > 0);
  const box = byId('training');
  box.dataset.model = model.model_id;
  box.dataset.version = String(model.version);
  box.dataset.points = String(curves[0]?.[1].length ?? 0);
  box.dataset.curves = curves.map(([name]) => name).join(',');
  if (curves.length === 0) {
    box.replaceChildren(el('p', { cls: 'muted', text: 'This model version keeps no training curves.' }));
    return;
  }
  const validated = curves.some(([, points]) => points.some((p) => p.val_loss !== undefined));
  box.replaceChildren(
    panel('loss', curves, (p) => [p.loss, p.val_loss]),
    panel('accuracy', curves, (p) => [p.train_accuracy, p.val_accuracy]),
    el(
      'p',
      { cls: 'muted hint' },
      curves.map(([name], i) => `${name}: ${['blue', 'orange', 'green', 'purple'][i % 4]}`).join(' · '),
      validated ? ' · training solid, validation dashed' : ' · training (no validation split)',
    ),
  );
}

/** Opens the training view of a gnn_train workflow: the version it trained, its curves. */
export async function showTraining(queueId: string): Promise<void> {
  const turn = ++reading;
  byId('training-view').hidden = false;
  const box = byId('training');
  box.dataset.state = 'loading';
  byId('training-view').scrollIntoView({ block: 'nearest' });
  try {
    const { models } = await api<ModelsAnswer>('GET', `/models?workflow=${encodeURIComponent(queueId)}`);
    const mine = models.find((m) => m.status === 'ready') ?? models[0];
    if (!mine) throw new Error(`no model recorded for ${queueId} yet`);
    const model = await api<ModelAnswer>('GET', `/models/${encodeURIComponent(mine.model_id)}?version=${mine.version}`);
    if (turn !== reading) return;
    byId('training-name').textContent = `${model.model_id} v${model.version}`;
    draw(model);
    box.dataset.state = 'ready';
  } catch (error) {
    if (turn !== reading) return;
    box.dataset.state = 'error';
    box.replaceChildren(el('p', { cls: 'error', text: (error as Error).message }));
  }
}

export function setUpTrainingView(): void {
  byId('training-close').addEventListener('click', () => {
    reading++;
    byId('training-view').hidden = true;
  });
}
