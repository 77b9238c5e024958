/**
 * The dispatcher as its own process, as in a cluster (the kafka-source-dispatcher pods):
 *
 *   node packages/platform/src/dispatcher-main.ts --sources kafka-sources \
 *     --sink dummy-service=http://127.0.0.1:8081 [--sink …] [--port 0]
 *
 * Serves /health/readiness (200 once every KafkaSource consumer has joined its group) and
 * /metrics; prints one JSON line `{"dispatcher": {"port": …}}` once listening. SIGTERM stops
 * the consumers cleanly (committing what reached an outcome); SIGKILL loses nothing either,
 * since offsets are only committed after an outcome.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createBusConnection } from '@streamforge/core/bus';
import { createEventProducer } from '@streamforge/core/bus';
import { env } from '@streamforge/core/config';
import { createLogger } from '@streamforge/core/telemetry';
import { createRegistry } from '@streamforge/core/telemetry';
import { createDispatcher } from './dispatcher.ts';
import { loadKafkaSinks, loadKafkaSources } from './manifests.ts';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: 'kafka-sources' },
    sink: { type: 'string', multiple: true, default: [] },
    only: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '0' },
  },
});

const logger = createLogger({ service: 'kafka-source-dispatcher' });
const sinks = new Map(
  values.sink.map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--sink takes name=url, got "${pair}"`);
    return [pair.slice(0, at), pair.slice(at + 1)] as const;
  }),
);
const allSources = loadKafkaSources(values.sources);
const sources = values.only.length === 0 ? allSources : allSources.filter((s) => values.only.includes(s.name));
const registry = createRegistry({ service: 'kafka-source-dispatcher' });
const connection = createBusConnection({ clientId: 'kafka-source-dispatcher', logger });
const producer = await createEventProducer(connection);
const dispatcher = createDispatcher({
  connection,
  sources,
  kafkaSinks: loadKafkaSinks(values.sources),
  producer,
  logger,
  registry,
  prefix: env('KAFKA_TOPIC_PREFIX'),
  // A source that consumes nothing more must not hide behind a live process: exit, and the
  // supervisor (or Kubernetes) starts a new dispatcher, which resumes from the committed offsets.
  onGaveUp: (source) => void stop(`KafkaSource ${source} stopped for good`, 1),
  resolveSink: async (ref) => {
    const url = ref.uri ?? sinks.get(ref.name);
    if (!url) throw new Error(`no address for sink ${ref.kind}/${ref.name}`);
    return url;
  },
});

let ready = false;
const server = createServer((req, res) => {
  if (req.url === '/health/readiness') {
    res.writeHead(ready ? 200 : 503).end(ready ? 'OK' : 'NOT READY');
  } else if (req.url === '/health/liveness') {
    res.writeHead(200).end('OK');
  } else if (req.url === '/metrics') {
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  } else {
    res.writeHead(404).end();
  }
});
await new Promise<void>((r) => server.listen(Number(values.port), '127.0.0.1', r));
console.log(
  JSON.stringify({ dispatcher: { port: (server.address() as AddressInfo).port, sources: sources.map((s) => s.name) } }),
);

await dispatcher.start();
await dispatcher.ready();
ready = true;
logger.info({ sources: sources.length }, 'dispatcher ready');

let stopping: Promise<void> | undefined;
function stop(reason: string, code = 0): Promise<void> {
  stopping ??= (async () => {
    logger.info({ reason, code }, 'dispatcher stopping');
    ready = false;
    await dispatcher.stop();
    await producer.disconnect();
    server.close();
    process.exit(code);
  })();
  return stopping;
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
