import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrFromDense, csrFromIndexRows, identityCsr, nnz, rowNormalize, toDense } from '../src/sparse.ts';
import { StreamForgeError } from '@streamforge/core/errors';

test('binary index rows become a CSR matrix of ones', () => {
  const m = csrFromIndexRows([[0, 2], [], [1]], 3);
  assert.deepEqual(Array.from(m.rowPtr), [0, 2, 2, 3]);
  assert.deepEqual(Array.from(m.colIdx), [0, 2, 1]);
  assert.deepEqual(Array.from(toDense(m)), [1, 0, 1, 0, 0, 0, 0, 1, 0]);
  assert.equal(nnz(m), 3);
});

test('row normalisation divides by the row sum and leaves empty rows at zero, as tkipf/gcn', () => {
  const m = rowNormalize(csrFromIndexRows([[0, 1, 2, 3], [], [1]], 4));
  assert.deepEqual(Array.from(toDense(m)), [0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0, 0, 1, 0, 0]);
});

test('dense real-valued features keep their nonzeros, from flat or nested arrays', () => {
  const flat = csrFromDense([0.5, 0, -1.25, 0, 0, 2], 2, 3);
  const nested = csrFromDense(
    [
      [0.5, 0, -1.25],
      [0, 0, 2],
    ],
    2,
    3,
  );
  assert.deepEqual(Array.from(toDense(flat)), [0.5, 0, -1.25, 0, 0, 2]);
  assert.deepEqual(nested, flat);
  assert.equal(nnz(flat), 3);
});

test('dense features of the wrong size or with NaN are refused with the field named', () => {
  assert.throws(
    () => csrFromDense([1, 2, 3], 2, 2),
    (e: unknown) => StreamForgeError.is(e) && /features: expected 2 × 2 = 4 values, got 3/.test(e.message),
  );
  assert.throws(() => csrFromDense([[1, 2], [3]], 2, 2), /features\[1\]: expected 2 values, got 1/);
  assert.throws(() => csrFromDense([1, Number.NaN, 3, 4], 2, 2), /features\[0\]\[1\]: must be a finite number/);
});

test('the identity is the featureless input X = I', () => {
  assert.deepEqual(Array.from(toDense(identityCsr(3))), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});
