/**
 * The in-flight places of the unordered record consumer, shared fairly between flows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairPlaces } from '../../src/bus/fair-places.ts';

/** Grants every place that is to be given now: which flow got each, in order. */
function grantAll(places: FairPlaces<string>): string[] {
  const got: string[] = [];
  for (let grant = places.grant(); grant; grant = places.grant()) got.push(grant.item);
  return got;
}

test('a flow alone leaves a quarter of the places free; a flow that comes gets them at once', () => {
  const places = new FairPlaces<string>(8);
  for (let i = 0; i < 10; i++) places.add('backfill', `backfill-${i}`);

  assert.equal(grantAll(places).length, 6, '2 of 8 places are kept for a flow that may come');

  places.add('live', 'live-0');
  places.add('live', 'live-1');
  assert.deepEqual(grantAll(places), ['live-0', 'live-1']);
  assert.equal(places.placed, 8);
});

test('a free place goes to the flow holding the fewest, the one served longer ago first', () => {
  const places = new FairPlaces<string>(4);
  const a = places.add('a', 'a-0');
  places.add('a', 'a-1');
  places.add('a', 'a-2');
  places.add('b', 'b-0');
  places.add('b', 'b-1');

  assert.deepEqual(grantAll(places), ['a-0', 'b-0', 'a-1', 'b-1']);

  places.release(a);
  assert.deepEqual(grantAll(places), ['a-2']);
});

test('a record back from a wait goes before its flow queue; a dropped one is refused its place', () => {
  const places = new FairPlaces<string>(4);
  const flow = places.add('a', 'a-0');
  places.add('a', 'a-1');
  const told: Array<[string, boolean]> = [];

  places.ask(flow, 'a-retry', (granted) => told.push(['a-retry', granted]));
  const first = places.grant();
  assert.equal(first?.item, 'a-retry');
  first?.resume?.(true);

  places.ask(flow, 'a-lost', (granted) => told.push(['a-lost', granted]));
  places.drop(
    (item) => item === 'a-lost' || item === 'a-1',
    () => places.forget(flow),
  );

  assert.deepEqual(told, [
    ['a-retry', true],
    ['a-lost', false],
  ]);
  assert.deepEqual(
    places.queued(() => true),
    ['a-0'],
  );
});
