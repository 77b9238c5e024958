import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { env } from '../../src/config.ts';
import { StreamForgeError } from '../../src/errors.ts';
import { openStore, parseStoreUrl } from '../../src/store/open.ts';
import { realKlines } from './kline-fixture.ts';

const configInvalid = (error: unknown): boolean =>
  StreamForgeError.is(error) && error.code === 'SF_CONFIG_INVALID' && /STORE_URL/.test(error.message);

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-open-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('STORE_URL defaults to the SQLite file .streamforge/store.sqlite', () => {
  assert.deepEqual(parseStoreUrl(env('STORE_URL', {}), {}), { kind: 'sqlite', path: '.streamforge/store.sqlite' });
  assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseStoreUrl('sqlite:///var/lib/sf/store.sqlite'), {
    kind: 'sqlite',
    path: '/var/lib/sf/store.sqlite',
  });
});

test('openStore opens the SQLite file STORE_URL names, relative to the working folder', async (t) => {
  const file = join(tempDir(t), 'data', 'store.sqlite');
  const store = await openStore(undefined, { env: { STORE_URL: `sqlite:${relative(process.cwd(), file)}` } });
  t.after(() => store.close());
  assert.equal(store.description, `sqlite:${file}`);
  await store.writeBatch({ collection: 'candles', records: realKlines().slice(0, 2) });
  assert.equal(await store.countRecords('candles'), 2);
});

test('an arangodb+http URL names the server, the database and optionally the credentials', () => {
  assert.deepEqual(
    parseStoreUrl('arangodb+http://127.0.0.1:8529/streamforge', { ARANGO_USERNAME: 'loader', ARANGO_PASSWORD: 'pw' }),
    {
      kind: 'arangodb',
      url: 'http://127.0.0.1:8529',
      database: 'streamforge',
      username: 'loader',
      password: 'pw',
    },
  );
  assert.deepEqual(parseStoreUrl('arangodb+https://sf%40ops:p%2Fw@arango.example.com/market_data', {}), {
    kind: 'arangodb',
    url: 'https://arango.example.com',
    database: 'market_data',
    username: 'sf@ops',
    password: 'p/w',
  });
});

test('a plain http(s) URL is ArangoDB with ARANGO_DATABASE, ARANGO_USERNAME and ARANGO_PASSWORD, defaulting to streamforge and root', () => {
  assert.deepEqual(parseStoreUrl('http://arango:8529', {}), {
    kind: 'arangodb',
    url: 'http://arango:8529',
    database: 'streamforge',
    username: 'root',
    password: '',
  });
  assert.deepEqual(
    parseStoreUrl('https://arango:8529/', { ARANGO_DATABASE: 'md', ARANGO_USERNAME: 'u', ARANGO_PASSWORD: 'p' }),
    { kind: 'arangodb', url: 'https://arango:8529', database: 'md', username: 'u', password: 'p' },
  );
});

test('a malformed STORE_URL fails with SF_CONFIG_INVALID naming the variable', async () => {
  for (const url of [
    'postgres://db/x',
    'sqlite:',
    'sqlite://',
    'arangodb+http://arango:8529',
    'arangodb+http://arango:8529/a/b',
    'arangodb+http://arango:8529/db?x=1',
    'http://',
    'arangodb+ftp://x/db',
    'store.sqlite',
  ]) {
    assert.throws(() => parseStoreUrl(url, {}), configInvalid, url);
  }
  await assert.rejects(openStore('mysql://localhost/db'), configInvalid);
});
