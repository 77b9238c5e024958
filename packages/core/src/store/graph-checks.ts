/**
 * Checks both adapters apply to graphs and model records before touching the database, so a
 * malformed call fails the same way on SQLite and ArangoDB: SF_CONTRACT_INVALID naming the
 * field and the reason.
 */
import { COLLECTION_NAME_PATTERN } from '../contracts/ids.ts';
import { StreamForgeError } from '../errors.ts';
import { RESERVED_COLLECTIONS } from './input-checks.ts';
import { GRAPH_SET_STATUSES, MODEL_STATUSES, type GraphSet, type GraphWindow, type ModelRecord } from './port.ts';

/**
 * A graph id names ArangoDB collections (`<id>_vertices`, `<id>_edges`) and a named graph,
 * so it follows the collection-name rule with room for the suffix.
 */
export const GRAPH_ID_MAX_LENGTH = 240;
const GRAPH_ID = new RegExp(COLLECTION_NAME_PATTERN);
/** Model ids become object-storage key segments and ArangoDB keys. */
export const MODEL_ID_PATTERN = '^[a-zA-Z][a-zA-Z0-9_-]{0,127}$';
const MODEL_ID = new RegExp(MODEL_ID_PATTERN);

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, { details: { field } });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isInt = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** A stored record's `created_at` and `updated_at`: epoch milliseconds, integers >= 0. */
function checkTimes(what: string, record: { created_at: unknown; updated_at: unknown }): void {
  for (const field of ['created_at', 'updated_at'] as const)
    if (!isInt(record[field], 0))
      throw invalid(`${what}.${field}`, `must be an integer >= 0, got ${JSON.stringify(record[field])}`);
}

export function checkGraphId(graphId: unknown, field = 'graph_id'): string {
  if (typeof graphId !== 'string' || !GRAPH_ID.test(graphId) || graphId.length > GRAPH_ID_MAX_LENGTH) {
    throw invalid(
      field,
      `${JSON.stringify(graphId)} must match ${COLLECTION_NAME_PATTERN} and be at most ${GRAPH_ID_MAX_LENGTH} characters`,
    );
  }
  if (RESERVED_COLLECTIONS.has(graphId)) throw invalid(field, `"${graphId}" is reserved for the store's own use`);
  return graphId;
}

/** Whether a read may name this graph id (reads of anything else find nothing). */
export function isGraphId(graphId: string): boolean {
  return GRAPH_ID.test(graphId) && graphId.length <= GRAPH_ID_MAX_LENGTH && !RESERVED_COLLECTIONS.has(graphId);
}

export function checkGraphSet(set: GraphSet): void {
  if (!isObject(set)) throw invalid('set', 'must be an object');
  checkGraphId(set.graph_id, 'set.graph_id');
  if (!(GRAPH_SET_STATUSES as readonly string[]).includes(set.status))
    throw invalid('set.status', `must be one of ${GRAPH_SET_STATUSES.join(', ')}, got ${JSON.stringify(set.status)}`);
  if (!isInt(set.windows, 0))
    throw invalid('set.windows', `must be an integer >= 0, got ${JSON.stringify(set.windows)}`);
  if (!Array.isArray(set.feature_names) || set.feature_names.some((f) => typeof f !== 'string' || f === ''))
    throw invalid('set.feature_names', 'must be an array of non-empty strings');
  if (!Array.isArray(set.symbols) || set.symbols.some((s) => typeof s !== 'string' || s === ''))
    throw invalid('set.symbols', 'must be an array of non-empty strings');
  if (!isObject(set.params)) throw invalid('set.params', 'must be an object');
  checkTimes('set', set);
}

