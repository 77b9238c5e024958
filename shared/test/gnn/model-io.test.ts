import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamForgeError } from '../../src/errors.ts';
import { createGcn } from '../../src/gnn/gcn.ts';
import { deserializeModel, serializeModel } from '../../src/gnn/model-io.ts';
import { createRng } from '../../src/gnn/random.ts';
import { predictLogits, trainGcn } from '../../src/gnn/train.ts';
import { randomTask } from './fixtures.ts';

test('a stored model reloads bit-for-bit with its config and training record, and predicts the same', () => {
  const task = randomTask({ nodes: 25, features: 6, classes: 3, edges: 40, seed: 5 });
  for (const bias of [false, true]) {
    const { model } = trainGcn(task, { seed: 2, epochs: 20, bias });
    const bytes = serializeModel(model);
    assert.equal(bytes.length % 4, 0);
    const loaded = deserializeModel(bytes);
    assert.deepEqual(loaded, model);
    assert.deepEqual(predictLogits(loaded, task.adjacency, task.features), predictLogits(model, task.adjacency, task.features));
  }
});

test('a stored model is compact: about four bytes per weight plus a small header', () => {
  const model = createGcn({ inputDim: 3703, hiddenDim: 16, numClasses: 6, dropout: 0.5, bias: false, featureNormalization: 'row' }, createRng(1));
  const bytes = serializeModel(model);
  assert.ok(bytes.length < 4 * (3703 * 16 + 16 * 6) + 512, `${bytes.length} bytes`);
});

test('bytes that are not a sound model are refused with the reason', () => {
  const model = createGcn({ inputDim: 4, hiddenDim: 3, numClasses: 2, dropout: 0.5, bias: true, featureNormalization: 'none' }, createRng(1));
  const bytes = serializeModel(model);
  const refuses = (b: Uint8Array, message: RegExp) =>
    assert.throws(() => deserializeModel(b), (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_CONTRACT_INVALID' && message.test(e.message));
  refuses(new TextEncoder().encode('{"not":"a model"}'), /model: not a StreamForge GCN model/);
  refuses(bytes.slice(0, bytes.length - 4), /model: tensor b2 runs past the end/);
  const newer = bytes.slice();
  newer[4] = 9;
  refuses(newer, /model: format version 9 is not supported/);
  const padded = new Uint8Array(bytes.length + 4);
  padded.set(bytes);
  refuses(padded, /model: 4 unexpected trailing bytes/);
  const header = JSON.stringify({ config: model.config, training: null, tensors: [{ name: 'w1', length: 5 }] });
  const forged = new Uint8Array(12 + header.length);
  forged.set(bytes.subarray(0, 8));
  new DataView(forged.buffer).setUint32(8, header.length, true);
  forged.set(new TextEncoder().encode(header), 12);
  refuses(forged, /model: tensor w1 has 5 values, expected 12/);
});
