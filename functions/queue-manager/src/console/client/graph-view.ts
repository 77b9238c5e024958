/**
 * The graph view: one window of a correlation graph set (GET /graphs/{id}?window=) drawn with
 * cytoscape (bundled): symbols as vertices coloured by their label (up, down, not known yet),
 * edges as wide as their weight |ρ|, blue for a positive correlation and orange for a negative
 * one. A slider walks the windows, one read each.
 *
 * What was drawn is also on the graph element, for tests: data-nodes, data-edges,
 * data-window, data-windows, data-state.
 */
import type { Core } from 'cytoscape';
import { api } from './api-client.ts';
import { byId } from './dom.ts';
import type { GraphAnswer } from './wire.ts';

let cy: Core | undefined;
let shown: string | undefined;
let reading = 0;

const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/**
 * cytoscape is most of the script: imported when a graph is first shown, so a page that opens
 * on a chart does not evaluate it first (esbuild keeps it in the one script, behind a lazy
 * initialiser, so nothing more is fetched).
 */
async function ensureGraph(): Promise<Core> {
  if (cy) return cy;
  const { default: cytoscape } = await import('cytoscape');
  cy ??= cytoscape({
    container: byId('graph'),
    userZoomingEnabled: true,
    boxSelectionEnabled: false,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(id)',
          'font-size': 11,
          'text-valign': 'center',
          color: '#1d2330',
          'background-color': 'data(color)',
          width: 46,
          height: 46,
        },
      },
      {
        selector: 'edge',
        style: { width: 'data(width)', 'line-color': 'data(color)', opacity: 0.75, 'curve-style': 'straight' },
      },
    ],
  });
  return cy;
}

function draw(graph: Core, answer: GraphAnswer): void {
  const window = answer.window;
  const nodes = (window?.vertices ?? []).map((v) => ({
    data: {
      id: v.symbol,
      color: v.label === null ? '#c7ccd6' : v.label.class === 1 ? '#86d5a3' : '#f2a29a',
    },
  }));
  const edges = (window?.edges ?? []).map((e) => {
    const rho = typeof e.attributes?.correlation === 'number' ? e.attributes.correlation : e.weight;
    return {
      data: {
        id: `${e.from}~${e.to}`,
        source: e.from,
        target: e.to,
        width: 1 + 7 * Math.min(1, Math.abs(e.weight)),
        color: rho >= 0 ? '#2457d6' : '#e07b12',
      },
    };
  });
  graph.elements().remove();
  graph.add([...nodes, ...edges]);
  graph.layout({ name: 'circle', animate: false }).run();
  graph.fit(undefined, 24);
  const box = byId('graph');
  box.dataset.nodes = String(nodes.length);
  box.dataset.edges = String(edges.length);
  box.dataset.window = String(window?.window ?? '');
  box.dataset.windows = String(answer.set.windows);
  const slider = byId<HTMLInputElement>('graph-window');
  slider.max = String(Math.max(0, answer.set.windows - 1));
  if (window) slider.value = String(window.window);
  byId('graph-summary').textContent = window
    ? `window ${window.window + 1} of ${answer.set.windows}: ${utc(window.start)} → ${utc(window.end)} UTC · ${nodes.length} symbols, ${edges.length} edges · ${answer.set.status}`
    : `${answer.set.windows} windows, this one holds no symbol`;
}

async function read(id: string, window?: number): Promise<void> {
  const turn = ++reading;
  const box = byId('graph');
  box.dataset.state = 'loading';
  try {
    const query = window === undefined ? '' : `?window=${window}`;
    const [graph, answer] = await Promise.all([
      ensureGraph(),
      api<GraphAnswer>('GET', `/graphs/${encodeURIComponent(id)}${query}`),
    ]);
    if (turn !== reading) return;
    draw(graph, answer);
    box.dataset.state = 'ready';
    byId('graph-error').hidden = true;
  } catch (error) {
    if (turn !== reading) return;
    box.dataset.state = 'error';
    byId('graph-error').hidden = false;
    byId('graph-error').textContent = (error as Error).message;
  }
}

/** Opens a graph set at its latest window. */
export function showGraph(id: string): void {
  shown = id;
  byId('graph-view').hidden = false;
  byId('graph-name').textContent = id;
  byId('graph').dataset.graph = id;
  void ensureGraph().then((graph) => graph.resize());
  byId('graph-view').scrollIntoView({ block: 'nearest' });
  void read(id);
}

export function setUpGraphView(): void {
  byId<HTMLInputElement>('graph-window').addEventListener('change', (event) => {
    if (shown) void read(shown, Number((event.target as HTMLInputElement).value));
  });
  byId('graph-close').addEventListener('click', () => {
    shown = undefined;
    reading++;
    byId('graph-view').hidden = true;
  });
}
