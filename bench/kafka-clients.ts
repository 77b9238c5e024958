/**
 * The record of the Kafka client choice: kafkajs, the client the bus ran on until it moved
 * (unmaintained since 2023; kept as a dev dependency for this benchmark only), against
 * @platformatic/kafka, the maintained pure-JavaScript client behind the bus now (no native
 * build, so it installs on machines that reach only the npm registry). Prints one JSON document.
 *
 *   node bench/kafka-clients.ts [--messages 200000] [--batch 500] [--size 1000] [--rounds 3]
 *
 * Throughput, on a real broker (KAFKA_BROKERS, or one started for the run): each client
 * produces the same messages, idempotent with acknowledgement from all in-sync replicas and
 * one batch at a time (as StreamForge's producer sends), to a fresh topic of 6 partitions, then
 * a new consumer group of the same client reads them back from the start. Figures per client:
 * messages/s produced and consumed, p50/p99 of one batch's send, median over the rounds (the
 * clients take turns); ratios are against kafkajs measured in the same run.
 *
 * Lost answer, on a second broker behind the fault proxy: one produce answer is swallowed while
 * two sends are under way (what a broker restart or a network cut does). What each client's
 * raw idempotent producer left in the topic: kafkajs loses an acknowledged event here (which
 * made the bus send one batch at a time and retire a producer after a failed send, while it
 * ran on kafkajs); @platformatic/kafka loses nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Consumer as PlatformaticConsumer,
  Producer as PlatformaticProducer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { freePort, startLocalBroker, type LocalBroker } from '@streamforge/platform';
import { createTestTopic, readTopic, startKafkaFaultProxy } from '@streamforge/testing';
import { quantile } from './quantile.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    batch: { type: 'string' },
    size: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const total = Number(values.messages ?? 200_000);
const batchSize = Number(values.batch ?? 500);
const size = Number(values.size ?? 1000);
const rounds = Number(values.rounds ?? 3);

type Message = { key: string; value: string };
interface ClientUnderTest {
  /** Sends the batches one after another; returns each batch's send time in ms. */
  produce(brokers: string, topic: string, batches: Message[][]): Promise<number[]>;
  /** Reads `count` messages of `topic` from the start with a new group. */
  consume(brokers: string, topic: string, count: number): Promise<void>;
}

