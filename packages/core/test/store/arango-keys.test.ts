import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggTradeKey, klineKey, tradeKey } from '../../src/contracts/records.ts';
import { arangoKey, compositeKey, isValidArangoKey } from '../../src/store/arango-keys.ts';

test('record keys are their own ArangoDB _key', () => {
  for (const key of [
    klineKey('BTCUSDT', '5m', 1722470400000),
    aggTradeKey('BTCUSDT', 26129),
    tradeKey('ETHUSDT', 7),
    "A-z_0.9@(x)+,=;$!*'%:",
  ]) {
    assert.equal(isValidArangoKey(key), true, key);
    assert.equal(arangoKey(key), key);
  }
});

test('a key with other characters, or longer than 254 bytes, becomes a stable hash', () => {
  for (const key of ['BTC/USDT', 'with space', 'é', '', 'x'.repeat(255)]) {
    assert.equal(isValidArangoKey(key), false, key);
    assert.match(arangoKey(key), /^h_[0-9a-f]{40}$/);
    assert.equal(arangoKey(key), arangoKey(key));
  }
  assert.equal(isValidArangoKey('x'.repeat(254)), true);
  assert.notEqual(arangoKey('BTC/USDT'), arangoKey('BTC/USDC'));
});

test('composite keys read as their parts, and are hashed when a part holds a colon', () => {
  assert.equal(
    compositeKey(['wf-btcusdt-api_candles_5m-20240801-a1b2c3', 3, 0]),
    'wf-btcusdt-api_candles_5m-20240801-a1b2c3:3:0',
  );
  assert.match(compositeKey(['wf-x', 'BTCUSDT:5m:1']), /^h_[0-9a-f]{40}$/);
  assert.notEqual(compositeKey(['a:b', 'c']), compositeKey(['a', 'b:c']));
  assert.match(compositeKey(['wf-x', 'event id with spaces']), /^h_/);
});
