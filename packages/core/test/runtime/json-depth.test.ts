import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonNestsDeeperThan } from '../../src/runtime/json-depth.ts';

test('json depth counts objects and arrays inside one another, not brackets inside strings', () => {
  assert.equal(jsonNestsDeeperThan('{"a":[1,{"b":2}]}', 3), false);
  assert.equal(jsonNestsDeeperThan('{"a":[1,{"b":2}]}', 2), true);
  assert.equal(jsonNestsDeeperThan('[[],[],[],[]]', 2), false);
  assert.equal(jsonNestsDeeperThan('{"text":"[[[[{{{{ \\" [[[["}', 1), false);
  assert.equal(jsonNestsDeeperThan('"not json at all [[[', 1), false);
  assert.equal(jsonNestsDeeperThan('['.repeat(1_000_000), 64), true);
});
