/**
 * The store contract against a real ArangoDB, when ARANGO_URL points to one (http(s)://host:port,
 * credentials from ARANGO_USERNAME / ARANGO_PASSWORD, or an arangodb+http(s):// STORE_URL
 * whose database part is ignored). Each test gets its own database, dropped afterwards.
 * Without ARANGO_URL the suite is skipped, visibly.
 */
import { test } from 'node:test';
import { Database } from 'arangojs';
import { openArangoStore } from '../../src/store/arango.ts';
import { parseStoreUrl } from '../../src/store/open.ts';
import { uniqueName } from '@streamforge/testing';
import { describeStoreContract } from './store-contract.ts';

const url = process.env.ARANGO_URL;

if (!url) {
  test('ArangoDB adapter on a real ArangoDB server', (t) => {
    t.skip('ARANGO_URL not set: ArangoDB contract tests skipped (no ArangoDB server on this machine)');
  });
} else {
  const server = parseStoreUrl(url.startsWith('arangodb+') ? url : `arangodb+${url.replace(/\/$/, '')}/unused`);
  if (server.kind !== 'arangodb') throw new Error(`ARANGO_URL must be an http(s):// URL, got ${url}`);
  const auth = { username: server.username, password: server.password };
  describeStoreContract('ArangoDB adapter on a real ArangoDB server', async (t) => {
    const database = uniqueName('sf_test').replace('-', '_');
    const store = await openArangoStore({ ...server, database });
    t.after(async () => {
      await store.close();
      const system = new Database({ url: server.url, auth });
      await system.dropDatabase(database);
      system.close();
    });
    return store;
  });
}
