/**
 * The ArangoDB adapter through arangojs against the ArangoDB STAND-IN (a test double of
 * ArangoDB's HTTP API: ArangoDB cannot run on this machine). arango.test.ts runs the same
 * contract against a real server when ARANGO_URL is set.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Database } from 'arangojs';
import { StreamForgeError } from '../../src/errors.ts';
import { openArangoStore, type ArangoStore } from '../../src/store/arango.ts';
import { openStore } from '../../src/store/open.ts';
import { startArangoStandin, type ArangoStandin } from '@streamforge/testing';
import { uniqueName } from '@streamforge/testing';
import { waitFor } from '@streamforge/testing';
import { realKlines } from './kline-fixture.ts';
import { describeStoreContract } from './store-contract.ts';

const CREDENTIALS = { username: 'streamforge', password: 's3cret' };

async function standin(t: TestContext): Promise<ArangoStandin> {
  const server = await startArangoStandin(CREDENTIALS);
  t.after(() => server.close());
  return server;
}

async function arangoStore(
  t: TestContext,
  server: ArangoStandin,
  database = uniqueName('sf'),
  retry?: { attempts: number; baseDelayMs: number },
): Promise<ArangoStore> {
  const store = await openArangoStore({ url: server.url, database, ...CREDENTIALS, ...(retry ? { retry } : {}) });
  t.after(() => store.close());
  return store;
}

describeStoreContract('ArangoDB adapter on the ArangoDB stand-in', async (t) => {
  const server = await standin(t);
  // Through openStore, as services open it: STORE_URL plus credentials from the environment.
  const store = await openStore(`arangodb+${server.url}/${uniqueName('sf')}`, {
    env: { ARANGO_USERNAME: CREDENTIALS.username, ARANGO_PASSWORD: CREDENTIALS.password },
  });
  t.after(() => store.close());
  return store;
});

test('ArangoDB adapter on the stand-in: a batch writes records, rejects and page progress in one stream transaction', async (t) => {
  const server = await standin(t);
  const store = await arangoStore(t, server);
  server.requests.length = 0;
  await store.writeBatch({
    collection: 'candles',
    records: realKlines().slice(0, 10),
    rejected: [{ collection: 'candles', queue_id: 'wf-q', reason: 'bad', record: {} }],
    progress: { queue_id: 'wf-q', page: 0, pages: 1, part: 0, parts: 1, records: 11 },
  });
  const begin = server.requests.findIndex((r) => r.endsWith('/_api/transaction/begin'));
  assert.ok(begin >= 0, server.requests.join('\n'));
  const trx = /trx=(\d+)/.exec(server.requests[begin + 1])?.[1];
  assert.deepEqual(
    server.requests.slice(begin + 1, begin + 5).map((r) => r.replace(/\/_db\/[^/]+/, '')),
    [
      `POST /_api/document/candles trx=${trx}`,
      `POST /_api/document/rejected_records trx=${trx}`,
      `POST /_api/document/workflow_pages trx=${trx}`,
      `PUT /_api/transaction/${trx}`,
    ],
  );
});

test('ArangoDB adapter on the stand-in: a write-write conflict (1200) with another transaction is retried until that transaction ends', async (t) => {
  const server = await standin(t);
  const store = await arangoStore(t, server, 'conflicts');
  await store.ensureCollection('candles');
  const [kline] = realKlines();
  const db = new Database({ url: server.url, databaseName: 'conflicts', auth: CREDENTIALS });
  t.after(() => db.close());
  const other = await db.beginTransaction({ write: ['candles'] });
  await other.step(() => db.collection('candles').save({ ...kline, _key: kline.key, close: 'other writer' }));
  const write = store.writeBatch({ collection: 'candles', records: [kline] });
  await waitFor('the adapter to meet the conflict and retry', () => store.stats.conflictRetries > 0);
  await other.commit();
  await write;
  assert.deepEqual(await store.getRecord('candles', kline.key), kline);
});

test('ArangoDB adapter on the stand-in: an unreachable server is waited for, and one that stays away fails with SF_DEPENDENCY_UNAVAILABLE', async (t) => {
  const server = await standin(t);
  const store = await arangoStore(t, server, 'outage', { attempts: 40, baseDelayMs: 5 });
  await server.suspend();
  const write = store.writeBatch({ collection: 'candles', records: realKlines().slice(0, 3) });
  await waitFor('the adapter to retry the unreachable server', () => store.stats.unavailableRetries > 0);
  await server.resume();
  assert.equal((await write).written, 3);
  assert.equal(await store.countRecords('candles'), 3);

  const impatient = await arangoStore(t, server, 'outage', { attempts: 3, baseDelayMs: 5 });
  await server.suspend();
  await assert.rejects(
    impatient.countRecords('candles'),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_DEPENDENCY_UNAVAILABLE',
  );
  await server.resume();
});

test('ArangoDB adapter on the stand-in: instances creating the same database and collection at once all succeed', async (t) => {
  const server = await standin(t);
  const stores = await Promise.all([0, 1, 2].map(() => arangoStore(t, server, 'shared_db')));
  await Promise.all(stores.map((s) => s.ensureCollection('candles')));
  await Promise.all(
    stores.map((s, i) => s.writeBatch({ collection: 'candles', records: realKlines().slice(i * 10, i * 10 + 20) })),
  );
  assert.deepEqual(await stores[0].listCollections(), [{ name: 'candles', count: 40 }]);
});

test('ArangoDB adapter on the stand-in: a collection another instance created first (1207 duplicate name) counts as created', async (t) => {
  const server = await standin(t);
  const store = await arangoStore(t, server, 'raced');
  const db = new Database({ url: server.url, databaseName: 'raced', auth: CREDENTIALS });
  t.after(() => db.close());
  await db.collection('candles').create();
  server.requests.length = 0;
  await store.ensureCollection('candles');
  assert.ok(server.requests.includes('POST /_db/raced/_api/collection'), server.requests.join('\n'));
  await store.writeBatch({ collection: 'candles', records: realKlines().slice(0, 2) });
  assert.equal(await store.countRecords('candles'), 2);
});

test('ArangoDB adapter on the stand-in: wrong credentials fail with SF_CONFIG_INVALID', async (t) => {
  const server = await standin(t);
  await assert.rejects(
    openArangoStore({ url: server.url, database: 'sf', username: 'streamforge', password: 'wrong' }),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_CONFIG_INVALID',
  );
});

test('ArangoDB stand-in: a query it does not know is refused with 400 and names the stand-in', async (t) => {
  const server = await standin(t);
  const db = new Database({ url: server.url, auth: CREDENTIALS });
  t.after(() => db.close());
  await assert.rejects(
    db.query('FOR d IN candles RETURN d'),
    (e: unknown) =>
      (e as { code?: number; errorNum?: number }).code === 400 &&
      (e as { errorNum?: number }).errorNum === 1501 &&
      /not supported by the ArangoDB stand-in/.test((e as Error).message),
  );
});

test('ArangoDB stand-in: a multi-document insert answers per document, with ArangoDB error numbers and X-Arango-Error-Codes', async (t) => {
  const server = await standin(t);
  const db = new Database({ url: server.url, auth: CREDENTIALS });
  t.after(() => db.close());
  await db.collection('docs').create();
  await assert.rejects(db.collection('docs').create(), (e: unknown) => (e as { errorNum?: number }).errorNum === 1207);
  const answer = await db.collection('docs').saveAll([
    { _key: 'a', v: 1 },
    { _key: 'a b', v: 2 },
    { _key: 'a', v: 3 },
  ]);
  assert.deepEqual(
    answer.map((r) => ('error' in r && r.error ? r.errorNum : (r as { _key: string })._key)),
    ['a', 1221, 1210],
  );
  const raw = await fetch(`${server.url}/_api/document/docs?silent=true`, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa('streamforge:s3cret')}` },
    body: JSON.stringify([{ _key: 'b' }, { _key: 'b' }]),
  });
  assert.equal(raw.status, 202);
  assert.deepEqual(JSON.parse(raw.headers.get('x-arango-error-codes') ?? '{}'), { 1210: 1 });
  assert.deepEqual(
    ((await raw.json()) as Array<{ errorNum: number }>).map((r) => r.errorNum),
    [1210],
  );
  await assert.rejects(
    db.collection('missing').save({ v: 1 }),
    (e: unknown) =>
      (e as { code?: number; errorNum?: number }).code === 404 && (e as { errorNum?: number }).errorNum === 1203,
  );
});

test('ArangoDB adapter on the stand-in: a graph set is an ArangoDB named graph whose edge definition joins <id>_edges to <id>_vertices', async (t) => {
  const server = await standin(t);
  const store = await arangoStore(t, server, 'graphs');
  const window = {
    graph_id: 'g1',
    window: 0,
    start: 0,
    end: 3_600_000,
    vertices: [
      { symbol: 'BTCUSDT', features: [1], label: null },
      { symbol: 'ETHUSDT', features: [2], label: null },
    ],
    edges: [{ from: 'BTCUSDT', to: 'ETHUSDT', weight: 0.7 }],
  };
  await store.saveGraphSet({
    graph_id: 'g1',
    status: 'building',
    windows: 1,
    feature_names: ['x'],
    symbols: ['BTCUSDT', 'ETHUSDT'],
    params: {},
    created_at: 1,
    updated_at: 1,
  });
  await store.writeGraphWindow(window);
  assert.ok(server.requests.includes('POST /_db/graphs/_api/gharial'), server.requests.join('\n'));
  const db = new Database({ url: server.url, databaseName: 'graphs', auth: CREDENTIALS });
  t.after(() => db.close());
  const graph = await db.graph('g1').get();
  assert.deepEqual(graph.edgeDefinitions, [{ collection: 'g1_edges', from: ['g1_vertices'], to: ['g1_vertices'] }]);
  assert.equal((await db.collection('g1_edges').get()).type, 3, 'an edge collection');
  const edge = await db.collection('g1_edges').document('0:BTCUSDT:ETHUSDT');
  assert.equal(edge._from, 'g1_vertices/0:BTCUSDT');
  assert.equal(edge._to, 'g1_vertices/0:ETHUSDT');
  assert.equal((await db.collection('g1_vertices').document('0:ETHUSDT')).features[0], 2);
  // A second instance (or a restart) finds the graph there (1925) and goes on.
  const other = await arangoStore(t, server, 'graphs');
  await other.writeGraphWindow(window);
  assert.deepEqual((await other.readGraph('g1'))!.windows, [window]);
  await assert.rejects(
    db.collection('g1_edges').save({ weight: 1 }),
    (e: unknown) => (e as { errorNum?: number }).errorNum === 1233,
  );
  await assert.rejects(
    db.createGraph('g1', [{ collection: 'g1_edges', from: ['g1_vertices'], to: ['g1_vertices'] }]),
    (e: unknown) => (e as { errorNum?: number }).errorNum === 1925,
  );
});
