import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonNestsDeeperThan, valueNestsDeeperThan } from '../../src/runtime/json-depth.ts';

test('json depth counts objects and arrays inside one another, not brackets inside strings', () => {
  assert.equal(jsonNestsDeeperThan('{"a":[1,{"b":2}]}', 3), false);
  assert.equal(jsonNestsDeeperThan('{"a":[1,{"b":2}]}', 2), true);
  assert.equal(jsonNestsDeeperThan('[[],[],[],[]]', 2), false);
  assert.equal(jsonNestsDeeperThan('{"text":"[[[[{{{{ \\" [[[["}', 1), false);
  assert.equal(jsonNestsDeeperThan('"not json at all [[[', 1), false);
  assert.equal(jsonNestsDeeperThan('['.repeat(1_000_000), 64), true);
});

test('a parsed value nests as deep as its JSON text', () => {
  for (const text of [
    '{"a":[1,{"b":2}]}',
    '[[],[],[],[]]',
    '{"text":"[[[[{{{{ \\" [[[["}',
    '[1,"x",null,true]',
    '5',
    'null',
  ])
    for (const limit of [0, 1, 2, 3])
      assert.equal(
        valueNestsDeeperThan(JSON.parse(text), limit),
        jsonNestsDeeperThan(text, limit),
        `${text} at ${limit}`,
      );
});

test('a million levels are measured without recursion: JSON.parse takes them, the walk stops at the first level past the limit', () => {
  const deep: unknown = JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);
  assert.equal(valueNestsDeeperThan(deep, 64), true);
  const deepObject: unknown = JSON.parse(`${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}`);
  assert.equal(valueNestsDeeperThan(deepObject, 64), true);
});

test('binary data (an event data_base64 decoded) is one level, not one per byte', () => {
  assert.equal(valueNestsDeeperThan({ data: new Uint32Array(100_000) }, 2), false);
});
