import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { createGcn } from '../src/gcn.ts';
import { exportGcnToOnnx, ONNX_IR_VERSION, ONNX_OPSET } from '../src/onnx-export.ts';
import { createRng } from '../src/random.ts';

const { onnx } = onnxProto;

function bytesOf(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

test('the exported bytes decode back to the edge-list GCN graph with IR 8 and opset 18', () => {
  const model = createGcn(
    { inputDim: 7, hiddenDim: 4, numClasses: 3, dropout: 0.5, bias: false, featureNormalization: 'row' },
    createRng(1),
  );
  const bytes = exportGcnToOnnx(model);
  const decoded = onnx.ModelProto.decode(bytes);
  assert.equal(Number(decoded.irVersion), ONNX_IR_VERSION);
  assert.deepEqual(
    decoded.opsetImport!.map((o) => [o.domain, Number(o.version)]),
    [['', ONNX_OPSET]],
  );
  const graph = decoded.graph!;
  assert.deepEqual(
    graph.input!.map((i) => i.name),
    ['X', 'src', 'dst', 'ew'],
  );
  assert.deepEqual(
    graph.output!.map((o) => o.name),
    ['logits', 'probabilities'],
  );
  const ops = graph.node!.map((n) => n.opType);
  // Â·(X·W1) then Â·(H·W2): each MatMul comes before its propagation.
  assert.deepEqual(
    ops.filter((op) => ['MatMul', 'ScatterND', 'Relu', 'Softmax'].includes(op ?? '')),
    ['MatMul', 'ScatterND', 'Relu', 'MatMul', 'ScatterND', 'Softmax'],
  );
  const scatter = graph.node!.find((n) => n.opType === 'ScatterND')!;
  assert.equal(new TextDecoder().decode(scatter.attribute![0].s!), 'add');
  const w1 = graph.initializer!.find((t) => t.name === 'W1')!;
  assert.deepEqual(w1.dims!.map(Number), [7, 4]);
  assert.deepEqual(new Uint8Array(w1.rawData!), bytesOf(model.w1));
  const config = JSON.parse(decoded.metadataProps!.find((p) => p.key === 'streamforge.config')!.value!);
  assert.deepEqual(config, model.config);
});

test('the exported bytes own their buffer, so writing `.buffer` would not leak pool bytes', () => {
  const model = createGcn(
    { inputDim: 2, hiddenDim: 2, numClasses: 2, dropout: 0, bias: true, featureNormalization: 'none' },
    createRng(2),
  );
  const bytes = exportGcnToOnnx(model);
  assert.equal(bytes.byteOffset, 0);
  assert.equal(bytes.buffer.byteLength, bytes.length);
  const decoded = onnx.ModelProto.decode(bytes);
  assert.deepEqual(decoded.graph!.initializer!.map((t) => t.name).sort(), ['W1', 'W2', 'axis1', 'b1', 'b2']);
  assert.equal(decoded.graph!.node!.filter((n) => n.opType === 'Add').length, 2);
});
