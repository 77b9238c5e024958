/** The store: the port every service codes against, `openStore` (STORE_URL) and the two adapters. */
export * from './port.ts';
export { openStore, parseStoreUrl, type OpenStoreOptions, type StoreLocation } from './open.ts';
export { openSqliteStore, type SqliteStore, type SqliteStoreOptions, type SqliteStats } from './sqlite.ts';
export { openArangoStore, type ArangoStore, type ArangoStoreOptions } from './arango.ts';
export { arangoKey, compositeKey, isValidArangoKey } from './arango-keys.ts';
export { RESERVED_COLLECTIONS } from './input-checks.ts';
export { checkGraphId, checkModelId, GRAPH_ID_MAX_LENGTH, MODEL_ID_PATTERN } from './graph-checks.ts';
