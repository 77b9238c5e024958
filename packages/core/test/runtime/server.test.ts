/**
 * The function runtime's HTTP boundary for a module's own REST routes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { serveFunction } from '../../src/runtime/server.ts';
import { ERROR_HEADERS, StreamForgeError, dispositionOfResponse } from '../../src/errors.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import type { FunctionModule } from '../../src/runtime/function-module.ts';

const module: FunctionModule = {
  handle: () => undefined,
  routes(app) {
    app.post('/things/:id/stop', async (request) => ({
      stopped: (request.params as { id: string }).id,
      body: request.body ?? null,
    }));
  },
};

/** The module served on a free port, closed after the test. */
async function serve(t: TestContext, served: FunctionModule = module, bodyLimit?: number) {
  const running = await serveFunction(served, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
    ...(bodyLimit === undefined ? {} : { bodyLimit }),
  });
  t.after(() => running.close());
  return running;
}

/** The answer is a 400; its error body. */
async function refusedWith400(response: Response): Promise<{ error: string; message: string }> {
  assert.equal(response.status, 400);
  return (await response.json()) as { error: string; message: string };
}

/** A POST of `body` to the function's CloudEvent route, with these headers. */
const postEvent = (url: string, headers: Record<string, string>, body: string) =>
  fetch(`${url}/`, { method: 'POST', headers, body });

