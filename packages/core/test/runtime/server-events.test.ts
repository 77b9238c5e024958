/**
 * The function runtime at `/` as a KafkaSource and an HTTP caller meet it: a function module
 * served on a free port, called with fetch. CloudEvents in binary and structured mode, the
 * replies a handler's return maps to (faas-js-runtime's mapping), thrown errors, refused
 * bodies, the health probes, and a shutdown that lets a request in flight finish.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent } from 'cloudevents';
import { ERROR_CODES, StreamForgeError, eventStatus, type ErrorCode } from '../../src/errors.ts';
import { serveFunction, type RunningFunction, type ServeOptions } from '../../src/runtime/server.ts';
import type { Context, FunctionModule, HandlerResult } from '../../src/runtime/function-module.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { waitFor } from '@streamforge/testing';

async function serve(
  t: TestContext,
  module: FunctionModule,
  options: Partial<ServeOptions> = {},
): Promise<RunningFunction> {
  const running = await serveFunction(module, {
    name: 'runtime-events-test',
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ service: 'runtime-events-test', level: 'silent' }),
    ...options,
  });
  t.after(() => running.close());
  return running;
}

/** What a handler was called with. */
interface Call {
  event: CloudEvent<unknown> | undefined;
  context: Context;
}

function recorder(
  reply: (call: Call) => HandlerResult | Promise<HandlerResult> = () => undefined,
): FunctionModule & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    handle: (context, event) => {
      const call = { event, context };
      calls.push(call);
      return reply(call);
    },
  };
}

const BINARY_HEADERS = {
  'ce-specversion': '1.0',
  'ce-id': 'evt-1',
  'ce-source': '/streamforge/loader-api',
  'ce-type': 'dev.streamforge.data.klines',
  'ce-subject': 'wf-btcusdt-api_candles_1h-20220907-a1b2c3',
  'ce-time': '2022-09-07T00:00:00.000Z',
  'ce-partitionkey': 'BTCUSDT:0',
  'content-type': 'application/json',
};

/** A binary-mode CloudEvent, as the dispatcher POSTs it. */
const postBinary = (running: RunningFunction, data: unknown, headers: Record<string, string> = {}) =>
  fetch(`${running.url}/`, { method: 'POST', headers: { ...BINARY_HEADERS, ...headers }, body: JSON.stringify(data) });

test('a binary-mode CloudEvent reaches the handler with its attributes, extensions and parsed data; nothing returned is 204', async (t) => {
  const module = recorder();
  const running = await serve(t, module);

  const response = await postBinary(running, { rows: [[1662508800000, '18790.61000000']] });

  assert.equal(response.status, 204);
  assert.equal(await response.text(), '');
  assert.equal(module.calls.length, 1);
  const { event, context } = module.calls[0]!;
  assert.deepEqual(
    {
      id: event!.id,
      source: event!.source,
      type: event!.type,
      subject: event!.subject,
      time: event!.time,
      specversion: event!.specversion,
      datacontenttype: event!.datacontenttype,
      partitionkey: event!.partitionkey,
    },
    {
      id: 'evt-1',
      source: '/streamforge/loader-api',
      type: 'dev.streamforge.data.klines',
      subject: 'wf-btcusdt-api_candles_1h-20220907-a1b2c3',
      time: '2022-09-07T00:00:00.000Z',
      specversion: '1.0',
      datacontenttype: 'application/json',
      partitionkey: 'BTCUSDT:0',
    },
  );
  assert.deepEqual(event!.data, { rows: [[1662508800000, '18790.61000000']] });
  assert.equal(context.cloudevent, event);
  assert.equal(context.body, undefined, "an event's data is in the event, not in the body");
  assert.equal(context.method, 'POST');
});

