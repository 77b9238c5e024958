import assert from 'node:assert/strict';
import { StreamForgeError } from '@streamforge/core/errors';

/** The StreamForgeError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<StreamForgeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(StreamForgeError.is(error), `a StreamForgeError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}
