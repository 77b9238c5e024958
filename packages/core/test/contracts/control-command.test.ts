import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlCommandContract, parseCommandFor } from '../../src/contracts/control-command.ts';
import { StreamForgeError } from '../../src/errors.ts';
import { SEED_PING, SEED_START, SEED_STOP } from './seed-examples.ts';

function rejection(value: unknown): string {
  try {
    controlCommandContract.parse(value);
  } catch (error) {
    assert.ok(StreamForgeError.is(error));
    assert.equal(error.code, 'SF_CONTRACT_INVALID');
    return error.message;
  }
  assert.fail('expected the command to be rejected');
}

test('the seed start, stop and ping commands are accepted as they are', () => {
  assert.equal(controlCommandContract.parse(SEED_START).command, 'start');
  assert.equal(controlCommandContract.parse(SEED_STOP).command, 'stop');
  assert.equal(controlCommandContract.parse(SEED_PING).command, 'ping');
});

test('a start command keeps the parameters of its target', () => {
  const command = controlCommandContract.parse({ ...SEED_START, window: 24, epochs: 200 });
  assert.equal(command.window, 24);
});

test('each broken start command is rejected naming the field and the reason', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...SEED_START, command: 'begin' }, /command: must be one of "start", "stop", "ping"/],
    [{ ...SEED_START, queue_id: undefined }, /queue_id: is required/],
    [{ ...SEED_START, queue_id: 'WF BAD' }, /queue_id: must match pattern/],
    [{ ...SEED_START, target: undefined }, /target: is required/],
    [{ ...SEED_START, symbol: 'btc-usdt' }, /symbol: must match pattern/],
    [{ ...SEED_START, symbol: undefined }, /symbol or symbols: is required/],
    [{ ...SEED_START, time_range: '2024/08/01-2024/08/02' }, /time_range: must match pattern/],
    [{ ...SEED_START, timestamp: '1722500000' }, /timestamp: must be number/],
    [{ ...SEED_START, market: 'coin-m' }, /market: must be one of "spot", "usdm", "coinm"/],
    [{ ...SEED_START, symbol: 'BTCUSD_' }, /symbol: must match pattern/],
    [{ ...SEED_START, collection_name: '1-starts-with-digit' }, /collection_name: must match pattern/],
  ];
  for (const [value, expected] of cases) {
    const cleaned = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
    assert.match(rejection(cleaned), expected);
  }
});

test('a stop without a timestamp is rejected', () => {
  assert.match(rejection({ command: 'stop', queue_id: SEED_STOP.queue_id }), /timestamp: is required/);
});

test('a rejection lists every failing field, not only the first', () => {
  const message = rejection({ command: 'start', queue_id: SEED_START.queue_id, symbol: 'x', timestamp: 1 });
  assert.match(message, /target: is required/);
  assert.match(message, /type: is required/);
  assert.match(message, /symbol: must match pattern/);
});

test('a service takes commands addressed to it and untargeted ones', () => {
  assert.equal(parseCommandFor('loader-api', { ...SEED_START, target: 'loader-api' }).command, 'start');
  assert.equal(
    parseCommandFor('dummy-service', { command: 'stop', queue_id: SEED_START.queue_id, timestamp: 1 }).command,
    'stop',
  );
});

test('a command for another service is refused naming the topic it belongs on, so it is dead-lettered rather than lost', () => {
  assert.throws(
    () => parseCommandFor('graph-builder', { ...SEED_START, target: 'loader-api' }),
    (error: unknown) => {
      assert.ok(error instanceof StreamForgeError);
      assert.equal(error.code, 'SF_CONTRACT_INVALID');
      assert.match(
        error.message,
        /a command for loader-api reached graph-builder: publish it on queue-control\.loader-api/,
      );
      return true;
    },
  );
});
