/**
 * A function's stable address on the local platform, what Knative's activator and
 * queue-proxy are in a cluster: it holds requests while the function scales from zero,
 * then forwards each to an instance. A request from a KafkaSource names its partition
 * (`ce-knativekafkapartition`); partition p goes to instance p mod n, so a source's
 * partitions spread over the live instances, and because the dispatcher sends a partition's
 * records one at a time when ordered, their order holds however instances come and go.
 * An instance that breaks mid-request is evicted and the request answered 503, which the
 * dispatcher retries on another instance: nothing is lost.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Logger } from '@streamforge/core/telemetry';
import type { FunctionPool, Instance } from './function-pool.ts';

export interface Activator {
  url: string;
  port: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);

/**
 * The partition's instance when it has room; otherwise the least busy one with room (order
 * does not need stickiness: the dispatcher sends a partition's records one at a time).
 * Undefined when every instance is at its concurrency limit.
 */
function pick(pool: FunctionPool, partitionHeader: string | string[] | undefined): Instance | undefined {
  const ready = pool.routable();
  const hasRoom = (i: Instance) => pool.concurrency === 0 || i.inFlight < pool.concurrency;
  const partition = Number(Array.isArray(partitionHeader) ? partitionHeader[0] : partitionHeader);
  if (Number.isInteger(partition) && partition >= 0 && ready.length > 0) {
    const own = ready[partition % ready.length]!;
    if (hasRoom(own)) return own;
  }
  const free = ready.filter(hasRoom);
  return free.length === 0 ? undefined : free.reduce((best, i) => (i.inFlight < best.inFlight ? i : best));
}

function unavailable(res: ServerResponse, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: 'SF_DEPENDENCY_UNAVAILABLE', message });
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' }).end(body);
}

export async function startActivator(
  pool: FunctionPool,
  options: { port?: number; logger: Logger },
): Promise<Activator> {
  const upstreams = new Map<string, Pool>();
  const upstream = (instance: Instance): Pool => {
    // Instances come and go: drop the connections of the ones no longer in the pool.
    if (upstreams.size > pool.instances().length) {
      const alive = new Set(pool.instances().map((i) => i.id));
      for (const [id, client] of upstreams) {
        if (!alive.has(id)) {
          upstreams.delete(id);
          client.close().catch(() => undefined);
        }
      }
    }
    let client = upstreams.get(instance.id);
    if (!client) {
      client = new Pool(instance.url, {
        connections: 128,
        keepAliveTimeout: 10_000,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      upstreams.set(instance.id, client);
    }
    return client;
  };

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that goes away (a closed browser tab on a console stream) ends the upstream
    // request at once: it frees the instance's slot and its stream instead of holding them
    // until the instance itself ends the response, which for a stream is never.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    // No instance: start one (scale from zero). Every instance at its concurrency limit: hold
    // the request until one has room, as Knative's activator buffers requests (the autoscaler
    // adds instances meanwhile).
    let instance = pick(pool, req.headers['ce-knativekafkapartition']);
    while (!instance && !gone.signal.aborted) {
      if (pool.routable().length === 0) {
        try {
          await pool.ensureOne();
        } catch (error) {
          unavailable(res, `${pool.name}: ${(error as Error).message}`);
          return;
        }
      } else {
        await pool.room();
      }
      instance = pick(pool, req.headers['ce-knativekafkapartition']);
    }
    if (!instance) return; // the client left while its request was held
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    const target = instance;
    await pool.track(target, async () => {
      try {
        if (gone.signal.aborted) return;
        const response = await upstream(target).request({
          method: req.method as 'GET',
          path: req.url ?? '/',
          headers,
          body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
          signal: gone.signal,
        });
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(response.headers))
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        res.writeHead(response.statusCode, out);
        for await (const chunk of response.body) res.write(chunk);
        res.end();
      } catch (error) {
        if (gone.signal.aborted) return; // the client left: nothing to answer, the instance is fine
        // The instance broke (crashed, killed): take it out and let the caller retry elsewhere.
        options.logger.warn(
          { function: pool.name, instance: target.id, err: (error as Error).message },
          'instance failed a request; evicted',
        );
        pool.evict(target);
        upstreams
          .get(target.id)
          ?.destroy()
          .catch(() => undefined);
        upstreams.delete(target.id);
        unavailable(res, `${target.id} failed the request: ${(error as Error).message}`);
      }
    });
  }

  const server: Server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    forward(req, res).catch((error: unknown) => unavailable(res, (error as Error).message));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...upstreams.values()].map((c) => c.close().catch(() => undefined)));
    },
  };
}
