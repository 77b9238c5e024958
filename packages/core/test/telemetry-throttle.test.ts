import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReportThrottle } from '../src/telemetry/throttle.ts';

test('a report per workflow at most every interval, final reports always', () => {
  let now = 0;
  const throttle = createReportThrottle(500, () => now);
  assert.equal(throttle.due('wf-a'), true);
  now = 100;
  assert.equal(throttle.due('wf-a'), false);
  assert.equal(throttle.due('wf-b'), true, 'keys are independent');
  assert.equal(throttle.due('wf-a', true), true, 'forced');
  now = 700;
  assert.equal(throttle.due('wf-a'), true);
});
