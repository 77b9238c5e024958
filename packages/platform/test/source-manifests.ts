/**
 * The manifests the platform tests give the dispatcher: a KafkaSource (and the KafkaSink its
 * dead letters go to), written as the files the platform reads, so each test goes through the
 * same parser (manifests.ts) as a real run. Brokers in them are never dialled: the dispatcher
 * takes its connection from the test.
 */
import type { TestContext } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusConnection, EventProducer } from '@streamforge/core/bus';
import { createEventProducer } from '@streamforge/core/bus';
import type { Logger } from '@streamforge/core/telemetry';
import { createDispatcher } from '../src/dispatcher.ts';
import { loadKafkaSinks, loadKafkaSources } from '../src/manifests.ts';

export interface SourceManifest {
  name: string;
  topic: string;
  groupId: string;
  /** The `delivery` block, as YAML flow text. */
  delivery: string;
  /** The Knative Service the source delivers to. */
  sink: string;
  ordering?: string;
  /** Annotations, as the inside of a YAML flow mapping. */
  annotations?: string;
  /** The KafkaSink that `delivery` names as its dead-letter sink, and its topic. */
  deadLetter?: { name: string; topic: string };
}

/** Writes `source.yaml` into `dir`. */
export function writeSourceManifest(dir: string, source: SourceManifest): void {
  const annotations = source.annotations === undefined ? '' : `, annotations: { ${source.annotations} }`;
  const documents = [
    `apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: { name: ${source.name}${annotations} }
spec:
  bootstrapServers: [unused:9092]
  topics: [${source.topic}]
  consumerGroup: ${source.groupId}
  initialOffset: earliest
  ordering: ${source.ordering ?? 'ordered'}
  delivery: ${source.delivery}
  sink: { ref: { apiVersion: serving.knative.dev/v1, kind: Service, name: ${source.sink} } }
`,
  ];
  if (source.deadLetter)
    documents.push(`apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: { name: ${source.deadLetter.name} }
spec: { topic: ${source.deadLetter.topic}, bootstrapServers: [unused:9092], contentMode: binary }
`);
  writeFileSync(join(dir, 'source.yaml'), documents.join('---\n'));
}

/** A dispatcher running the manifests in `dir`, ready, with its producer; both stopped after the test. */
export async function startTestDispatcher(
  t: TestContext,
  options: {
    kafka: BusConnection;
    dir: string;
    logger: Logger;
    resolveSink: () => Promise<string>;
    namespace?: string;
  },
): Promise<EventProducer> {
  const producer = await createEventProducer(options.kafka, { topicPrefix: '' });
  const dispatcher = createDispatcher({
    connection: options.kafka,
    sources: loadKafkaSources(options.dir),
    kafkaSinks: loadKafkaSinks(options.dir),
    producer,
    logger: options.logger,
    prefix: '',
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    resolveSink: options.resolveSink,
  });
  await dispatcher.start();
  await dispatcher.ready();
  t.after(async () => {
    await dispatcher.stop();
    await producer.disconnect();
  });
  return producer;
}
