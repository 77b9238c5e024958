/**
 * GCN benchmark: prints one JSON document.
 *
 *   node bench/gnn.ts [--runs N]
 *
 * - CiteSeer training, 200 epochs with the paper's settings, each epoch including the
 *   validation pass: per-epoch median and p90, and the 200-epoch total, for the
 *   StreamForge trainer (`trainGcn`) and for a deliberately plain implementation measured
 *   in the same run (`plainGcnTrain` below), so the ratio compares like with like.
 * - Inference on the same graph: onnxruntime-node (`session.run`, feeds prepared once)
 *   next to the TypeScript forward pass, p50/p99 over 50 runs, on CiteSeer and on a
 *   crypto-sized planted-partition graph (N = 200).
 */
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  createOnnxSession,
  createRng,
  exportGcnToOnnx,
  GcnWorkspace,
  loadDataset,
  nnz,
  onnxFeeds,
  plantedPartition,
  predictLogits,
  runOnnx,
  softmaxCrossEntropy,
  taskFromDataset,
  trainGcn,
  type GcnModel,
  type GcnTask,
} from '@streamforge/gnn';
import { FOUR_COMMUNITIES } from '../packages/gnn/test/fixtures.ts';
import { quantile } from './quantile.ts';

const SETTINGS = { epochs: 200, hidden: 16, learningRate: 0.01, weightDecay: 5e-4, dropout: 0.5 };
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg === -1 ? 3 : Number(process.argv[runsArg + 1]);

const ms = (x: number): number => Number(x.toFixed(3));
const summary = (values: number[]) => ({ median: ms(quantile(values, 0.5)), p90: ms(quantile(values, 0.9)) });

/**
 * The baseline: the GCN written the plain way, straight from Z = Â·X·W read left to
 * right — Â·dropout(X) first (a sparse product through a dense accumulator row), then
 * times W1 — in float64 typed arrays over the whole graph, allocating every intermediate
 * each epoch, and evaluating by a second full forward pass. Same CSR inputs, model, loss,
 * Adam and settings as the trainer, so only the implementation differs. With
 * `order: 'A(XW)'` the same plain code multiplies in the good order, which separates the
 * gain of the association order from the rest (receptive field, buffer reuse, float32).
 */
