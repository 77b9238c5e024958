/**
 * Opens the store that STORE_URL names:
 *
 *   sqlite:<path>                          the embedded default (relative to the working folder)
 *   sqlite::memory:                        a private in-memory database (tests)
 *   arangodb+http://host:port/database     ArangoDB (also arangodb+https://, user:password@ allowed)
 *   http(s)://host:port                    ArangoDB, database from ARANGO_DATABASE
 *
 * ArangoDB credentials come from ARANGO_USERNAME / ARANGO_PASSWORD unless the URL has them.
 */
import { declareEnv, env } from '../config.ts';
import { StreamForgeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { openArangoStore } from './arango.ts';
import type { Store } from './port.ts';
import { openSqliteStore } from './sqlite.ts';

declareEnv({
  STORE_URL: {
    default: 'sqlite:.streamforge/store.sqlite',
    description:
      'Store: sqlite:<path>, sqlite::memory:, arangodb+http(s)://host:port/database, or http(s)://host:port with ARANGO_DATABASE.',
  },
  ARANGO_DATABASE: {
    default: 'streamforge',
    description: 'ArangoDB database when STORE_URL is a plain http(s):// URL; created if missing.',
  },
  ARANGO_USERNAME: { default: 'root', description: 'ArangoDB user, from a Secret.' },
  ARANGO_PASSWORD: { default: '', description: 'ArangoDB password, from a Secret.' },
});

export interface OpenStoreOptions {
  logger?: Logger;
  /** Where STORE_URL and the ARANGO_* variables are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** SQLite: how long a write waits for another process's write lock (default 30 s). */
  lockTimeoutMs?: number;
}

export type StoreLocation =
  | { kind: 'sqlite'; path: string }
  | { kind: 'arangodb'; url: string; database: string; username: string; password: string };

function malformed(url: string, reason: string): StreamForgeError {
  return new StreamForgeError(
    'SF_CONFIG_INVALID',
    `STORE_URL: "${url}" ${reason}; expected sqlite:<path>, arangodb+http(s)://host:port/database or http(s)://host:port`,
  );
}

/** Where a STORE_URL points, with credentials resolved; throws SF_CONFIG_INVALID when malformed. */
export function parseStoreUrl(url: string, source: NodeJS.ProcessEnv = process.env): StoreLocation {
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path
    if (path === '') throw malformed(url, 'names no file');
    return { kind: 'sqlite', path };
  }
  const match = /^(arangodb\+)?(https?):\/\//.exec(url);
  if (!match) throw malformed(url, 'has an unknown scheme');
  let parsed: URL;
  try {
    parsed = new URL(match[1] ? url.slice(match[1].length) : url);
  } catch {
    throw malformed(url, 'is not a valid URL');
  }
  if (parsed.hostname === '') throw malformed(url, 'names no host');
  if (parsed.search !== '' || parsed.hash !== '') throw malformed(url, 'must not have a query or fragment');
  let database = env('ARANGO_DATABASE', source);
  if (match[1]) {
    const segments = parsed.pathname.split('/').filter((s) => s !== '');
    if (segments.length !== 1)
      throw malformed(url, 'must name exactly one database in its path (arangodb+http://host:port/database)');
    database = decodeURIComponent(segments[0]);
    parsed.pathname = '/';
  }
  if (database === '' || database.includes('/')) throw malformed(url, `names an invalid database "${database}"`);
  const username = parsed.username === '' ? env('ARANGO_USERNAME', source) : decodeURIComponent(parsed.username);
  const password = parsed.username === '' ? env('ARANGO_PASSWORD', source) : decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { kind: 'arangodb', url: parsed.toString().replace(/\/$/, ''), database, username, password };
}

/** Opens the store of `url` (default: STORE_URL). */
export async function openStore(url?: string, options: OpenStoreOptions = {}): Promise<Store> {
  const source = options.env ?? process.env;
  const location = parseStoreUrl(url ?? env('STORE_URL', source), source);
  if (location.kind === 'sqlite') {
    return openSqliteStore(location.path, {
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
    });
  }
  return openArangoStore({ ...location, ...(options.logger ? { logger: options.logger } : {}) });
}
