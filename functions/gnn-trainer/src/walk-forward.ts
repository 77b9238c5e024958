/**
 * Walk-forward evaluation of the next-window direction task: the
 * labelled windows in time order, the later part cut into `folds` consecutive test blocks;
 * each block is predicted by models trained only on windows whose labels were known when
 * the block's first window ended (a purge: a label reads bars after its window, so the
 * windows just before a block are left out until their labels exist). Each fold trains the
 * GCN and, on the same windows, two baselines:
 *   - no-graph: the same network without edges (an MLP on each vertex's own features);
 *   - majority: the training windows' most frequent class.
 * Accuracies are pooled over every test vertex of every fold.
 */
import { trainGcn, type EpochStats, type TrainOptions } from '@streamforge/gnn';
import type { GraphWindow } from '@streamforge/core/store';
import { standardizationOf, unionOf, unionTask } from './graph-task.ts';

/** One epoch of a training curve, as the model's metadata keeps it (the console draws it). */
export interface CurvePoint {
  epoch: number;
  loss: number;
  train_accuracy: number;
  /** Absent without a validation split (the final model learns from every labelled window). */
  val_loss?: number;
  val_accuracy?: number;
}

/** A curve keeps at most this many epochs (every k-th past it, and always the last). */
export const CURVE_POINTS = 500;

/** Every k-th epoch so at most CURVE_POINTS remain, the last one always. */
function thinned(points: CurvePoint[]): CurvePoint[] {
  if (points.length <= CURVE_POINTS) return points;
  const every = Math.ceil(points.length / CURVE_POINTS);
  return points.filter((_, i) => i % every === 0 || i === points.length - 1);
}

/**
 * Trains a GCN, keeping its last epoch's stats (loss and accuracies), which the progress
 * reports carry, and the curve of every epoch's, which the model's metadata keeps.
 */
export function trainKeepingLast(
  task: Parameters<typeof trainGcn>[0],
  options: TrainOptions,
): { result: ReturnType<typeof trainGcn>; last: EpochStats | undefined; curve: CurvePoint[] } {
  let last: EpochStats | undefined;
  const curve: CurvePoint[] = [];
  const result = trainGcn(task, {
    ...options,
    onEpoch: (stats) => {
      last = stats;
      curve.push({
        epoch: stats.epoch,
        loss: stats.loss,
        train_accuracy: stats.trainAccuracy,
        ...(Number.isFinite(stats.valLoss) ? { val_loss: stats.valLoss, val_accuracy: stats.valAccuracy } : {}),
      });
    },
  });
  return { result, last, curve: thinned(curve) };
}

export interface Score {
  correct: number;
  total: number;
  accuracy: number;
}

export interface FoldResult {
  fold: number;
  /** Window indices trained on (first, last, count) and tested on. */
  train_windows: { first: number; last: number; count: number };
  test_windows: { first: number; last: number; count: number };
  gcn: Score;
  no_graph: Score;
  majority: Score;
}

export interface WalkForwardResult {
  folds: FoldResult[];
  gcn: Score;
  no_graph: Score;
  majority: Score;
  /** Share of test vertices that went up: the accuracy of always saying "up". */
  up_rate: number;
}

export interface WalkForwardOptions {
  folds: number;
  /** Labelled windows before the first test block (default: half of them). */
  minTrainWindows?: number;
  train: TrainOptions;
  numFeatures: number;
  /** After every training run (fold × model), e.g. to report progress. */
  onRun?: (run: {
    fold: number;
    model: 'gcn' | 'no_graph';
    epochs: number;
    last: EpochStats | undefined;
  }) => Promise<void>;
}

const score = (correct: number, total: number): Score => ({
  correct,
  total,
  accuracy: total === 0 ? Number.NaN : correct / total,
});
const add = (a: Score, b: Score): Score => score(a.correct + b.correct, a.total + b.total);

