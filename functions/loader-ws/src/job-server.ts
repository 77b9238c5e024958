/**
 * The Job's own small HTTP server: `/metrics` for Prometheus (a PodMonitor scrapes Jobs as
 * it scrapes functions) and health routes for the pod's probes. Liveness holds while the
 * process runs; readiness once the streams are subscribed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, createRegistry } from '@streamforge/core/telemetry';
import type { LiveLoader } from './live-loader.ts';

export interface JobServer {
  port: number;
  close(): Promise<void>;
}

export async function startJobServer(loader: LiveLoader, port: number, queueId: string): Promise<JobServer> {
  const registry = createRegistry({ service: 'loader-ws', instance: queueId });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  // Running totals of this Job, read at scrape time (Gauges with collect: the loader owns the
  // counts), from one snapshot per scrape: stats() sorts the latency samples.
  let snapshot: ReturnType<LiveLoader['stats']> | undefined;
  const stats = () => (snapshot ??= loader.stats());
  gauge('streamforge_ws_messages_received', 'Stream messages received by this Job.', () => stats().messages);
  gauge('streamforge_ws_records_published', 'Records acknowledged by Kafka.', () => stats().records_published);
  gauge('streamforge_ws_records_queued', 'Records waiting for the next send.', () => stats().queued);
  gauge('streamforge_ws_gaps_found', 'Gaps in the streams found so far.', () => stats().gaps_found);
  gauge('streamforge_ws_gaps_filled', 'Gaps handed to or fetched from the REST API.', () => stats().gaps_filled);
  gauge('streamforge_ws_reconnects', 'Unplanned reconnects of the stream connections.', () => stats().reconnects);
  gauge(
    'streamforge_ws_event_to_ack_p99_seconds',
    'p99 of the time from the exchange event to the Kafka acknowledgement.',
    () => (stats().latency_ms.p99 ?? 0) / 1000,
  );

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      snapshot = undefined;
      void registry.metrics().then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text));
    } else if (path === '/health/liveness') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
    } else if (path === '/health/readiness') {
      res
        .writeHead(loader.connected ? 200 : 503, { 'Content-Type': 'text/plain' })
        .end(loader.connected ? 'OK' : 'connecting');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
