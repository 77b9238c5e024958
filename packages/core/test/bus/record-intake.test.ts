/**
 * Where a partition starts again after a rebalance reset its lane (record-intake.ts), without a
 * broker: the group's commit, or without one the first record the member had no outcome for;
 * never a record past it, however the stream's fetch position moved meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairPlaces } from '../../src/bus/fair-places.ts';
import type { OffsetCommits } from '../../src/bus/offset-commits.ts';
import { type ConsumerState, type Item, laneKey, type RecordStream } from '../../src/bus/partition-lanes.ts';
import type { PartitionPause } from '../../src/bus/partition-pause.ts';
import { createRecordIntake, type PartitionRef } from '../../src/bus/record-intake.ts';
import type { ConsumedRecord } from '../../src/bus/records.ts';

const TOPIC = 't';
const KEY = laneKey(TOPIC, 0);

const record = (offset: number): ConsumedRecord => ({
  topic: TOPIC,
  partition: 0,
  offset: String(offset),
  timestamp: '0',
  key: null,
  value: Buffer.from(`r${offset}`),
  headers: {},
});

/** An intake over a stand-in stream (its fetch positions only), whose questions to the group the test answers. */
function setup() {
  const stream = { offsetsToFetch: new Map<string, bigint>(), offsetsCommitted: new Map<string, bigint>() };
  const state: ConsumerState = {
    groupId: 'g',
    logger: undefined,
    ordered: true,
    lanes: new Map(),
    retiring: new Map(),
    places: new FairPlaces<Item>(10),
    buffered: { records: 0, bytes: 0 },
    stream: stream as unknown as RecordStream,
    stopping: false,
  };
  const pause: PartitionPause = {
    adjust: () => undefined,
    setAside: () => undefined,
    seek: (lane, offset) => void stream.offsetsToFetch.set(lane.key, offset),
    streamOpened: () => undefined,
    stop: () => undefined,
  };
  const commits: OffsetCommits = { done: () => undefined, drop: () => undefined, flush: async () => undefined };
  const questions: Array<{
    partitions: PartitionRef[];
    answer: (committed: bigint, logStart?: bigint, logEnd?: bigint) => Promise<void>;
  }> = [];
  const intake = createRecordIntake(
    state,
    {},
    {
      pause,
      commits,
      pump: () => undefined,
      positions: (partitions) =>
        new Promise((resolve) => {
          questions.push({
            partitions,
            answer: async (committed, logStart = 0n, logEnd = undefined) => {
              resolve(new Map([[KEY, { committed, logStart, ...(logEnd === undefined ? {} : { logEnd }) }]]));
              // The intake applies the answer once its await resumes.
              await new Promise((r) => setImmediate(r));
            },
          });
        }),
    },
  );
  let generation = 0;
  /** A join as `memberId`: the same one as the last join continues its membership, another does not. */
  const join = (memberId: string) =>
    intake.joined(
      { groupId: 'g', memberId, generationId: ++generation, assignments: [{ topic: TOPIC, partitions: [0] }] },
      null,
    );
  const take = (...offsets: number[]) => {
    for (const offset of offsets) intake.take(record(offset), 0);
  };
  return { state, stream, intake, questions, join, take };
}

test('after a rejoin as a new member, a partition with a commit starts again there: records a stale fetch brings past it are not taken, and the stream is sent back', async () => {
  const { state, stream, intake, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2, 3, 4);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 0n);
  join('m2');
  assert.equal(state.lanes.size, 0, 'the lane of the old membership is reset');
  take(0);
  assert.equal(state.lanes.size, 0, 'nothing is taken before the group said where the partition starts');
  assert.deepEqual(questions[0]?.partitions, [{ topic: TOPIC, partition: 0 }]);
  await questions[0]?.answer(2n);
  assert.equal(stream.offsetsToFetch.get(KEY), 2n);
  // A fetch made before the rejoin lands: the stream moved past the start, and its records are not the start.
  stream.offsetsToFetch.set(KEY, 8n);
  take(5, 6, 7);
  assert.equal(state.lanes.size, 0, 'no lane opens past the start');
  assert.equal(stream.offsetsToFetch.get(KEY), 2n, 'the stream reads again from the start');
  // The stream's own refresh after the join puts its position elsewhere: the group is asked
  // again, and the stream is sent back to the start it names.
  stream.offsetsToFetch.set(KEY, 8n);
  intake.offsetsFixed();
  await questions[1]?.answer(2n);
  assert.equal(stream.offsetsToFetch.get(KEY), 2n);
  take(2, 3);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 2n, 'the lane opens at the commit');
});

