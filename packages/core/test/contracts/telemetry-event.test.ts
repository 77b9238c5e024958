import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalStatus, telemetryEventContract, timestampOf } from '../../src/contracts/telemetry-event.ts';
import { SEED_TELEMETRY, SEED_TELEMETRY_AS_EMITTED } from './seed-examples.ts';

test('the seed telemetry example is accepted', () => {
  const event = telemetryEventContract.parse(SEED_TELEMETRY);
  assert.equal(event.records_written, 15000);
  assert.equal(timestampOf(event), 1722500125.456);
});

test('seed-format telemetry with sent_at instead of timestamp is accepted too', () => {
  const event = telemetryEventContract.parse(SEED_TELEMETRY_AS_EMITTED);
  assert.equal(timestampOf(event), 1722500200.5);
});

test('the seed word interrupted reads as stopped, completed as finished', () => {
  assert.equal(normalStatus('interrupted'), 'stopped');
  assert.equal(normalStatus('completed'), 'finished');
  assert.equal(normalStatus('loading'), 'loading');
});

test('broken telemetry is rejected with the field and the reason', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...SEED_TELEMETRY, status: 'done' }, /status: must be one of/],
    [{ ...SEED_TELEMETRY, records_written: -1 }, /records_written: must be >= 0/],
    [{ ...SEED_TELEMETRY, records_written: 1.5 }, /records_written: must be integer/],
    [{ ...SEED_TELEMETRY, finished: 'no' }, /finished: must be boolean/],
    [{ queue_id: SEED_TELEMETRY.queue_id, producer: 'x', status: 'loading' }, /timestamp or sent_at: is required/],
    [{ ...SEED_TELEMETRY, progress: { done: 3 } }, /progress\.unit: is required/],
  ];
  for (const [value, expected] of cases) {
    assert.throws(
      () => telemetryEventContract.parse(value),
      (error: Error) => expected.test(error.message),
    );
  }
});
