/**
 * The function runtime's HTTP boundary for a module's own REST routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveFunction } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import type { FunctionModule } from '../../src/runtime/function-module.ts';

const module: FunctionModule = {
  handle: () => undefined,
  routes(app) {
    app.post('/things/:id/stop', async (request) => ({ stopped: (request.params as { id: string }).id, body: request.body ?? null }));
  },
};

test('a bodiless POST with a JSON content type is accepted; a malformed body is refused with the reason', async (t) => {
  const running = await serveFunction(module, { name: 'runtime-test', port: 0, logger: createLogger({ service: 'runtime-test', level: 'silent' }) });
  t.after(() => running.close());
  const post = (body: string | undefined) => fetch(`${running.url}/things/a1/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });

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
