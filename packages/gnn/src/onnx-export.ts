/**
 * Exports a trained two-layer GCN as an ONNX model in edge-list form:
 * one model for any number of nodes and edges, so it serves both the graph builder's
 * symbol graphs (N ≈ 10–500) and CiteSeer (N = 3327, where a dense Â would be a 44 MB feed).
 *
 * Inputs:  X [N, F] float32 (features prepared as `config.featureNormalization` says),
 *          src, dst int64 [E], ew float32 [E]: the entries of Â, self-loops included
 *          (`toEdgeList`), so that (Â·Y)[dst] += ew · Y[src].
 * Outputs: logits [N, C] and probabilities [N, C] (softmax over classes).
 * Each layer is MatMul(·, W) first, then propagation — Â·(X·W), the cheap association
 * order (onnxruntime runs the graph as written, it does not re-associate) — done as
 * Gather(src) → Mul(ew) → ScatterND(dst, reduction = add) onto zeros. ScatterND's reduction
 * needs opset ≥ 16: we use IR 8 and opset 18, well inside onnxruntime-node 1.30 (IR ≤ 13,
 * opset ≤ 26).
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { GcnModel } from './gcn.ts';

const { onnx } = onnxProto;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 18;
export const ONNX_INPUTS = { features: 'X', src: 'src', dst: 'dst', weights: 'ew' } as const;
export const ONNX_OUTPUTS = { logits: 'logits', probabilities: 'probabilities' } as const;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/**
 * An initializer with little-endian raw bytes. The bytes are copied out of the array's own
 * range: a typed-array view's `.buffer` can hold foreign bytes.
 */
function tensor(name: string, dims: number[], data: Float32Array | BigInt64Array): OnnxTypes.ITensorProto {
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return { name, dataType: data instanceof Float32Array ? FLOAT : INT64, dims, rawData: bytes };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: OnnxTypes.IAttributeProto[] = [],
): OnnxTypes.INodeProto {
  return { opType, input, output, name: output[0], attribute };
}

const intAttr = (name: string, i: number): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i,
});
const stringAttr = (name: string, s: string): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.STRING,
  s: new TextEncoder().encode(s),
});

/** Â·Y for Y = `input` [N, K]: out[dst] += ew · Y[src] (the shared `ew_col`, `dst_col` are [E, 1]). */
function propagate(input: string, output: string): OnnxTypes.INodeProto[] {
  return [
    node('Gather', [input, ONNX_INPUTS.src], [`${output}_gathered`], [intAttr('axis', 0)]),
    node('Mul', [`${output}_gathered`, 'ew_col'], [`${output}_messages`]),
    node('Shape', [input], [`${output}_shape`]),
    node('ConstantOfShape', [`${output}_shape`], [`${output}_zeros`]), // float32 zeros by default
    node('ScatterND', [`${output}_zeros`, 'dst_col', `${output}_messages`], [output], [stringAttr('reduction', 'add')]),
  ];
}

/** The model's ONNX bytes (an exact-length Uint8Array, safe to write to disk or S3 as is). */
export function exportGcnToOnnx(model: GcnModel): Uint8Array {
  const { inputDim: F, hiddenDim: H, numClasses: C, bias } = model.config;
  const nodes: OnnxTypes.INodeProto[] = [
    node('Unsqueeze', [ONNX_INPUTS.weights, 'axis1'], ['ew_col']),
    node('Unsqueeze', [ONNX_INPUTS.dst, 'axis1'], ['dst_col']),
    node('MatMul', [ONNX_INPUTS.features, 'W1'], ['xw1']),
    ...propagate('xw1', bias ? 'z1_nobias' : 'z1'),
    ...(bias ? [node('Add', ['z1_nobias', 'b1'], ['z1'])] : []),
    node('Relu', ['z1'], ['hidden']),
    node('MatMul', ['hidden', 'W2'], ['hw2']),
    ...propagate('hw2', bias ? 'z2_nobias' : ONNX_OUTPUTS.logits),
    ...(bias ? [node('Add', ['z2_nobias', 'b2'], [ONNX_OUTPUTS.logits])] : []),
    node('Softmax', [ONNX_OUTPUTS.logits], [ONNX_OUTPUTS.probabilities], [intAttr('axis', -1)]),
  ];
  const initializer = [
    tensor('W1', [F, H], model.w1),
    tensor('W2', [H, C], model.w2),
    tensor('axis1', [1], BigInt64Array.of(1n)),
    ...(model.b1 !== null ? [tensor('b1', [H], model.b1)] : []),
    ...(model.b2 !== null ? [tensor('b2', [C], model.b2)] : []),
  ];
  const proto = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'streamforge-gnn',
    producerVersion: '1',
    docString: 'Two-layer GCN (Kipf & Welling 2017), edge-list form: feed Â as src/dst/ew with self-loops.',
    metadataProps: [
      { key: 'streamforge.config', value: JSON.stringify(model.config) },
      ...(model.training !== null ? [{ key: 'streamforge.training', value: JSON.stringify(model.training) }] : []),
    ],
    graph: {
      name: 'gcn2',
      node: nodes,
      initializer,
      input: [
        valueInfo(ONNX_INPUTS.features, FLOAT, ['N', F]),
        valueInfo(ONNX_INPUTS.src, INT64, ['E']),
        valueInfo(ONNX_INPUTS.dst, INT64, ['E']),
        valueInfo(ONNX_INPUTS.weights, FLOAT, ['E']),
      ],
      output: [valueInfo(ONNX_OUTPUTS.logits, FLOAT, ['N', C]), valueInfo(ONNX_OUTPUTS.probabilities, FLOAT, ['N', C])],
    },
  });
  // finish() returns a view into a pooled buffer, and on Node it is a Buffer, whose
  // slice() is another view: copying into a fresh Uint8Array gives bytes of their own.
  return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}