const kafkajsClient: ClientUnderTest = {
  async produce(brokers, topic, batches) {
    const producer = new Kafka({ brokers: [brokers], clientId: 'bench-kafkajs', logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    const times: number[] = [];
    for (const messages of batches) {
      const started = performance.now();
      await producer.send({ topic, messages, acks: -1 });
      times.push(performance.now() - started);
    }
    await producer.disconnect();
    return times;
  },
  async consume(brokers, topic, count) {
    const consumer = new Kafka({ brokers: [brokers], clientId: 'bench-kafkajs', logLevel: logLevel.NOTHING }).consumer({
      groupId: `bench-kafkajs-${Date.now()}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= count) resolve();
        },
      });
    });
    await consumer.disconnect();
  },
};

const platformaticClient: ClientUnderTest = {
  async produce(brokers, topic, batches) {
    const producer = new PlatformaticProducer({
      clientId: 'bench-platformatic',
      bootstrapBrokers: [brokers],
      idempotent: true,
      acks: -1,
      serializers: stringSerializers,
    });
    const times: number[] = [];
    for (const messages of batches) {
      const started = performance.now();
      await producer.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) });
      times.push(performance.now() - started);
    }
    await producer.close();
    return times;
  },
  async consume(brokers, topic, count) {
    const consumer = new PlatformaticConsumer({
      clientId: 'bench-platformatic',
      groupId: `bench-platformatic-${Date.now()}`,
      bootstrapBrokers: [brokers],
      deserializers: stringDeserializers,
      maxWaitTime: 100,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
    let seen = 0;
    for await (const _ of stream) if (++seen >= count) break;
    await stream.close();
    await consumer.close();
  },
};

const CLIENTS = { kafkajs: kafkajsClient, '@platformatic/kafka': platformaticClient };
type ClientName = keyof typeof CLIENTS;

function batchesOf(round: number): Message[][] {
  const payload = 'x'.repeat(Math.max(0, size - 40));
  const batches: Message[][] = [];
  for (let i = 0; i < total; i += batchSize) {
    batches.push(
      Array.from({ length: Math.min(batchSize, total - i) }, (_, j) => ({
        key: `symbol-${(i + j) % 64}`,
        value: `{"round":${round},"n":${i + j},"p":"${payload}"}`,
      })),
    );
  }
  return batches;
}

async function startBroker(port?: number, advertisedPort?: number): Promise<{ broker: LocalBroker; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kafka-'));
  const broker = await startLocalBroker({
    dataDir: dir,
    ...(port === undefined ? {} : { port }),
    ...(advertisedPort === undefined ? {} : { advertisedPort }),
  });
  return { broker, dir };
}

/** Throughput rounds; the clients take turns so neither always runs on a warmer broker. */
async function throughput(brokers: string): Promise<
  Record<
    ClientName,
    {
      produce_msgs_per_s: number;
      produce_mb_per_s: number;
      batch_send_ms: { p50: number; p99: number };
      consume_msgs_per_s: number;
    }
  >
> {
  const kafka = createBusConnection({ brokers: [brokers], clientId: 'bench-admin' });
  await waitForKafka(kafka);
  const samples: Record<string, { produce: number[]; consume: number[]; batches: number[] }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(CLIENTS) as ClientName[]) {
      const client = CLIENTS[name];
      const topic = await createTestTopic(kafka, 'bench-clients', 6);
      const batches = batchesOf(round);
      const produceStarted = performance.now();
      const times = await client.produce(brokers, topic, batches);
      const produceSeconds = (performance.now() - produceStarted) / 1000;
      const consumeStarted = performance.now();
      await client.consume(brokers, topic, total);
      const consumeSeconds = (performance.now() - consumeStarted) / 1000;
      samples[name] ??= { produce: [], consume: [], batches: [] };
      const s = samples[name];
      s.produce.push(total / produceSeconds);
      s.consume.push(total / consumeSeconds);
      s.batches.push(...times);
    }
  }
  const result = {} as Awaited<ReturnType<typeof throughput>>;
  for (const name of Object.keys(CLIENTS) as ClientName[]) {
    const s = samples[name]!;
    const produce = quantile(s.produce, 0.5);
    result[name] = {
      produce_msgs_per_s: Math.round(produce),
      produce_mb_per_s: Math.round((produce * size) / 1e5) / 10,
      batch_send_ms: {
        p50: Math.round(quantile(s.batches, 0.5) * 10) / 10,
        p99: Math.round(quantile(s.batches, 0.99) * 10) / 10,
      },
      consume_msgs_per_s: Math.round(quantile(s.consume, 0.5)),
    };
  }
  return result;
}

/** Each client's raw idempotent producer, one answer lost while two sends are under way. */
async function lostAnswer(): Promise<
  Record<ClientName, { topic_holds: string[]; lost: string[]; duplicated: string[] }>
> {
  const brokerPort = await freePort();
  const proxy = await startKafkaFaultProxy(brokerPort);
  const { broker, dir } = await startBroker(brokerPort, proxy.port);
  try {
    const kafka = createBusConnection({ brokers: [broker.brokers], clientId: 'bench-admin' });
    await waitForKafka(kafka);
    const result = {} as Awaited<ReturnType<typeof lostAnswer>>;
    const senders: Record<
      ClientName,
      (topic: string) => Promise<{ send(id: string): Promise<unknown>; close(): Promise<unknown> }>
    > = {
      kafkajs: async (topic) => {
        // A short request timeout: the lost answer fails the request after 2 s and kafkajs retries it.
        const producer = new Kafka({
          brokers: [broker.brokers],
          clientId: 'bench-kafkajs',
          requestTimeout: 2_000,
          retry: { retries: 3, initialRetryTime: 100 },
          logLevel: logLevel.NOTHING,
        }).producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        return {
          send: (id) => producer.send({ topic, acks: -1, messages: [{ key: 'k', value: id }] }),
          close: () => producer.disconnect(),
        };
      },
      '@platformatic/kafka': async (topic) => {
        const producer = new PlatformaticProducer({
          clientId: 'bench-platformatic',
          bootstrapBrokers: [broker.brokers],
          idempotent: true,
          acks: -1,
          requestTimeout: 2_000,
          retryDelay: 100,
          serializers: stringSerializers,
        });
        return {
          send: (id) => producer.send({ messages: [{ topic, key: 'k', value: id }] }),
          close: () => producer.close(),
        };
      },
    };
    for (const name of Object.keys(CLIENTS) as ClientName[]) {
      const topic = await createTestTopic(kafka, 'bench-lost-answer', 1);
      const producer = await senders[name](topic);
      await producer.send('first');
      proxy.swallowNextProduceResponse();
      await Promise.allSettled([producer.send('second'), producer.send('third')]);
      await producer.send('fourth').catch(() => undefined);
      await producer.close().catch(() => undefined);
      const held = await readTopic(kafka, topic, 4, 5_000).then(
        (records) => records.map((r) => String(r.value)),
        async () => (await readTopic(kafka, topic, 3, 5_000).catch(() => [])).map((r) => String(r.value)),
      );
      const sent = ['first', 'second', 'third', 'fourth'];
      result[name] = {
        topic_holds: held,
        lost: sent.filter((id) => !held.includes(id)),
        duplicated: sent.filter((id) => held.filter((h) => h === id).length > 1),
      };
    }
    return result;
  } finally {
    await proxy.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

let own: { broker: LocalBroker; dir: string } | undefined;
let brokers = process.env.KAFKA_BROKERS?.split(',')[0];
if (!brokers) {
  own = await startBroker();
  brokers = own.broker.brokers;
}
try {
  const measured = await throughput(brokers);
  const base = measured.kafkajs;
  const alt = measured['@platformatic/kafka'];
  console.log(
    JSON.stringify(
      {
        bench: 'kafka-clients',
        setup: {
          messages: total,
          batch: batchSize,
          message_bytes: size,
          rounds,
          partitions: 6,
          acks: 'all',
          idempotent: true,
          one_batch_at_a_time: true,
        },
        throughput: measured,
        ratio_to_kafkajs: {
          produce: Math.round((alt.produce_msgs_per_s / base.produce_msgs_per_s) * 100) / 100,
          consume: Math.round((alt.consume_msgs_per_s / base.consume_msgs_per_s) * 100) / 100,
          batch_send_p99: Math.round((alt.batch_send_ms.p99 / base.batch_send_ms.p99) * 100) / 100,
        },
        lost_answer: await lostAnswer(),
      },
      null,
      2,
    ),
  );
} finally {
  if (own) {
    await own.broker.stop();
    rmSync(own.dir, { recursive: true, force: true });
  }
}
