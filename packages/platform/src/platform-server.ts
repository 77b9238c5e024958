/**
 * The local platform's own HTTP endpoint (the supervisor's): `/status` with the instances
 * of every function, each KafkaSource's lag and the recent scaling decisions (read by
 * `streamforge ps` and the console), `/metrics` in Prometheus format, `/health/readiness`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from '@streamforge/core/telemetry';
import type { Autoscaler } from './autoscaler.ts';
import type { FunctionPool } from './function-pool.ts';

export interface PlatformStatusDocument {
  functions: Array<{
    name: string;
    url: string;
    min_scale: number;
    max_scale: number;
    instances: Array<{
      id: string;
      pid: number | undefined;
      url: string;
      state: string;
      started_at: string;
      in_flight: number;
      cold_start_ms?: number;
    }>;
  }>;
  sources: ReturnType<Autoscaler['sources']>;
  decisions: ReturnType<Autoscaler['decisions']>;
}

export interface PlatformServerOptions {
  registry: Registry;
  pools: () => Map<string, FunctionPool>;
  activatorUrls: () => Map<string, string>;
  autoscaler: () => Autoscaler | undefined;
  ready: () => boolean;
}

export interface PlatformServer {
  url: string;
  close(): Promise<void>;
}

export function platformStatus(options: PlatformServerOptions): PlatformStatusDocument {
  const urls = options.activatorUrls();
  return {
    functions: [...options.pools().values()].map((pool) => ({
      name: pool.name,
      url: urls.get(pool.name) ?? '',
      min_scale: pool.min,
      max_scale: pool.max,
      instances: pool.instances().map((i) => ({
        id: i.id,
        pid: i.pid,
        url: i.url,
        state: i.state,
        started_at: new Date(i.startedAt).toISOString(),
        in_flight: i.inFlight,
        ...(i.coldStartMs === undefined ? {} : { cold_start_ms: Math.round(i.coldStartMs) }),
      })),
    })),
    sources: options.autoscaler()?.sources() ?? [],
    decisions: options.autoscaler()?.decisions() ?? [],
  };
}

export async function startPlatformServer(options: PlatformServerOptions): Promise<PlatformServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/status') {
      res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify(platformStatus(options)));
    } else if (path === '/metrics') {
      void options.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text));
    } else if (path === '/health/readiness') {
      res.writeHead(options.ready() ? 200 : 503).end(options.ready() ? 'OK' : 'NOT READY');
    } else if (path === '/health/liveness') {
      res.writeHead(200).end('OK');
    } else {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'SF_NOT_FOUND', message: `no route ${path}; try /status or /metrics` }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