/** When a window's labels are all known (ms). */
/** When the last label of a window became known (its horizon's end). */
export function labelsKnownAt(w: GraphWindow): number {
  return Math.max(...w.vertices.filter((v) => v.label !== null).map((v) => v.label!.known_at));
}

export function labelledWindows(windows: readonly GraphWindow[]): GraphWindow[] {
  return windows.filter((w) => w.vertices.some((v) => v.label !== null)).sort((a, b) => a.window - b.window);
}

/** The test blocks: `folds` consecutive runs of windows after the first `initial`, as equal as can be. */
export function testBlocks(count: number, initial: number, folds: number): Array<[number, number]> {
  const rest = count - initial;
  const f = Math.max(0, Math.min(folds, rest));
  const blocks: Array<[number, number]> = [];
  let start = initial;
  for (let i = 0; i < f; i++) {
    const size = Math.floor(rest / f) + (i < rest % f ? 1 : 0);
    blocks.push([start, start + size]);
    start += size;
  }
  return blocks;
}

export async function walkForward(
  windows: readonly GraphWindow[],
  options: WalkForwardOptions,
): Promise<WalkForwardResult> {
  const labelled = labelledWindows(windows);
  const initial = Math.max(
    1,
    Math.min(labelled.length - 1, options.minTrainWindows ?? Math.floor(labelled.length / 2)),
  );
  const folds: FoldResult[] = [];
  let up = 0;
  let tested = 0;
  for (const [from, to] of testBlocks(labelled.length, initial, options.folds)) {
    const test = labelled.slice(from, to);
    const cutoff = test[0]!.end;
    const train = labelled.slice(0, from).filter((w) => labelsKnownAt(w) <= cutoff);
    if (train.length === 0) continue;
    const union = unionOf([...train, ...test]);
    const trainNodes: number[] = [];
    const testNodes: number[] = [];
    const testWindows = new Set(test.map((w) => w.window));
    union.nodes.forEach((n, i) => {
      if (n.label !== -1) (testWindows.has(n.window) ? testNodes : trainNodes).push(i);
    });
    if (trainNodes.length === 0 || testNodes.length === 0) continue;
    const standardization = standardizationOf(
      trainNodes.map((i) => union.nodes[i]!.features),
      options.numFeatures,
    );
    const fold = folds.length;
    const run = async (model: 'gcn' | 'no_graph'): Promise<Score> => {
      const task = unionTask(union, {
        name: `fold ${fold}`,
        numFeatures: options.numFeatures,
        standardization,
        train: trainNodes,
        test: testNodes,
        noGraph: model === 'no_graph',
      });
      const { result, last } = trainKeepingLast(task, options.train);
      await options.onRun?.({ fold, model, epochs: result.epochs, last });
      return score(Math.round(result.evaluation.test.accuracy * testNodes.length), testNodes.length);
    };
    const gcn = await run('gcn');
    const noGraph = await run('no_graph');
    const trainUp = trainNodes.filter((i) => union.nodes[i]!.label === 1).length;
    const majorityClass = trainUp * 2 > trainNodes.length ? 1 : 0;
    const testUp = testNodes.filter((i) => union.nodes[i]!.label === 1).length;
    up += testUp;
    tested += testNodes.length;
    const span = (ws: GraphWindow[]) => ({ first: ws[0]!.window, last: ws.at(-1)!.window, count: ws.length });
    folds.push({
      fold,
      train_windows: span(train),
      test_windows: span(test),
      gcn,
      no_graph: noGraph,
      majority: score(majorityClass === 1 ? testUp : testNodes.length - testUp, testNodes.length),
    });
  }
  const zero = score(0, 0);
  return {
    folds,
    gcn: folds.reduce((s, f) => add(s, f.gcn), zero),
    no_graph: folds.reduce((s, f) => add(s, f.no_graph), zero),
    majority: folds.reduce((s, f) => add(s, f.majority), zero),
    up_rate: tested === 0 ? Number.NaN : up / tested,
  };
}
