/**
 * Serves a function module over HTTP the way the Knative Node runtime (faas-js-runtime)
 * does: CloudEvents in binary and structured mode at `/`, `/health/readiness`,
 * `/health/liveness`, `/metrics`, a 1 MiB body limit, `err.code` as the status of a thrown
 * error, and faas-js-runtime's mapping of return values. Beyond it: a malformed event gets
 * 400 with a JSON reason (not a 500), a failure carries its code, reason and disposition
 * in `kne-` headers (so they reach a dead-letter record, and the local dispatcher acts on the
 * disposition), a failed event's status is the one Knative treats as that disposition
 * (errors.ts eventStatus), per-function metrics share `/metrics`, and
 * SIGTERM drains in-flight requests before exit (faas-js-runtime exits without waiting).
 */
import { CONSTANTS, CloudEvent, HTTP } from 'cloudevents';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { env, envInt } from '../config.ts';
import type { ErrorObject } from 'ajv';
import { describeErrors } from '../contracts/validation.ts';
import {
  ERROR_HEADERS,
  StreamForgeError,
  dispositionOfStatus,
  eventStatus,
  toStreamForgeError,
  type Disposition,
} from '../errors.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { createFunctionMetrics, type FunctionMetrics } from '../telemetry/metrics.ts';
import type { Context, FunctionModule, FunctionRuntimeInfo, HandlerResult } from './function-module.ts';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan, valueNestsDeeperThan } from './json-depth.ts';

export interface ServeOptions {
  name: string;
  port?: number;
  host?: string;
  bodyLimit?: number;
  logger?: Logger;
  metrics?: FunctionMetrics;
}

export interface RunningFunction {
  app: FastifyInstance;
  url: string;
  port: number;
  info: FunctionRuntimeInfo;
  /** Stops taking requests, waits for those in flight, then runs the module's shutdown. */
  close(): Promise<void>;
}

function isCloudEventInstance(value: unknown): value is CloudEvent<unknown> {
  return (
    value instanceof CloudEvent ||
    (typeof value === 'object' && value !== null && value.constructor?.name === 'CloudEvent')
  );
}

function replyWith(reply: FastifyReply, result: HandlerResult): FastifyReply {
  if (result === undefined || result === null || result === '') return reply.code(204).type('text/plain').send();
  if (typeof result === 'string') return reply.code(200).type('text/plain; charset=utf-8').send(result);
  if (isCloudEventInstance(result)) {
    const message = HTTP.binary(result);
    return reply
      .code(200)
      .headers(message.headers as Record<string, string>)
      .send(message.body);
  }
  const structured = result as { statusCode?: number; headers?: Record<string, string>; body?: unknown };
  if (structured.headers !== undefined || structured.body !== undefined) {
    if (structured.headers) for (const [k, v] of Object.entries(structured.headers)) reply.header(k.toLowerCase(), v);
    reply.code(structured.statusCode ?? 200);
    return reply.send(structured.body ?? '');
  }
  return reply
    .code(structured.statusCode ?? 200)
    .type('application/json; charset=utf-8')
    .send(result);
}

/** A failed request's answer: its status, and the disposition its headers name. */
interface Failure {
  error: StreamForgeError;
  status: number;
  disposition: Disposition;
}

/**
 * A StreamForgeError answers with its code's status, or for an event the status Knative treats
 * as its disposition says (eventStatus). Anything else thrown is SF_INTERNAL, unless it carries
 * a numeric `code`, which faas-js-runtime answers as the status: then Knative judges by that
 * status alone, and the disposition header says the same.
 */