test('a structured-mode CloudEvent reaches the handler as the same event', async (t) => {
  const module = recorder();
  const running = await serve(t, module);
  const structured = {
    specversion: '1.0',
    id: 'evt-2',
    source: '/streamforge/queue-manager',
    type: 'dev.streamforge.command',
    subject: 'wf-a',
    datacontenttype: 'application/json',
    data: { command: 'stop' },
  };

  const response = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(structured),
  });

  assert.equal(response.status, 204);
  const event = module.calls[0]!.event!;
  assert.deepEqual(
    { id: event.id, source: event.source, type: event.type, subject: event.subject, data: event.data },
    {
      id: 'evt-2',
      source: '/streamforge/queue-manager',
      type: 'dev.streamforge.command',
      subject: 'wf-a',
      data: { command: 'stop' },
    },
  );
});

test('a plain HTTP call reaches the handler without an event, its JSON body parsed and its query read', async (t) => {
  const module = recorder();
  const running = await serve(t, module);

  const response = await fetch(`${running.url}/?symbol=BTCUSDT`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"ping":1}',
  });

  assert.equal(response.status, 204);
  const { event, context } = module.calls[0]!;
  assert.equal(event, undefined);
  assert.deepEqual(context.body, { ping: 1 });
  assert.deepEqual({ ...context.query }, { symbol: 'BTCUSDT' });
});

test('what a handler returns is the reply: nothing 204, a string 200 text, an object 200 JSON, a structured reply its own status, headers and body', async (t) => {
  const replies: Record<string, HandlerResult> = {
    undefined: undefined,
    null: null,
    empty: '',
    string: 'pong',
    object: { accepted: 3, symbols: ['BTCUSDT'] },
    structured: { statusCode: 201, headers: { 'X-Queue-Id': 'wf-a', 'Content-Type': 'text/csv' }, body: 'a,b\n1,2\n' },
    headersOnly: { headers: { 'x-only': 'yes' } },
  };
  const running = await serve(
    t,
    recorder(({ event }) => replies[(event!.data as { reply: string }).reply]),
  );
  const call = async (reply: string) => {
    const response = await postBinary(running, { reply });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      headers: response.headers,
      body: await response.text(),
    };
  };

  for (const nothing of ['undefined', 'null', 'empty']) {
    const { status, body } = await call(nothing);
    assert.deepEqual([status, body], [204, ''], nothing);
  }
  const text = await call('string');
  assert.deepEqual([text.status, text.type, text.body], [200, 'text/plain; charset=utf-8', 'pong']);
  const object = await call('object');
  assert.deepEqual(
    [object.status, object.type, JSON.parse(object.body)],
    [200, 'application/json; charset=utf-8', { accepted: 3, symbols: ['BTCUSDT'] }],
  );
  const structured = await call('structured');
  assert.deepEqual(
    [structured.status, structured.type, structured.headers.get('x-queue-id'), structured.body],
    [201, 'text/csv', 'wf-a', 'a,b\n1,2\n'],
  );
  const headersOnly = await call('headersOnly');
  assert.deepEqual([headersOnly.status, headersOnly.headers.get('x-only'), headersOnly.body], [200, 'yes', '']);
});

test('a CloudEvent returned by the handler is the reply in binary mode', async (t) => {
  const reply = new CloudEvent({
    id: 'reply-1',
    source: '/streamforge/test',
    type: 'dev.streamforge.test.reply',
    subject: 'wf-a',
    datacontenttype: 'application/json',
    data: { ok: true },
  });
  const running = await serve(
    t,
    recorder(() => reply),
  );

  const response = await postBinary(running, {});

  assert.equal(response.status, 200);
  assert.equal(response.headers.get('ce-id'), 'reply-1');
  assert.equal(response.headers.get('ce-type'), 'dev.streamforge.test.reply');
  assert.equal(response.headers.get('ce-source'), '/streamforge/test');
  assert.equal(response.headers.get('ce-subject'), 'wf-a');
  assert.equal(response.headers.get('ce-specversion'), '1.0');
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await response.json(), { ok: true });
});