test('a bodiless POST with a JSON content type is accepted; a malformed body is refused with the reason', async (t) => {
  const running = await serve(t);
  const post = (body: string | undefined) =>
    fetch(`${running.url}/things/a1/stop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });

  const empty = await post(undefined);
  assert.equal(empty.status, 200);
  assert.deepEqual(await empty.json(), { stopped: 'a1', body: null });

  const withBody = await post('{"reason":"maintenance"}');
  assert.deepEqual(await withBody.json(), { stopped: 'a1', body: { reason: 'maintenance' } });

  const malformed = await post('{"reason":');
  const error = await refusedWith400(malformed);
  assert.equal(error.error, 'SF_CONTRACT_INVALID');
  assert.match(error.message, /JSON/i);
});

test('a request refused with a reason that quotes half a character still answers 400 with the reason in its dead-letter header (found by cloudevent-fuzz)', async (t) => {
  const running = await serve(t);
  // V8's JSON.parse message for this body quotes '\ud800', half of the pair: encodeURIComponent threw, a 500.
  const response = await postEvent(
    running.url,
    { 'ce-specversion': '1.0', 'ce-type': 'dev.streamforge.telemetry', 'content-type': 'application/json' },
    '\u{10000}',
  );
  const error = await refusedWith400(response);
  assert.equal(error.error, 'SF_CONTRACT_INVALID');
  assert.match(
    decodeURIComponent(response.headers.get('kne-streamforgereason') ?? ''),
    /^request body is not valid JSON: Unexpected token '\uFFFD'/,
  );
});

test('a JSON body nested deeper than any event or request is refused with 400 before anything walks it (found by cloudevent-fuzz)', async (t) => {
  const running = await serve(t);
  const deep = `{"queue_id":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
  // A CloudEvent whose data would overflow the stack of whatever stores or checks it.
  const event = await postEvent(
    running.url,
    {
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-source': '/test',
      'ce-type': 'dev.streamforge.telemetry',
      'content-type': 'application/json',
    },
    deep,
  );
  assert.match(
    (await refusedWith400(event)).message,
    /^request body nests JSON objects or arrays more than 64 levels deep$/,
  );
  // A REST route's body alike.
  const rest = await fetch(`${running.url}/things/a1/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: deep,
  });
  assert.equal(rest.status, 400);
  assert.equal(((await rest.json()) as { error: string }).error, 'SF_EVENT_MALFORMED');
  // 64 levels are fine.
  const fine = await fetch(`${running.url}/things/a1/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `${'['.repeat(64)}${']'.repeat(64)}`,
  });
  assert.equal(fine.status, 200);
});

test('a body a million levels deep is refused with the same 400 at every door, parsed or not, and never reaches the handler', async (t) => {
  let handled = 0;
  const counting: FunctionModule = { ...module, handle: () => void handled++ };
  // The 1 MiB default holds half a million levels; a larger limit lets a million through to the check.
  const running = await serve(t, counting, 4 * 1024 * 1024);
  const levels = 1_000_000;
  const deep = `${'['.repeat(levels)}${']'.repeat(levels)}`;
  const event = {
    'ce-specversion': '1.0',
    'ce-id': 'e1',
    'ce-source': '/test',
    'ce-type': 'dev.streamforge.data.klines',
    'content-type': 'application/json',
  };
  const structured = `{"specversion":"1.0","id":"e1","source":"/test","type":"t","data":${deep}}`;
  const sent = {
    'a binary event': postEvent(running.url, event, deep),
    'a structured event': postEvent(running.url, { 'content-type': 'application/cloudevents+json' }, structured),
    'a batch of events': postEvent(
      running.url,
      { 'content-type': 'application/cloudevents-batch+json' },
      `[${structured}]`,
    ),
    'a dead letter': postEvent(running.url, { ...event, 'ce-knativeerrordest': 'http://arango-connector/' }, deep),
    // Data the SDK has no parser for stays a string: measured as text, since a handler may parse it.
    'data in a JSON type the SDK leaves as text': postEvent(
      running.url,
      { ...event, 'content-type': 'application/vnd.streamforge+json' },
      deep,
    ),
    // Not JSON at all, yet nested too deep: refused as too deep, as before the check moved after the parse.
    'an unclosed event body': postEvent(running.url, event, '['.repeat(levels)),
    'a plain JSON request': postEvent(running.url, { 'content-type': 'application/json' }, deep),
    'a REST route': fetch(`${running.url}/things/a1/stop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deep,
    }),
  };
  for (const [what, response] of Object.entries(sent)) {
    const answer = await response;
    assert.equal(answer.status, 400, what);
    assert.equal(answer.headers.get(ERROR_HEADERS.code), 'SF_EVENT_MALFORMED', what);
    assert.deepEqual(
      await answer.json(),
      { error: 'SF_EVENT_MALFORMED', message: 'request body nests JSON objects or arrays more than 64 levels deep' },
      what,
    );
  }
  assert.equal(handled, 0);
});

test('an event without id, source or type is refused with 400 naming the attribute, whatever its specversion (found by cloudevent-fuzz)', async (t) => {
  const running = await serve(t);
  // The CloudEvents SDK validates a 0.3 event without its required attributes; a handler reading `type` threw, a 500.
  const response = await postEvent(
    running.url,
    { 'ce-specversion': '0.3', 'ce-id': 'e1', 'content-type': 'application/json' },
    '{}',
  );
  const error = await refusedWith400(response);
  assert.equal(error.error, 'SF_EVENT_MALFORMED');
  assert.equal(error.message, 'not a valid CloudEvent: the source attribute is required');
});

test('a dead letter whose body is not the JSON it claims is still taken, as text marked streamforgebodytext; another event like it is refused', async (t) => {
  const seen: Array<{ data: unknown; bodyText: unknown }> = [];
  const recording: FunctionModule = {
    handle: (_context, event) => {
      seen.push({
        data: event?.data,
        bodyText: (event as unknown as Record<string, unknown> | undefined)?.streamforgebodytext,
      });
      return undefined;
    },
  };
  const running = await serve(t, recording);
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': 'e1',
    'ce-source': '/test',
    'ce-type': 'dev.streamforge.data.klines',
    'content-type': 'application/json',
  };
  const letter = await postEvent(
    running.url,
    { ...headers, 'ce-knativeerrordest': 'http://arango-connector/' },
    '{"rows": [',
  );
  assert.equal(letter.status, 204);
  assert.deepEqual(seen, [{ data: '{"rows": [', bodyText: 'application/json' }]);
  const event = await postEvent(running.url, headers, '{"rows": [');
  assert.equal(event.status, 400);
});

test("a failed event is answered with the status Knative treats as its code's disposition, and headers naming the disposition and whether it is retried", async (t) => {
  const failWith: Record<string, unknown> = {
    busy: new StreamForgeError('SF_BUSY', 'graph set g1 is still being built'),
    invalid: new StreamForgeError('SF_CONTRACT_INVALID', 'symbol: must match pattern'),
    unknown: new StreamForgeError('SF_NOT_FOUND', 'no ready model m1'),
    crash: new Error('socket hang up'),
    // faas-js-runtime answers a thrown error's numeric code as the status: Knative judges that status.
    coded: Object.assign(new Error('bad input'), { code: 400 }),
  };
  const failing: FunctionModule = {
    handle: (_context, event) => {
      throw failWith[String(event?.subject)];
    },
    routes(app) {
      app.get('/models/:id', async () => {
        throw failWith.unknown;
      });
    },
  };
  const running = await serve(t, failing);
  const send = (subject: string) =>
    postEvent(
      running.url,
      {
        'ce-specversion': '1.0',
        'ce-id': `e-${subject}`,
        'ce-source': '/test',
        'ce-type': 'dev.streamforge.test',
        'ce-subject': subject,
        'content-type': 'application/json',
      },
      '{}',
    );
  // [status, code, disposition, retryable] as the answer's status and headers say them.
  const answer = (response: Response) => [
    response.status,
    response.headers.get(ERROR_HEADERS.code),
    response.headers.get(ERROR_HEADERS.disposition),
    response.headers.get(ERROR_HEADERS.retryable),
  ];
  assert.deepEqual(answer(await send('busy')), [503, 'SF_BUSY', 'retry', 'true']);
  assert.deepEqual(answer(await send('invalid')), [400, 'SF_CONTRACT_INVALID', 'dead-letter', 'false']);
  // 404 would be retried by Knative: an event that is not to be retried gets 422.
  assert.deepEqual(answer(await send('unknown')), [422, 'SF_NOT_FOUND', 'reject', 'false']);
  assert.deepEqual(answer(await send('crash')), [500, 'SF_INTERNAL', 'retry', 'true']);
  assert.deepEqual(answer(await send('coded')), [400, 'SF_INTERNAL', 'dead-letter', 'false']);
  // A plain HTTP caller of a REST route keeps the code's own status.
  assert.deepEqual(answer(await fetch(`${running.url}/models/m1`)), [404, 'SF_NOT_FOUND', 'reject', 'false']);
  for (const response of [await send('unknown'), await fetch(`${running.url}/models/m1`)]) {
    assert.equal(
      dispositionOfResponse(response.status, Object.fromEntries(response.headers)),
      'reject',
      'the dispatcher reads what the runtime named',
    );
  }
});
