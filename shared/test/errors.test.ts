import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamForgeError, isRetryableStatus, toStreamForgeError } from '../src/errors.ts';

test('a contract error answers 400 and goes to the dead-letter sink', () => {
  const error = new StreamForgeError('SF_CONTRACT_INVALID', 'symbol: must match pattern', { details: { field: 'symbol' } });
  assert.equal(error.status, 400);
  assert.equal(error.disposition, 'dead-letter');
  assert.equal(isRetryableStatus(error.status), false);
  assert.deepEqual(error.toJSON(), { error: 'SF_CONTRACT_INVALID', message: 'symbol: must match pattern', details: { field: 'symbol' } });
});

test('anything thrown becomes a retryable internal error that keeps its cause', () => {
  const cause = new Error('socket hang up');
  const error = toStreamForgeError(cause);
  assert.equal(error.code, 'SF_INTERNAL');
  assert.equal(error.cause, cause);
  assert.ok(isRetryableStatus(error.status));
  assert.ok(StreamForgeError.is(error));
  assert.equal(StreamForgeError.is(cause), false);
});

test('the KafkaSource retries exactly 5xx, 404, 408, 409 and 429', () => {
  const retried = [404, 408, 409, 429, 500, 502, 503].filter(isRetryableStatus);
  assert.deepEqual(retried, [404, 408, 409, 429, 500, 502, 503]);
  assert.deepEqual([200, 204, 400, 401, 413, 422].filter(isRetryableStatus), []);
});
