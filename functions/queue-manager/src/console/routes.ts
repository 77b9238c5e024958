/**
 * The operator console, served by the manager beside its API:
 *
 *   GET /console             the page (plain HTML and CSS; its script is client/*.ts, bundled into app.js)
 *   GET /console/stream      Server-Sent Events: a snapshot, then every workflow change
 *   GET /platform/status     the local platform's instances, lag and scaling decisions (proxy)
 *
 * The page itself holds no data and is open; the stream and the proxy sit behind the API's
 * bearer token like every API route. EventSource cannot send an Authorization header, so
 * the page reads the stream with fetch() (a ReadableStream), which can: the token never
 * travels in a URL, where logs and proxies would keep it, and no second credential (a
 * ticket) has to be minted, signed and shared between manager instances.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamForgeError } from '@streamforge/core/errors';
import type { BusConnection } from '@streamforge/core/bus';
import type { Store, WorkflowRecord } from '@streamforge/core/store';
import type { Logger, Registry } from '@streamforge/core/telemetry';
import { tokenMatches } from '../api.ts';
import type { Manager } from '../manager.ts';
import { startEventTail, type EventTail } from './event-tail.ts';
import type { ConsoleClient, WorkflowHub } from './hub.ts';
import { CONSOLE_HTML, CONSOLE_ICON, CONSOLE_STYLES } from './page.ts';
import { fetchPlatformStatus, platformStatusSchema, watchPlatform, type PlatformStatus } from './platform.ts';

export interface ConsoleOptions {
  manager: Manager;
  store: Store;
  hub: WorkflowHub;
  token: string;
  logger: Logger;
  /** Kafka for the event tail (updates applied by other manager instances); none: this instance's changes only. */
  connection?: BusConnection;
  registry?: Registry;
}

// Bundled and committed by `make console` (scripts/build-console.ts): the image has no esbuild
// to build it, and a file read this way next to its module travels into the image.
const CONSOLE_SCRIPT = readFileSync(new URL('./app.js', import.meta.url), 'utf8');

const KEEPALIVE_MS = 15_000;
/** A browser this far behind is dropped; it reconnects and starts from a fresh snapshot. */
const MAX_BUFFERED_BYTES = 8 * 1_048_576;

function sseClient(res: ServerResponse): ConsoleClient {
  return {
    send(event, data) {
      if (res.destroyed || res.writableEnded) return false;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.end();
        return false;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    },
    close: () => {
      if (!res.writableEnded) res.end();
    },
  };
}

export async function registerConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { manager, hub, token, logger } = options;
  let platform: PlatformStatus | undefined;
  const watch = watchPlatform((status) => {
    platform = status;
    hub.broadcast('platform', { available: status !== undefined, status: status ?? null });
  }, logger);

  const snapshot = async (
    limit: number,
  ): Promise<{ workflows: WorkflowRecord[]; platform: { available: boolean; status: PlatformStatus | null } }> => ({
    workflows: await manager.listWorkflows({ limit }),
    platform: { available: platform !== undefined, status: platform ?? null },
  });

  let tail: Promise<EventTail | undefined> | undefined;
  const startTail = () => {
    if (tail || !options.connection) return;
    tail = startEventTail({
      connection: options.connection,
      store: options.store,
      hub,
      logger,
      ...(options.registry ? { registry: options.registry } : {}),
      // Changes other instances made while the tail was joining were not seen: resend.
      onJoined: () =>
        void snapshot(200).then(
          (s) => hub.broadcast('snapshot', s),
          () => undefined,
        ),
    }).catch((error: unknown) => {
      logger.warn({ err: error }, 'console event tail failed to start; the next browser retries');
      tail = undefined;
      return undefined;
    });
  };
  hub.onFirstClient(() => {
    startTail();
    watch.start();
  });
  hub.onLastClientGone(() => watch.stop());
  // Open streams would hold the server open: end them before it closes (SIGTERM drain).
  app.addHook('preClose', async () => {
    watch.stop();
    hub.closeAll();
    await (await tail)?.stop();
  });

  const page =
    (type: string, body: string, headers: Record<string, string> = {}) =>
    async (_request: FastifyRequest, reply: FastifyReply) => {
      return reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .headers(headers)
        .send(body);
    };
  // The page loads only its own script and styles and talks only to its own origin.
  const csp =
    "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'";
  app.get(
    '/console',
    { schema: { hide: true } },
    page('text/html; charset=utf-8', CONSOLE_HTML, { 'content-security-policy': csp }),
  );
  app.get('/console/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('../console'));
  app.get('/console/app.js', { schema: { hide: true } }, page('text/javascript; charset=utf-8', CONSOLE_SCRIPT));
  app.get('/console/app.css', { schema: { hide: true } }, page('text/css; charset=utf-8', CONSOLE_STYLES));
  app.get('/console/icon.svg', { schema: { hide: true } }, page('image/svg+xml', CONSOLE_ICON));

  await app.register(async (api) => {
    if (token) {
      api.addHook('onRequest', async (request, reply) => {
        if (!tokenMatches(request.headers.authorization, token)) {
          const error = new StreamForgeError(
            'SF_UNAUTHORIZED',
            'a bearer token is required: Authorization: Bearer <STREAMFORGE_API_TOKEN>',
          );
          return reply.code(401).header('www-authenticate', 'Bearer').send(error.toJSON());
        }
      });
    }

    api.get<{ Querystring: { limit: number } }>(
      '/console/stream',
      {
        schema: {
          summary: 'Live workflow changes as Server-Sent Events (text/event-stream)',
          description:
            'First `snapshot` ({workflows, platform}), then `workflow` (a workflow record, each version once) and `platform` (local platform status) as they change. Send the bearer token in the Authorization header (read with fetch, not EventSource).',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } },
          },
        },
      },
      async (request, reply) => {
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // Proxies (nginx, Knative's queue-proxy behind an ingress) must not buffer the stream.
          'x-accel-buffering': 'no',
        });
        res.write('retry: 2000\n\n');
        const client = sseClient(res);
        // Subscribe before reading the snapshot: a change in between arrives twice, never not
        // at all (the page keeps the higher version).
        const unsubscribe = hub.subscribe(client);
        const keepalive = setInterval(() => {
          if (!res.writableEnded) res.write(': keepalive\n\n');
        }, KEEPALIVE_MS);
        res.once('close', () => {
          clearInterval(keepalive);
          unsubscribe();
        });
        try {
          client.send('snapshot', await snapshot(request.query.limit));
        } catch (error) {
          client.send('failure', { message: `snapshot failed: ${(error as Error).message}` });
          client.close();
        }
        return reply;
      },
    );

    api.get(
      '/platform/status',
      {
        schema: {
          summary: "The local platform's instances per function, lag per KafkaSource and recent scaling decisions",
          description:
            'Proxied from the supervisor (STREAMFORGE_PLATFORM_URL); 404 when no platform is configured, 503 when it does not answer.',
          response: { 200: platformStatusSchema },
        },
      },
      async () => fetchPlatformStatus(),
    );
  });
}