test('after a rejoin as a new member, a partition the group never committed starts again at the first record the member had no outcome for, not where the stream last fetched', async () => {
  const { state, stream, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2, 3, 4);
  state.lanes.get(KEY)?.offsets.done(0n);
  // Where the stream stands: past every record taken in, which is what it takes for "committed" without a commit.
  stream.offsetsToFetch.set(KEY, 5n);
  join('m2');
  await questions[0]?.answer(-1n);
  assert.equal(stream.offsetsToFetch.get(KEY), 1n);
  take(5);
  assert.equal(state.lanes.size, 0, 'a record written after the rejoin does not open the lane past r1..r4');
  take(1, 2, 3, 4, 5);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 1n);
  assert.equal(state.lanes.get(KEY)?.queue.length, 5, 'r1..r5 are taken in');
});

test('a partition that another member had meanwhile starts again where the group committed it, even past where this member left off', async () => {
  const { state, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2);
  join('m2');
  await questions[0]?.answer(40n);
  take(2, 3);
  assert.equal(state.lanes.size, 0);
  take(40);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 40n);
});

test("an answer about an earlier assignment is not applied: the last join's question decides", async () => {
  const { state, stream, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2);
  join('m2');
  join('m3');
  await questions[0]?.answer(0n);
  take(0);
  assert.equal(state.lanes.size, 0, 'the first answer came after another join');
  await questions[1]?.answer(1n);
  assert.equal(stream.offsetsToFetch.get(KEY), 1n);
  take(1);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 1n);
});

test('a member that keeps its membership keeps its lanes: nothing is asked', () => {
  const { state, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2);
  const lane = state.lanes.get(KEY);
  join('m1');
  assert.equal(state.lanes.get(KEY), lane);
  assert.equal(questions.length, 0);
});

test('a start that retention removed is not waited for: the partition starts again at the first record still in the log, asked again while only later records come', async (t) => {
  const { state, stream, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2);
  join('m2');
  await questions[0]?.answer(1n, 30n);
  assert.equal(stream.offsetsToFetch.get(KEY), 30n, 'the log starts past the commit');
  join('m3');
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  await questions[1]?.answer(1n, 0n);
  take(40, 41);
  assert.equal(questions.length, 2, 'records past the start are not taken, and not at once a reason to ask again');
  // Retention removed the start meanwhile: only later records come, for a while.
  t.mock.timers.tick(10_000);
  take(42);
  assert.equal(state.lanes.size, 0);
  assert.deepEqual(questions[2]?.partitions, [{ topic: TOPIC, partition: 0 }], 'the group is asked again');
  await questions[2]?.answer(1n, 40n);
  take(40);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 40n);
});

test('a stream that recovered from an out-of-range fetch is not sent back out of range: the group is asked again, and the start moves inside the log', async () => {
  const { state, stream, intake, questions, join, take } = setup();
  join('m1');
  take(0, 1, 2);
  join('m2');
  await questions[0]?.answer(1n);
  assert.equal(stream.offsetsToFetch.get(KEY), 1n);
  // Retention removed offsets up to 9 meanwhile: the fetch at 1 is out of range, and the
  // client moves its position to the log's start on its own.
  stream.offsetsToFetch.set(KEY, 10n);
  intake.offsetsFixed();
  assert.equal(stream.offsetsToFetch.get(KEY), 10n, 'the old start is not re-applied blindly');
  intake.offsetsFixed();
  assert.equal(questions.length, 2, 'one question at a time per partition');
  await questions[1]?.answer(1n, 10n);
  assert.equal(stream.offsetsToFetch.get(KEY), 10n, 'the start is the log start now');
  take(10, 11);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 10n, 'the lane opens at the log start');
});

test('a start past the end of a truncated log becomes the log end', async () => {
  const { state, stream, join, take, questions } = setup();
  join('m1');
  take(0, 1, 2, 3, 4, 5, 6);
  join('m2');
  await questions[0]?.answer(6n, 0n, 4n);
  assert.equal(stream.offsetsToFetch.get(KEY), 4n);
  take(4);
  assert.equal(state.lanes.get(KEY)?.offsets.floor, 4n);
});
