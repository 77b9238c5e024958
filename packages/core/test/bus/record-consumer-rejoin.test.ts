/**
 * The record consumer when its member drops out of the group and joins again as a new member
 * (its process starved past the session timeout, as on a loaded machine): the records it held
 * without an outcome come again, none is passed over, whether or not the group had committed
 * anything for their partition yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventProducer, startRecordConsumer, withAdmin, type Ordering } from '../../src/bus/index.ts';
import { createTestTopic, deleteTopics, testKafka, uniqueName, waitFor } from '@streamforge/testing';

const kafka = testKafka('record-consumer-rejoin-test');

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  try {
    await producer.sendRecords(
      topic,
      values.map((value) => ({ key: 'k', value })),
    );
  } finally {
    await producer.disconnect();
  }
}

const committedOf = async (groupId: string, topic: string): Promise<string | undefined> =>
  withAdmin(kafka, async (admin) => (await admin.groupOffsets(groupId, [topic])).get(topic)?.get(0));

/** Blocks this process for `ms`: no timer, heartbeat or socket is served meanwhile (a starved process). */
function starve(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Kafka's group.min.session.timeout.ms: the shortest session the broker accepts. */
const SESSION_MS = 6_000;

const cases: Array<{ ordering: Ordering; committed: boolean }> = [
  { ordering: 'ordered', committed: false },
  { ordering: 'unordered', committed: false },
  { ordering: 'unordered', committed: true },
];

for (const { ordering, committed } of cases)
  test(`${ordering}: a member that drops out of its group ${committed ? 'after its first commit' : 'before anything was committed'} and joins again as a new member hands every record it held to a handler; the commit passes none unhandled`, async (t) => {
    const topic = await createTestTopic(kafka, `rejoin-${ordering}`, 1);
    t.after(() => deleteTopics(kafka, [topic]));
    const values = ['r0', 'r1', 'r2', 'r3', 'r4'];
    await produce(topic, values);
    const groupId = uniqueName(`rejoin-${ordering}`);
    // The record whose handler holds until the member has joined again: the first one, or
    // (committed) the second, once the first one's offset is committed.
    const held = committed ? 'r1' : 'r0';
    let release: () => void = () => undefined;
    const holding = new Promise<void>((r) => {
      release = r;
    });
    const handled: string[] = [];
    const started: string[] = [];
    const joins: number[] = [];
    const consumer = await startRecordConsumer({
      connection: kafka,
      groupId,
      topics: [topic],
      from: 'earliest',
      commit: true,
      ordering,
      // One at a time, unordered too: the records after the held one wait, taken in, while it runs.
      inFlight: 1,
      sessionTimeoutMs: SESSION_MS,
      heartbeatIntervalMs: 1_000,
      onAssigned: () => joins.push(Date.now()),
      handle: async (record) => {
        const value = String(record.value);
        started.push(value);
        if (value === held && started.filter((v) => v === held).length === 1) await holding;
        handled.push(value);
      },
    });
    t.after(() => {
      release();
      return consumer.stop();
    });
    // The held record runs (its batch, the records after it with it, is taken in).
    await waitFor(`${held} running`, () => started.includes(held));
    if (committed) await waitFor('r0 committed', async () => (await committedOf(groupId, topic)) === '1');
    else assert.equal(await committedOf(groupId, topic), undefined, 'nothing committed while r0 runs');
    // Starved past the session: the broker drops the member, which joins again under a new id.
    // Well past it, so a broker slow to check sessions on a busy machine still drops the member.
    starve(SESSION_MS + 8_000);
    await waitFor('the member joined its group again', () => joins.length >= 2, { timeoutMs: 30_000 });
    release();
    // A record written after the rejoin: taking it must not start the partition past the records held.
    await produce(topic, ['after']);
    await waitFor(
      'every record handled and committed',
      async () => [...values, 'after'].every((v) => handled.includes(v)) && (await committedOf(groupId, topic)) === '6',
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message}: handled ${JSON.stringify(handled)}, committed ${await committedOf(groupId, topic)}`,
      );
    });
  });
