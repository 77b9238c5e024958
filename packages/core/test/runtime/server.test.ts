/**
 * The function runtime's HTTP boundary for a module's own REST routes.
 */
import { test } from 'node:test';
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

test('a bodiless POST with a JSON content type is accepted; a malformed body is refused with the reason', async (t) => {
  const running = await serveFunction(module, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
  });
  t.after(() => running.close());
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
  assert.equal(malformed.status, 400);
  const error = (await malformed.json()) as { error: string; message: string };
  assert.equal(error.error, 'SF_CONTRACT_INVALID');
  assert.match(error.message, /JSON/i);
});

test('a request refused with a reason that quotes half a character still answers 400 with the reason in its dead-letter header (found by cloudevent-fuzz)', async (t) => {
  const running = await serveFunction(module, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
  });
  t.after(() => running.close());
  // V8's JSON.parse message for this body quotes '\ud800', half of the pair: encodeURIComponent threw, a 500.
  const response = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-type': 'dev.streamforge.telemetry', 'content-type': 'application/json' },
    body: '\u{10000}',
  });
  assert.equal(response.status, 400);
  const error = (await response.json()) as { error: string; message: string };
  assert.equal(error.error, 'SF_CONTRACT_INVALID');
  assert.match(
    decodeURIComponent(response.headers.get('kne-streamforgereason') ?? ''),
    /^request body is not valid JSON: Unexpected token '\uFFFD'/,
  );
});

test('a JSON body nested deeper than any event or request is refused with 400 before anything walks it (found by cloudevent-fuzz)', async (t) => {
  const running = await serveFunction(module, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
  });
  t.after(() => running.close());
  const deep = `{"queue_id":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
  // A CloudEvent whose data would overflow the stack of whatever stores or checks it.
  const event = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-source': '/test',
      'ce-type': 'dev.streamforge.telemetry',
      'content-type': 'application/json',
    },
    body: deep,
  });
  assert.equal(event.status, 400);
  assert.match(
    ((await event.json()) as { message: string }).message,
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

test('an event without id, source or type is refused with 400 naming the attribute, whatever its specversion (found by cloudevent-fuzz)', async (t) => {
  const running = await serveFunction(module, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
  });
  t.after(() => running.close());
  // The CloudEvents SDK validates a 0.3 event without its required attributes; a handler reading `type` threw, a 500.
  const response = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: { 'ce-specversion': '0.3', 'ce-id': 'e1', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(response.status, 400);
  const error = (await response.json()) as { error: string; message: string };
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
  const running = await serveFunction(recording, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
  });
  t.after(() => running.close());
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': 'e1',
    'ce-source': '/test',
    'ce-type': 'dev.streamforge.data.klines',
    'content-type': 'application/json',
  };
  const letter = await fetch(`${running.url}/`, {
    method: 'POST',
    headers: { ...headers, 'ce-knativeerrordest': 'http://arango-connector/' },
    body: '{"rows": [',
  });
  assert.equal(letter.status, 204);
  assert.deepEqual(seen, [{ data: '{"rows": [', bodyText: 'application/json' }]);
  const event = await fetch(`${running.url}/`, { method: 'POST', headers, body: '{"rows": [' });
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
  const running = await serveFunction(failing, {
    name: 'runtime-test',
    port: 0,
    logger: createLogger({ service: 'runtime-test', level: 'silent' }),
  });
  t.after(() => running.close());
  const send = (subject: string) =>
    fetch(`${running.url}/`, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': `e-${subject}`,
        'ce-source': '/test',
        'ce-type': 'dev.streamforge.test',
        'ce-subject': subject,
        'content-type': 'application/json',
      },
      body: '{}',
    });
  const answer = (response: Response) => ({
    status: response.status,
    code: response.headers.get(ERROR_HEADERS.code),
    disposition: response.headers.get(ERROR_HEADERS.disposition),
    retryable: response.headers.get(ERROR_HEADERS.retryable),
  });
  assert.deepEqual(answer(await send('busy')), {
    status: 503,
    code: 'SF_BUSY',
    disposition: 'retry',
    retryable: 'true',
  });
  assert.deepEqual(answer(await send('invalid')), {
    status: 400,
    code: 'SF_CONTRACT_INVALID',
    disposition: 'dead-letter',
    retryable: 'false',
  });
  // 404 would be retried by Knative: an event that is not to be retried gets 422.
  assert.deepEqual(answer(await send('unknown')), {
    status: 422,
    code: 'SF_NOT_FOUND',
    disposition: 'reject',
    retryable: 'false',
  });
  assert.deepEqual(answer(await send('crash')), {
    status: 500,
    code: 'SF_INTERNAL',
    disposition: 'retry',
    retryable: 'true',
  });
  assert.deepEqual(answer(await send('coded')), {
    status: 400,
    code: 'SF_INTERNAL',
    disposition: 'dead-letter',
    retryable: 'false',
  });
  // A plain HTTP caller of a REST route keeps the code's own status.
  assert.deepEqual(answer(await fetch(`${running.url}/models/m1`)), {
    status: 404,
    code: 'SF_NOT_FOUND',
    disposition: 'reject',
    retryable: 'false',
  });
  for (const response of [await send('unknown'), await fetch(`${running.url}/models/m1`)]) {
    assert.equal(
      dispositionOfResponse(response.status, Object.fromEntries(response.headers)),
      'reject',
      'the dispatcher reads what the runtime named',
    );
  }
});