function failureOf(thrown: unknown, asEvent: boolean): Failure {
  if (StreamForgeError.is(thrown))
    return {
      error: thrown,
      status: asEvent ? eventStatus(thrown.code) : thrown.status,
      disposition: thrown.disposition,
    };
  const error = toStreamForgeError(thrown);
  const code = (thrown as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number' && code >= 400 && code < 600)
    return { error, status: code, disposition: dispositionOfStatus(code) };
  return { error, status: error.status, disposition: error.disposition };
}

function sendError(reply: FastifyReply, thrown: unknown, log: Logger, asEvent = false): FastifyReply {
  const { error, status, disposition } = failureOf(thrown, asEvent);
  if (status >= 500) log.error({ err: thrown }, 'handler failed');
  else log.warn({ code: error.code, reason: error.message }, 'request rejected');
  // Knative copies a sink's kne-* response headers onto the dead-letter event as extensions;
  // the local dispatcher acts on the disposition named here (dispositionOfResponse).
  // Well-formed first: a reason may quote half a surrogate pair (V8's JSON.parse messages do,
  // and so may a cut at 512), which encodeURIComponent refuses with a URIError.
  reply.header(ERROR_HEADERS.code, error.code);
  reply.header(ERROR_HEADERS.reason, encodeURIComponent(error.message.slice(0, 512).toWellFormed()));
  reply.header(ERROR_HEADERS.disposition, disposition);
  reply.header(ERROR_HEADERS.retryable, String(disposition === 'retry'));
  return reply.code(status).type('application/json; charset=utf-8').send(error.toJSON());
}

/**
 * A JSON body nested deeper than any event or request is refused before anything walks it
 * recursively (json-depth.ts). It is measured once parsed: the walk costs a tenth of a pass
 * over the text, which cost as much as the parse.
 */
function tooDeep(): StreamForgeError {
  return new StreamForgeError(
    'SF_EVENT_MALFORMED',
    `request body nests JSON objects or arrays more than ${MAX_JSON_DEPTH} levels deep`,
  );
}

function tooDeepValue(value: unknown): StreamForgeError | undefined {
  return valueNestsDeeperThan(value, MAX_JSON_DEPTH) ? tooDeep() : undefined;
}

/** For JSON text that did not parse here: refused as too deep all the same, as when text was measured before the parse. */
function tooDeepText(text: string | undefined): StreamForgeError | undefined {
  return text !== undefined && jsonNestsDeeperThan(text, MAX_JSON_DEPTH) ? tooDeep() : undefined;
}

/**
 * How deep the event's JSON body nests. A structured or batch body is the event itself (the
 * SDK's modes go by the same content-type prefix); a binary one is its data. Data the SDK left
 * as a string (a content type it has no parser for, a dead letter taken as text) is measured
 * as text, since a handler may parse it.
 */
function tooDeepEvent(event: CloudEvent<unknown>, headers: Record<string, string>, jsonText: string) {
  if (typeof event.data === 'string') return tooDeepText(jsonText);
  const structured = (headers['content-type'] ?? '').startsWith(CONSTANTS.MIME_CE);
  return tooDeepValue(structured ? event : event.data);
}

/**
 * A dead letter (Knative names the failed destination in `knativeerrordest`) is the event as it
 * failed: a body that is not the JSON its content type claims is taken as text, marked
 * `streamforgebodytext` with the type it claimed, so whose work it was is still recorded and a
 * replay sends the bytes back.
 */
function eventOf(headers: Record<string, string>, body: string | undefined): CloudEvent<unknown> | undefined {
  const event = asEvent(headers, body);
  if (event !== undefined || headers['ce-knativeerrordest'] === undefined) return event;
  return asEvent({ ...headers, 'content-type': 'text/plain' }, body)?.cloneWith({
    streamforgebodytext: headers['content-type'] ?? 'unknown',
  });
}

/**
 * The message as an event, or undefined when it is none. The SDK's `HTTP.isEvent` is a whole
 * `toEvent` whose error it drops, so asking it first parsed every body twice (a data batch
 * of 1000 rows: about 0.45 ms a parse).
 */
function asEvent(headers: Record<string, string>, body: string | undefined): CloudEvent<unknown> | undefined {
  try {
    return HTTP.toEvent({ headers, body }) as CloudEvent<unknown>;
  } catch {
    return undefined;
  }
}

/** `jsonText` is the body when its content type says JSON: too deep, it is refused before the event is validated. */
function parseCloudEvent(request: FastifyRequest, jsonText: string | undefined): CloudEvent<unknown> | undefined {
  const headers = request.headers as Record<string, string>;
  const body =
    typeof request.body === 'string' ? request.body : request.body === undefined ? undefined : String(request.body);
  const malformed = (error: unknown) =>
    new StreamForgeError('SF_EVENT_MALFORMED', `not a valid CloudEvent: ${(error as Error).message}`, {
      cause: error,
    });
  let event: CloudEvent<unknown> | undefined;
  try {
    event = eventOf(headers, body);
  } catch (error) {
    throw tooDeepText(jsonText) ?? malformed(error);
  }
  if (event === undefined) return undefined;
  const deep = jsonText === undefined ? undefined : tooDeepEvent(event, headers, jsonText);
  if (deep) throw deep;
  try {
    event.validate();
    // The SDK lets a 0.3 event through without them; every CloudEvents version requires all three.
    for (const name of ['id', 'source', 'type'] as const)
      if (typeof event[name] !== 'string' || event[name] === '') throw new Error(`the ${name} attribute is required`);
    return event;
  } catch (error) {
    throw malformed(error);
  }
}

function plainBody(request: FastifyRequest, jsonText: string | undefined): unknown {
  const body = request.body;
  if (typeof body !== 'string' || body === '') return body;
  if ((request.headers['content-type'] ?? '').includes('json')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      throw (
        tooDeepText(jsonText) ??
        new StreamForgeError('SF_CONTRACT_INVALID', `request body is not valid JSON: ${(error as Error).message}`)
      );
    }
    const deep = tooDeepValue(value);
    if (deep) throw deep;
    return value;
  }
  // A JSON type spelled in capitals stays text here.
  const deep = tooDeepText(jsonText);
  if (deep) throw deep;
  return body;
}