test("a thrown StreamForgeError answers its code's status with its code, message and details, and names both in kne- headers for the dead letter", async (t) => {
  // Codes that dead-letter (4xx) and codes that are retried (429, 5xx): an event gets its code's status.
  const thrown: Array<[ErrorCode, string, Record<string, unknown> | undefined]> = [
    ['SF_CONTRACT_INVALID', 'rows: must be an array', { field: 'rows' }],
    [
      'SF_EXCHANGE_REJECTED',
      'binance spot GET /api/v3/klines: Invalid symbol. (code -1121, HTTP 400)',
      { code: -1121 },
    ],
    ['SF_RATE_LIMITED', 'exchange weight budget: must wait 61 s', undefined],
    ['SF_DEPENDENCY_UNAVAILABLE', 'store unreachable: ECONNREFUSED', undefined],
  ];
  const running = await serve(
    t,
    recorder(({ event }) => {
      const [code, message, details] = thrown[(event!.data as { n: number }).n]!;
      throw new StreamForgeError(code, message, details ? { details } : {});
    }),
  );

  for (const [n, [code, message, details]] of thrown.entries()) {
    const response = await postBinary(running, { n });
    assert.equal(response.status, eventStatus(code), code);
    assert.equal(response.headers.get('kne-streamforgeerror'), code);
    assert.equal(response.headers.get('kne-streamforgedisposition'), ERROR_CODES[code].disposition, code);
    assert.equal(decodeURIComponent(response.headers.get('kne-streamforgereason') ?? ''), message);
    assert.deepEqual(await response.json(), details ? { error: code, message, details } : { error: code, message });
  }
});

test("a plain HTTP caller gets a thrown StreamForgeError's own status: an unknown workflow is 404", async (t) => {
  const running = await serve(
    t,
    recorder(() => {
      throw new StreamForgeError('SF_NOT_FOUND', 'workflow wf-a: not found');
    }),
  );

  const response = await fetch(`${running.url}/?queue_id=wf-a`);

  assert.equal(response.status, 404);
  assert.equal(response.headers.get('kne-streamforgeerror'), 'SF_NOT_FOUND');
  assert.deepEqual(await response.json(), { error: 'SF_NOT_FOUND', message: 'workflow wf-a: not found' });
});

test('any other thrown error is a 500 SF_INTERNAL with its message, unless it carries an HTTP status as its code', async (t) => {
  const running = await serve(
    t,
    recorder(({ event }) => {
      if ((event!.data as { teapot?: boolean }).teapot) throw Object.assign(new Error('I am a teapot'), { code: 418 });
      throw new TypeError('rows.map is not a function');
    }),
  );

  const crash = await postBinary(running, {});
  assert.equal(crash.status, 500);
  assert.deepEqual(await crash.json(), { error: 'SF_INTERNAL', message: 'rows.map is not a function' });
  const teapot = await postBinary(running, { teapot: true });
  assert.equal(teapot.status, 418);
});

test('a body over the limit is refused with 413 SF_EVENT_TOO_LARGE before the handler; a body exactly at the limit is handled', async (t) => {
  const module = recorder();
  const running = await serve(t, module, { bodyLimit: 2048 });
  const bodyOf = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - '{"pad":""}'.length) });

  const atLimit = await fetch(`${running.url}/`, { method: 'POST', headers: BINARY_HEADERS, body: bodyOf(2048) });
  assert.equal(atLimit.status, 204);
  const over = await fetch(`${running.url}/`, { method: 'POST', headers: BINARY_HEADERS, body: bodyOf(2049) });
  assert.equal(over.status, 413);
  assert.deepEqual(await over.json(), {
    error: 'SF_EVENT_TOO_LARGE',
    message: 'request body is larger than the 2048-byte limit',
  });
  assert.equal(over.headers.get('kne-streamforgeerror'), 'SF_EVENT_TOO_LARGE');
  assert.equal(module.calls.length, 1, 'only the event at the limit reached the handler');
});

