import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_CODES,
  ERROR_HEADERS,
  StreamForgeError,
  dispositionOf,
  dispositionOfResponse,
  dispositionOfStatus,
  eventStatus,
  isRetryableStatus,
  toStreamForgeError,
  type ErrorCode,
} from '../src/errors.ts';

test('a contract error answers 400 and goes to the dead-letter sink', () => {
  const error = new StreamForgeError('SF_CONTRACT_INVALID', 'symbol: must match pattern', {
    details: { field: 'symbol' },
  });
  assert.equal(error.status, 400);
  assert.equal(error.disposition, 'dead-letter');
  assert.equal(isRetryableStatus(error.status), false);
  assert.deepEqual(error.toJSON(), {
    error: 'SF_CONTRACT_INVALID',
    message: 'symbol: must match pattern',
    details: { field: 'symbol' },
  });
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

test("every code's event status says what its disposition says, to a dispatcher that sees only the status", () => {
  for (const [code, info] of Object.entries(ERROR_CODES) as Array<[ErrorCode, (typeof ERROR_CODES)[ErrorCode]]>) {
    const retried = info.disposition === 'retry';
    // The table itself: a retry code answers 5xx or 429, a dead-letter code a 4xx Knative does not retry.
    if (info.disposition !== 'reject')
      assert.equal(
        isRetryableStatus(info.status),
        retried,
        `${code}: status ${info.status} against ${info.disposition}`,
      );
    if (retried) assert.ok(info.status >= 500 || info.status === 429, `${code}: a retry code answers 5xx or 429`);
    assert.equal(
      isRetryableStatus(eventStatus(code)),
      retried,
      `${code}: event status ${eventStatus(code)} against ${info.disposition}`,
    );
    assert.equal(
      dispositionOfResponse(eventStatus(code), {}) === 'retry',
      retried,
      `${code}: a sink without the header is judged the same`,
    );
  }
});

test('a reject code keeps its REST status, but a failed event gets one Knative does not retry', () => {
  assert.equal(new StreamForgeError('SF_NOT_FOUND', 'no workflow x').status, 404);
  assert.equal(eventStatus('SF_NOT_FOUND'), 422);
  assert.equal(eventStatus('SF_CONFLICT'), 422);
  assert.equal(eventStatus('SF_UNAUTHORIZED'), 401);
  assert.equal(eventStatus('SF_BUSY'), 503);
});

test('what is done with a failure: the disposition named in its headers, else the status as Knative judges it', () => {
  assert.equal(dispositionOfResponse(503, { [ERROR_HEADERS.disposition]: 'retry' }), 'retry');
  assert.equal(dispositionOfResponse(422, { [ERROR_HEADERS.disposition]: 'reject' }), 'reject');
  assert.equal(dispositionOfResponse(409, {}), 'retry', 'not a StreamForge function: Knative retries 409');
  assert.equal(dispositionOfResponse(400, {}), 'dead-letter');
  assert.equal(
    dispositionOfResponse(500, { [ERROR_HEADERS.disposition]: 'maybe' }),
    'retry',
    'an unknown value counts as none',
  );
  assert.equal(dispositionOf(new StreamForgeError('SF_EXCHANGE_REJECTED', 'invalid symbol')), 'dead-letter');
  assert.equal(dispositionOf(new StreamForgeError('SF_BUSY', 'graph set still being built')), 'retry');
  assert.equal(dispositionOf(new Error('socket hang up')), 'retry');
  assert.equal(dispositionOfStatus(404), 'retry');
  assert.equal(dispositionOfStatus(413), 'dead-letter');
});