/** A window's shape, and what makes it a graph: known endpoints, one edge per pair, labels from after the window. */
export function checkGraphWindow(window: GraphWindow): void {
  if (!isObject(window)) throw invalid('window', 'must be an object');
  checkGraphId(window.graph_id);
  if (!isInt(window.window, 0))
    throw invalid('window', `must be an integer >= 0, got ${JSON.stringify(window.window)}`);
  if (!isInt(window.start, 0) || !isInt(window.end, 0) || window.end <= window.start) {
    throw invalid(
      'start',
      `start ${JSON.stringify(window.start)} and end ${JSON.stringify(window.end)} must be integers (ms) with end after start`,
    );
  }
  if (!Array.isArray(window.vertices)) throw invalid('vertices', 'must be an array');
  if (!Array.isArray(window.edges)) throw invalid('edges', 'must be an array');
  const symbols = new Set<string>();
  let width: number | undefined;
  window.vertices.forEach((v, i) => {
    const at = `vertices[${i}]`;
    if (!isObject(v)) throw invalid(at, 'must be an object');
    if (typeof v.symbol !== 'string' || v.symbol === '') throw invalid(`${at}.symbol`, 'must be a non-empty string');
    if (symbols.has(v.symbol)) throw invalid(`${at}.symbol`, `${v.symbol} appears twice in window ${window.window}`);
    symbols.add(v.symbol);
    if (!Array.isArray(v.features) || !v.features.every(isFiniteNumber))
      throw invalid(`${at}.features`, 'must be an array of finite numbers');
    width ??= v.features.length;
    if (v.features.length !== width)
      throw invalid(`${at}.features`, `has ${v.features.length} values, the window's first vertex ${width}`);
    if (v.label !== null) {
      if (!isObject(v.label)) throw invalid(`${at}.label`, 'must be null or an object');
      if (!isInt(v.label.class, 0))
        throw invalid(`${at}.label.class`, `must be an integer >= 0, got ${JSON.stringify(v.label.class)}`);
      if (!isFiniteNumber(v.label.value)) throw invalid(`${at}.label.value`, 'must be a finite number');
      // The label is what the model predicts: it must come from data after the window.
      if (!isInt(v.label.known_at, 0) || v.label.known_at < window.end)
        throw invalid(
          `${at}.label.known_at`,
          `${JSON.stringify(v.label.known_at)} is before the window's end ${window.end}: a label may only use data after the window`,
        );
    }
    if (v.attributes !== undefined && !isObject(v.attributes))
      throw invalid(`${at}.attributes`, 'must be an object when present');
  });
  const pairs = new Set<string>();
  window.edges.forEach((e, i) => {
    const at = `edges[${i}]`;
    if (!isObject(e)) throw invalid(at, 'must be an object');
    for (const end of ['from', 'to'] as const) {
      if (typeof e[end] !== 'string' || !symbols.has(e[end]))
        throw invalid(`${at}.${end}`, `${JSON.stringify(e[end])} is not a vertex of window ${window.window}`);
    }
    if (e.from === e.to) throw invalid(at, `self-loop on ${e.from}`);
    const pair = e.from < e.to ? `${e.from}\n${e.to}` : `${e.to}\n${e.from}`;
    if (pairs.has(pair))
      throw invalid(at, `a second edge between ${e.from} and ${e.to} (edges are undirected, one per pair)`);
    pairs.add(pair);
    if (!isFiniteNumber(e.weight) || e.weight <= 0)
      throw invalid(`${at}.weight`, `must be a finite number > 0, got ${JSON.stringify(e.weight)}`);
    if (e.attributes !== undefined && !isObject(e.attributes))
      throw invalid(`${at}.attributes`, 'must be an object when present');
  });
}

export function checkModelId(modelId: unknown, field = 'model_id'): string {
  if (typeof modelId !== 'string' || !MODEL_ID.test(modelId))
    throw invalid(field, `${JSON.stringify(modelId)} must match ${MODEL_ID_PATTERN}`);
  return modelId;
}

export function checkModelVersion(version: unknown, field = 'version'): number {
  if (!isInt(version, 1)) throw invalid(field, `must be an integer >= 1, got ${JSON.stringify(version)}`);
  return version;
}

export function checkModelRecord(model: ModelRecord): void {
  if (!isObject(model)) throw invalid('model', 'must be an object');
  checkModelId(model.model_id, 'model.model_id');
  checkModelVersion(model.version, 'model.version');
  if (!(MODEL_STATUSES as readonly string[]).includes(model.status))
    throw invalid('model.status', `must be one of ${MODEL_STATUSES.join(', ')}, got ${JSON.stringify(model.status)}`);
  if (typeof model.s3_key !== 'string' || model.s3_key === '')
    throw invalid('model.s3_key', 'must be a non-empty string');
  if (model.queue_id !== undefined && typeof model.queue_id !== 'string')
    throw invalid('model.queue_id', 'must be a string when present');
  if (!isObject(model.metadata)) throw invalid('model.metadata', 'must be an object');
  checkTimes('model', model);
}