test('a structured-mode event nested deeper than 64 levels is refused with 400 SF_EVENT_MALFORMED before the handler', async (t) => {
  const module = recorder();
  const running = await serve(t, module);
  const nested = (levels: number) =>
    JSON.stringify({
      specversion: '1.0',
      id: 'e',
      source: '/s',
      type: 't',
      data: JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`) as unknown,
    });

  const deep = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: nested(64),
  });
  assert.equal(deep.status, 400);
  assert.deepEqual(await deep.json(), {
    error: 'SF_EVENT_MALFORMED',
    message: 'request body nests JSON objects or arrays more than 64 levels deep',
  });
  // The envelope is one level: data 63 deep is 64 in all.
  const fine = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: nested(63),
  });
  assert.equal(fine.status, 204);
  assert.equal(module.calls.length, 1);
});

test('readiness and liveness answer 200 OK, or 503 with the reason when the module says it is not ready or not live', async (t) => {
  const healthy = await serve(t, recorder());
  const probe = async (running: RunningFunction, path: string) => {
    const response = await fetch(`${running.url}${path}`);
    return [response.status, await response.text()];
  };
  assert.deepEqual(await probe(healthy, '/health/readiness'), [200, 'OK']);
  assert.deepEqual(await probe(healthy, '/health/liveness'), [200, 'OK']);

  let ready = false;
  const starting = await serve(t, { ...recorder(), readiness: () => ready, liveness: async () => false });
  assert.deepEqual(await probe(starting, '/health/readiness'), [503, 'NOT READY']);
  assert.deepEqual(await probe(starting, '/health/liveness'), [503, 'NOT LIVE']);
  ready = true;
  assert.deepEqual(await probe(starting, '/health/readiness'), [200, 'OK']);
});

test('a handled event is counted on /metrics by type and outcome', async (t) => {
  const running = await serve(
    t,
    recorder(({ event }) => {
      if ((event!.data as { fail?: boolean }).fail) throw new StreamForgeError('SF_CONTRACT_INVALID', 'rows: required');
      return undefined;
    }),
  );
  await postBinary(running, {});
  await postBinary(running, { fail: true });

  const metrics = await (await fetch(`${running.url}/metrics`)).text();
  assert.match(
    metrics,
    /streamforge_events_handled_total\{[^}]*type="dev\.streamforge\.data\.klines"[^}]*outcome="ok"[^}]*\} 1/,
  );
  assert.match(
    metrics,
    /streamforge_events_handled_total\{[^}]*type="dev\.streamforge\.data\.klines"[^}]*outcome="rejected"[^}]*\} 1/,
  );
});

/** A function whose handler waits for the test to let it finish, recording what happens in order. */
function slowFunction(steps: string[]): FunctionModule & { finish(): void } {
  let release: () => void = () => undefined;
  return {
    handle: async () => {
      steps.push('handler started');
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      steps.push('handler finished');
      return 'done';
    },
    shutdown: () => {
      steps.push('module shut down');
    },
    finish: () => release(),
  };
}

test("close drains: a request in flight when shutdown begins gets its answer, new ones are turned away, and the module's shutdown runs last", async (t) => {
  const steps: string[] = [];
  const module = slowFunction(steps);
  const running = await serve(t, module);

  // `connection: close`: see the next test for a request on a connection kept alive.
  const inFlight = postBinary(running, {}, { connection: 'close' });
  await waitFor('the handler running', () => steps.includes('handler started'));
  const closed = running.close();

  // While draining, the instance is not ready; a new request is answered 503 or finds the port closed.
  const probe = await fetch(`${running.url}/health/readiness`).then(
    (response) => response.status,
    () => 'refused',
  );
  assert.ok(probe === 503 || probe === 'refused', `readiness while draining: ${probe}`);
  assert.deepEqual(steps, ['handler started'], 'the in-flight request still runs');

  module.finish();
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'done');
  await closed;
  assert.deepEqual(steps, ['handler started', 'handler finished', 'module shut down']);
});

test('close finishes once the last request in flight is answered on a connection kept alive, as the dispatcher and queue-proxy keep them', async (t) => {
  const steps: string[] = [];
  const module = slowFunction(steps);
  const running = await serve(t, module);

  const inFlight = postBinary(running, {});
  await waitFor('the handler running', () => steps.includes('handler started'));
  const closing = running.close();
  // Once the server stops listening, the request still in flight finishes.
  await waitFor('the port closed', () => !running.app.server.listening);
  module.finish();
  assert.equal((await inFlight).status, 200);

  await waitFor('the module shut down', () => steps.includes('module shut down'));
  await closing;
});
