import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeEvent, isCloudEventRecord, MAX_EVENT_BYTES } from '../../src/bus/codec.ts';
import { StreamForgeError } from '../../src/errors.ts';

const input = {
  id: 'evt-1',
  type: 'dev.streamforge.data.klines',
  source: '/streamforge/loader-api',
  subject: 'wf-btcusdt-api_candles_5m-20240801-a1b2c3',
  partitionKey: 'BTCUSDT',
  data: { symbol: 'BTCUSDT', records: [{ key: 'BTCUSDT:5m:1722470400000', open: '64000.01000000' }] },
};

test('codec writes binary mode: ce_ headers, JSON data as the value, the symbol as the key', () => {
  const message = encodeEvent(input);
  assert.equal(message.key, 'BTCUSDT');
  const headers = message.headers as Record<string, string>;
  assert.equal(headers.ce_id, 'evt-1');
  assert.equal(headers.ce_type, 'dev.streamforge.data.klines');
  assert.equal(headers.ce_specversion, '1.0');
  assert.equal(headers.ce_subject, input.subject);
  assert.equal(headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(String(message.value)), input.data);
});

test('codec reads back the same id, type, source, subject, key and data, from Buffer headers as Kafka delivers them', () => {
  const message = encodeEvent(input);
  const asConsumed = {
    key: Buffer.from(String(message.key)),
    value: message.value as Buffer,
    headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))])),
  };
  assert.ok(isCloudEventRecord(asConsumed));
  const event = decodeRecord<typeof input.data>(asConsumed);
  assert.equal(event.id, 'evt-1');
  assert.equal(event.type, input.type);
  assert.equal(event.source, input.source);
  assert.equal(event.subject, input.subject);
  assert.equal(event.partitionkey, 'BTCUSDT');
  assert.deepEqual(event.data, input.data);
});

test('a record without CloudEvent headers is not taken for an event', () => {
  const plain = {
    key: null,
    value: Buffer.from('{"hello":1}'),
    headers: { 'content-type': Buffer.from('application/json') },
  };
  assert.equal(isCloudEventRecord(plain), false);
  assert.throws(
    () => decodeRecord(plain),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_EVENT_MALFORMED',
  );
});

test('an event above the 1 MiB runtime limit is refused before it reaches Kafka', () => {
  const big = { ...input, data: { blob: 'x'.repeat(MAX_EVENT_BYTES) } };
  assert.throws(
    () => encodeEvent(big),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_EVENT_TOO_LARGE' && /send smaller batches/.test(e.message),
  );
});

test('attribute names that CloudEvents forbids are refused', () => {
  assert.throws(() => encodeEvent({ ...input, extensions: { 'Bad-Name': 'x' } }), /cannot build CloudEvent/);
});