function plainGcnTrain(
  task: GcnTask,
  seed: number,
  order: '(AX)W' | 'A(XW)',
): { epochMs: number[]; totalSeconds: number; testAccuracy: number } {
  const n = task.adjacency.rows;
  const F = task.features.cols;
  const H = SETTINGS.hidden;
  const C = task.numClasses;
  const { rowPtr: aPtr, colIdx: aCol, values: aVal } = task.adjacency;
  const { rowPtr: xPtr, colIdx: xCol, values: xVal } = task.features;
  const rng = createRng(seed);
  const glorot = (r: number, c: number) =>
    Float64Array.from({ length: r * c }, () => (rng.next() * 2 - 1) * Math.sqrt(6 / (r + c)));
  const w1 = glorot(F, H);
  const w2 = glorot(H, C);
  const moments = [w1, w2].map((w) => ({ m: new Float64Array(w.length), v: new Float64Array(w.length) }));
  let t = 0;

  const forward = (dropout: number) => {
    const keep = 1 - dropout;
    const xd = new Float64Array(xVal.length);
    for (let q = 0; q < xd.length; q++) xd[q] = dropout === 0 || rng.next() < keep ? xVal[q] / keep : 0;
    const z1 = new Float64Array(n * H);
    if (order === 'A(XW)') {
      const xw = new Float64Array(n * H);
      for (let i = 0; i < n; i++) {
        for (let q = xPtr[i]; q < xPtr[i + 1]; q++)
          for (let h = 0; h < H; h++) xw[i * H + h] += xd[q] * w1[xCol[q] * H + h];
      }
      for (let i = 0; i < n; i++) {
        for (let p = aPtr[i]; p < aPtr[i + 1]; p++)
          for (let h = 0; h < H; h++) z1[i * H + h] += aVal[p] * xw[aCol[p] * H + h];
      }
      return finish(xd, null, z1, dropout);
    }
    // Â·X as CSR, one dense accumulator row at a time.
    const acc = new Float64Array(F);
    const axPtr = new Int32Array(n + 1);
    const axCol: number[] = [];
    const axVal: number[] = [];
    for (let i = 0; i < n; i++) {
      const touched: number[] = [];
      for (let p = aPtr[i]; p < aPtr[i + 1]; p++) {
        const j = aCol[p];
        for (let q = xPtr[j]; q < xPtr[j + 1]; q++) {
          if (xd[q] === 0) continue;
          if (acc[xCol[q]] === 0) touched.push(xCol[q]);
          acc[xCol[q]] += aVal[p] * xd[q];
        }
      }
      for (const f of touched) {
        axCol.push(f);
        axVal.push(acc[f]);
        acc[f] = 0;
      }
      axPtr[i + 1] = axCol.length;
    }
    const ax = { ptr: axPtr, col: Int32Array.from(axCol), val: Float64Array.from(axVal) };
    for (let i = 0; i < n; i++) {
      for (let p = ax.ptr[i]; p < ax.ptr[i + 1]; p++)
        for (let h = 0; h < H; h++) z1[i * H + h] += ax.val[p] * w1[ax.col[p] * H + h];
    }
    return finish(xd, ax, z1, dropout);
  };

  const finish = (
    xd: Float64Array,
    ax: { ptr: Int32Array; col: Int32Array; val: Float64Array } | null,
    z1: Float64Array,
    dropout: number,
  ) => {
    const keep = 1 - dropout;
    const hidden = new Float64Array(n * H);
    for (let q = 0; q < hidden.length; q++)
      hidden[q] = z1[q] > 0 && (dropout === 0 || rng.next() < keep) ? z1[q] / keep : 0;
    const hw = new Float64Array(n * C);
    for (let i = 0; i < n; i++)
      for (let h = 0; h < H; h++) for (let c = 0; c < C; c++) hw[i * C + c] += hidden[i * H + h] * w2[h * C + c];
    const logits = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      for (let p = aPtr[i]; p < aPtr[i + 1]; p++)
        for (let c = 0; c < C; c++) logits[i * C + c] += aVal[p] * hw[aCol[p] * C + c];
    }
    return { xd, ax, hidden, logits };
  };

  const epochMs: number[] = [];
  const started = performance.now();
  for (let epoch = 0; epoch < SETTINGS.epochs; epoch++) {
    const t0 = performance.now();
    const { xd, ax, hidden, logits } = forward(SETTINGS.dropout);
    const dLogits = new Float32Array(n * C);
    softmaxCrossEntropy(logits, task.labels, task.split.train, C, dLogits);
    const dHw = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      for (let p = aPtr[i]; p < aPtr[i + 1]; p++)
        for (let c = 0; c < C; c++) dHw[aCol[p] * C + c] += aVal[p] * dLogits[i * C + c];
    }
    const g2 = new Float64Array(H * C);
    const dHidden = new Float64Array(n * H);
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < H; h++) {
        for (let c = 0; c < C; c++) {
          g2[h * C + c] += hidden[i * H + h] * dHw[i * C + c];
          dHidden[i * H + h] += dHw[i * C + c] * w2[h * C + c];
        }
        dHidden[i * H + h] = hidden[i * H + h] > 0 ? dHidden[i * H + h] / (1 - SETTINGS.dropout) : 0;
      }
    }
    const g1 = new Float64Array(w1.length);
    for (let q = 0; q < g1.length; q++) g1[q] = SETTINGS.weightDecay * w1[q];
    if (ax !== null) {
      // Z1 = (Â·X)·W1, so dW1 = (Â·X)^T · dZ1.
      for (let i = 0; i < n; i++) {
        for (let p = ax.ptr[i]; p < ax.ptr[i + 1]; p++)
          for (let h = 0; h < H; h++) g1[ax.col[p] * H + h] += ax.val[p] * dHidden[i * H + h];
      }
    } else {
      // Z1 = Â·(X·W1), so dW1 = X^T · (Â^T · dZ1).
      const dXw = new Float64Array(n * H);
      for (let i = 0; i < n; i++) {
        for (let p = aPtr[i]; p < aPtr[i + 1]; p++)
          for (let h = 0; h < H; h++) dXw[aCol[p] * H + h] += aVal[p] * dHidden[i * H + h];
      }
      for (let i = 0; i < n; i++) {
        for (let q = xPtr[i]; q < xPtr[i + 1]; q++)
          for (let h = 0; h < H; h++) g1[xCol[q] * H + h] += xd[q] * dXw[i * H + h];
      }
    }
    t++;
    const lr = (SETTINGS.learningRate * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
    [w1, w2].forEach((w, k) => {
      const g = k === 0 ? g1 : g2;
      const { m, v } = moments[k];
      for (let q = 0; q < w.length; q++) {
        m[q] = 0.9 * m[q] + 0.1 * g[q];
        v[q] = 0.999 * v[q] + 0.001 * g[q] * g[q];
        w[q] -= (lr * m[q]) / (Math.sqrt(v[q]) + 1e-8);
      }
    });
    softmaxCrossEntropy(forward(0).logits, task.labels, task.split.val, C);
    epochMs.push(performance.now() - t0);
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const testAccuracy = softmaxCrossEntropy(forward(0).logits, task.labels, task.split.test, C).accuracy;
  return { epochMs, totalSeconds, testAccuracy };
}