export async function serveFunction(module: FunctionModule, options: ServeOptions): Promise<RunningFunction> {
  const logger = options.logger ?? createLogger({ service: options.name });
  const metrics =
    options.metrics ?? createFunctionMetrics({ service: options.name, instance: env('POD_NAME') || undefined });
  const info: FunctionRuntimeInfo = { name: options.name, logger, metrics };
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? envInt('FUNC_BODY_LIMIT'),
    logger: false,
    return503OnClosing: true,
    // Fastify's default ajv silently drops unknown fields; a boundary must refuse them, and name them all.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  let ready = false;
  let closing = false;
  // A request answered while draining closes its connection: a kept-alive one (the dispatcher's,
  // Knative's queue-proxy's) would otherwise hold app.close() until the keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  // Common HTTP clients send `content-type: application/json` with no body on a POST that
  // needs none (a stop): that is no body, not malformed JSON. Anything else parses as before.
  const json = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    json(request, body as string, (error, value) => {
      if (error) return done(tooDeepText(body as string) ?? error, undefined);
      const deep = tooDeepValue(value);
      if (deep) return done(deep, undefined);
      done(null, value);
    });
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) {
      // A route's JSON Schema said no: name each field and the reason, as every boundary does.
      const errors = describeErrors(error.validation as ErrorObject[]).map((e) => ({
        ...e,
        field: `${error.validationContext ?? 'body'}.${e.field}`.replace('.(root)', ''),
      }));
      const message = errors.map((e) => `${e.field}: ${e.reason}`).join('; ');
      return sendError(reply, new StreamForgeError('SF_CONTRACT_INVALID', message, { details: { errors } }), logger);
    }
    const status = error.statusCode;
    if (status === 413)
      return sendError(
        reply,
        new StreamForgeError(
          'SF_EVENT_TOO_LARGE',
          `request body is larger than the ${app.initialConfig.bodyLimit}-byte limit`,
        ),
        logger,
      );
    if (status !== undefined && status >= 400 && status < 500)
      return sendError(reply, new StreamForgeError('SF_CONTRACT_INVALID', error.message), logger);
    return sendError(reply, error, logger);
  });

  const invoke = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const started = process.hrtime.bigint();
    let type = 'http';
    let log = logger;
    let isEvent = false;
    try {
      const jsonText =
        typeof request.body === 'string' && /json/i.test(request.headers['content-type'] ?? '')
          ? request.body
          : undefined;
      // Refused before `isEvent` is set: a too-deep body answers 400 whether or not it is an event.
      const event = parseCloudEvent(request, jsonText);
      if (event) {
        isEvent = true;
        type = event.type;
        if (event.subject) log = logger.child({ queue_id: event.subject });
      }
      const context: Context = {
        log,
        method: request.method,
        headers: request.headers,
        query: request.query as Record<string, unknown>,
        contentType: request.headers['content-type'],
        body: event ? undefined : plainBody(request, jsonText),
        cloudevent: event,
        metrics,
      };
      const result = await module.handle(context, event);
      metrics.eventsHandled.inc({ type, outcome: 'ok' });
      return replyWith(reply, result);
    } catch (error) {
      metrics.eventsHandled.inc({ type, outcome: failureOf(error, isEvent).status >= 500 ? 'failed' : 'rejected' });
      return sendError(reply, error, log, isEvent);
    } finally {
      metrics.handlerDuration.observe({ type }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  await app.register(async (scope) => {
    // Bodies at `/` stay strings: the CloudEvents SDK parses event data by its datacontenttype.
    // Encapsulated, so a module's REST routes keep fastify's JSON parser.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post('/', invoke);
    scope.get('/', invoke);
    scope.options('/', async (_req, reply) =>
      reply.code(204).header('access-control-allow-methods', 'GET, POST, OPTIONS').send(),
    );
  });
  app.get('/health/readiness', async (_req, reply) => {
    const ok = ready && !closing && (module.readiness ? await module.readiness() : true);
    return reply
      .code(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'OK' : 'NOT READY');
  });
  app.get('/health/liveness', async (_req, reply) => {
    const ok = module.liveness ? await module.liveness() : true;
    return reply
      .code(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'OK' : 'NOT LIVE');
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // init first: the routes of a REST function use what init connected.
  await module.init?.(info);
  if (module.routes) await module.routes(app, info);
  const port = options.port ?? envInt('FUNC_PORT');
  await app.listen({ port, host: options.host ?? env('FUNC_HOST') });
  const actualPort = (app.server.address() as AddressInfo).port;
  ready = true;
  logger.info({ port: actualPort }, 'function ready');

  return {
    app,
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    info,
    async close() {
      if (closing) return;
      closing = true;
      await app.close();
      await module.shutdown?.();
    },
  };
}
