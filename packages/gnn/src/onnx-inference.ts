/**
 * Inference with onnxruntime-node on a model from `exportGcnToOnnx`. onnxruntime-node
 * 1.30 has no training API: training stays in TypeScript, ONNX serves
 * predictions. One intra-op thread keeps a function instance from competing with its
 * neighbours for the node's cores.
 */
import * as ort from 'onnxruntime-node';
import { toEdgeList } from './graph.ts';
import { ONNX_INPUTS, ONNX_OUTPUTS } from './onnx-export.ts';
import { toDense, type SparseMatrix } from './sparse.ts';

export type OnnxSession = ort.InferenceSession;

export const ONNX_SESSION_OPTIONS: Readonly<ort.InferenceSession.SessionOptions> = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

export async function createOnnxSession(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<OnnxSession> {
  return ort.InferenceSession.create(bytes, { ...ONNX_SESSION_OPTIONS, ...options });
}

export type OnnxOutput = keyof typeof ONNX_OUTPUTS;

/** The feeds of one graph: X dense [N, F], Â as an int64 edge list with weights. */
export function onnxFeeds(adjacency: SparseMatrix, features: SparseMatrix | Float32Array): Record<string, ort.Tensor> {
  const n = adjacency.rows;
  const dense = features instanceof Float32Array ? features : toDense(features);
  const numFeatures = dense.length / n;
  const { src, dst, weights } = toEdgeList(adjacency);
  const toInt64 = (xs: Int32Array): BigInt64Array => {
    const out = new BigInt64Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = BigInt(xs[i]);
    return out;
  };
  return {
    [ONNX_INPUTS.features]: new ort.Tensor('float32', dense, [n, numFeatures]),
    [ONNX_INPUTS.src]: new ort.Tensor('int64', toInt64(src), [src.length]),
    [ONNX_INPUTS.dst]: new ort.Tensor('int64', toInt64(dst), [dst.length]),
    [ONNX_INPUTS.weights]: new ort.Tensor('float32', weights, [weights.length]),
  };
}

/** Runs prepared feeds; returns the chosen output, N × C row-major. */
export async function runOnnx(
  session: OnnxSession,
  feeds: Record<string, ort.Tensor>,
  output: OnnxOutput = 'probabilities',
): Promise<Float32Array> {
  const name = ONNX_OUTPUTS[output];
  const result = await session.run(feeds, [name]);
  return result[name].data as Float32Array;
}

/**
 * Class probabilities (or logits) of every node of the graph `adjacency` (Â, e.g.
 * `task.adjacency`), with `features` prepared as the model was trained (`task.features`).
 */
export async function predictWithOnnx(
  session: OnnxSession,
  adjacency: SparseMatrix,
  features: SparseMatrix | Float32Array,
  output: OnnxOutput = 'probabilities',
): Promise<Float32Array> {
  return runOnnx(session, onnxFeeds(adjacency, features), output);
}