function trainerRun(
  task: GcnTask,
  seed: number,
): { epochMs: number[]; totalSeconds: number; testAccuracy: number; model: GcnModel } {
  const epochMs: number[] = [];
  let last = 0;
  const result = trainGcn(task, {
    ...SETTINGS,
    seed,
    onEpoch: ({ seconds }) => {
      epochMs.push((seconds - last) * 1000);
      last = seconds;
    },
  });
  return { epochMs, totalSeconds: result.seconds, testAccuracy: result.evaluation.test.accuracy, model: result.model };
}

async function inference(task: GcnTask, model: GcnModel, runs = 50) {
  const createStarted = performance.now();
  const session = await createOnnxSession(exportGcnToOnnx(model));
  const createMs = performance.now() - createStarted;
  const feedStarted = performance.now();
  const feeds = onnxFeeds(task.adjacency, task.features);
  const feedMs = performance.now() - feedStarted;
  const ws = new GcnWorkspace(model.config, task.adjacency.rows, nnz(task.features));
  const onnxMs: number[] = [];
  const tsMs: number[] = [];
  let onnxLogits: Float32Array = new Float32Array(0);
  let tsLogits: Float32Array = new Float32Array(0);
  for (let r = -5; r < runs; r++) {
    let t0 = performance.now();
    onnxLogits = await runOnnx(session, feeds, 'logits');
    if (r >= 0) onnxMs.push(performance.now() - t0);
    t0 = performance.now();
    tsLogits = predictLogits(model, task.adjacency, task.features, ws);
    if (r >= 0) tsMs.push(performance.now() - t0);
  }
  await session.release();
  let maxDiff = 0;
  for (let i = 0; i < tsLogits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tsLogits[i] - onnxLogits[i]));
  return {
    nodes: task.adjacency.rows,
    edges_with_self_loops: nnz(task.adjacency),
    features: task.features.cols,
    runs,
    onnx_session_create_ms: ms(createMs),
    onnx_feed_preparation_ms: ms(feedMs),
    onnx_run_ms: { p50: ms(quantile(onnxMs, 0.5)), p99: ms(quantile(onnxMs, 0.99)) },
    ts_forward_ms: { p50: ms(quantile(tsMs, 0.5)), p99: ms(quantile(tsMs, 0.99)) },
    max_abs_diff_logits: maxDiff,
  };
}

const citeseerPath = fileURLToPath(new URL('../test/fixtures/gnn/citeseer-planetoid.json', import.meta.url));
const loadStarted = performance.now();
const citeseer = taskFromDataset(await loadDataset(citeseerPath));
const loadMs = performance.now() - loadStarted;

const trainer = Array.from({ length: RUNS }, (_, k) => trainerRun(citeseer, k + 1));
const baseline = plainGcnTrain(citeseer, 1, '(AX)W');
const plainGoodOrder = plainGcnTrain(citeseer, 1, 'A(XW)');
const trainerTotals = trainer.map((r) => r.totalSeconds);
const trainerEpochs = trainer.flatMap((r) => r.epochMs);
const crypto = plantedPartition({ ...FOUR_COMMUNITIES, seed: 1 });
const cryptoModel = trainGcn(crypto, { seed: 1 }).model;

const report = {
  bench: 'gnn',
  node: process.version,
  cores: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  dataset: {
    name: 'citeseer',
    nodes: citeseer.adjacency.rows,
    features: citeseer.features.cols,
    feature_nonzeros: nnz(citeseer.features),
    load_ms: ms(loadMs),
  },
  settings: SETTINGS,
  training: {
    trainer: {
      runs: RUNS,
      epoch_ms: summary(trainerEpochs),
      total_seconds_200_epochs: { median: ms(quantile(trainerTotals, 0.5)), runs: trainerTotals.map(ms) },
      test_accuracy: trainer.map((r) => r.testAccuracy),
    },
    baseline: {
      what: 'plain GCN: (Â·X)·W order, float64, allocation per epoch, whole-graph passes',
      runs: 1,
      epoch_ms: summary(baseline.epochMs),
      total_seconds_200_epochs: ms(baseline.totalSeconds),
      test_accuracy: baseline.testAccuracy,
    },
    speedup_total: Number((baseline.totalSeconds / quantile(trainerTotals, 0.5)).toFixed(2)),
    speedup_epoch_median: Number((quantile(baseline.epochMs, 0.5) / quantile(trainerEpochs, 0.5)).toFixed(2)),
    plain_good_order: {
      what: 'the same plain code with Â·(X·W) order',
      epoch_ms: summary(plainGoodOrder.epochMs),
      total_seconds_200_epochs: ms(plainGoodOrder.totalSeconds),
      test_accuracy: plainGoodOrder.testAccuracy,
      speedup_total: Number((plainGoodOrder.totalSeconds / quantile(trainerTotals, 0.5)).toFixed(2)),
    },
  },
  inference: {
    citeseer: await inference(citeseer, trainer[0].model),
    planted_partition_200: await inference(crypto, cryptoModel),
  },
};
console.log(JSON.stringify(report, null, 2));
