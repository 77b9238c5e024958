/**
 * Checks both store adapters apply before touching the database, so a malformed call fails
 * the same way on SQLite and ArangoDB: SF_CONTRACT_INVALID (a 4xx, dead-lettered, since a
 * retry cannot fix it) with the field and the reason.
 */
import { COLLECTION_NAME_PATTERN } from '../contracts/ids.ts';
import { StreamForgeError } from '../errors.ts';
import {
  WORKFLOW_STATUSES,
  type DeadLetter,
  type PageProgress,
  type StoredEvent,
  type WorkflowRecord,
  type WriteBatchInput,
} from './port.ts';

/**
 * Collections the store keeps for itself. Record collections share one namespace with them
 * in ArangoDB, so both adapters refuse these names for records.
 */
export const RESERVED_COLLECTIONS: ReadonlySet<string> = new Set([
  'workflows',
  'workflow_events',
  'workflow_pages',
  'workflow_progress',
  'rejected_records',
  'dead_letters',
  'graph_sets',
  'models',
]);

const COLLECTION_NAME = new RegExp(COLLECTION_NAME_PATTERN);

function invalid(message: string, details?: Record<string, unknown>): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', message, details === undefined ? {} : { details });
}

/** A valid ArangoDB collection name that is not one of the store's own. */
export function checkCollectionName(name: unknown, field = 'collection'): string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw invalid(`${field}: ${JSON.stringify(name)} must match ${COLLECTION_NAME_PATTERN}`);
  }
  if (RESERVED_COLLECTIONS.has(name)) throw invalid(`${field}: "${name}" is reserved for the store's own use`);
  return name;
}

/** Whether a collection name is one a record read can name (reads of anything else find nothing). */
export function isRecordCollectionName(name: string): boolean {
  return COLLECTION_NAME.test(name) && !RESERVED_COLLECTIONS.has(name);
}

export function checkLimit(limit: unknown, field = 'limit'): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
    throw invalid(`${field}: must be a non-negative integer, got ${JSON.stringify(limit)}`);
  return limit;
}

function checkCount(value: unknown, field: string, minimum: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum)
    throw invalid(`${field}: must be an integer >= ${minimum}, got ${JSON.stringify(value)}`);
}

function checkProgress(progress: PageProgress): void {
  if (typeof progress.queue_id !== 'string' || progress.queue_id === '')
    throw invalid('progress.queue_id: must be a non-empty string');
  checkCount(progress.page, 'progress.page', 0);
  checkCount(progress.pages, 'progress.pages', 1);
  checkCount(progress.part, 'progress.part', 0);
  checkCount(progress.parts, 'progress.parts', 1);
  checkCount(progress.records, 'progress.records', 0);
}

/** Validates a batch's shape (not its records' contents: the connector did that). */
export function checkWriteBatch(input: WriteBatchInput): void {
  checkCollectionName(input.collection);
  if (!Array.isArray(input.records)) throw invalid('records: must be an array');
  for (let i = 0; i < input.records.length; i++) {
    const record = input.records[i] as unknown;
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw invalid(`records[${i}]: must be an object`);
    const key = (record as { key?: unknown }).key;
    if (typeof key !== 'string' || key === '')
      throw invalid(`records[${i}].key: must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  const rejected = input.rejected ?? [];
  if (!Array.isArray(rejected)) throw invalid('rejected: must be an array');
  rejected.forEach((r, i) => {
    if (typeof r.queue_id !== 'string' || r.queue_id === '')
      throw invalid(`rejected[${i}].queue_id: must be a non-empty string`);
    if (typeof r.collection !== 'string') throw invalid(`rejected[${i}].collection: must be a string`);
    if (typeof r.reason !== 'string') throw invalid(`rejected[${i}].reason: must be a string`);
    if (r.key !== undefined && typeof r.key !== 'string')
      throw invalid(`rejected[${i}].key: must be a string when present`);
  });
  if (input.progress !== undefined) checkProgress(input.progress);
}

/** What the workflow store relies on: the id, the indexed columns and the version. */
export function checkWorkflow(workflow: WorkflowRecord): void {
  if (typeof workflow !== 'object' || workflow === null) throw invalid('workflow: must be an object');
  if (typeof workflow.queue_id !== 'string' || workflow.queue_id === '')
    throw invalid('workflow.queue_id: must be a non-empty string');
  if (!(WORKFLOW_STATUSES as readonly string[]).includes(workflow.status))
    throw invalid(
      `workflow.status: must be one of ${WORKFLOW_STATUSES.join(', ')}, got ${JSON.stringify(workflow.status)}`,
    );
  checkCount(workflow.created_at, 'workflow.created_at', 0);
  checkCount(workflow.version, 'workflow.version', 0);
}

export function checkEvent(event: StoredEvent): void {
  if (typeof event.queue_id !== 'string' || event.queue_id === '')
    throw invalid('event.queue_id: must be a non-empty string');
  if (typeof event.event_id !== 'string' || event.event_id === '')
    throw invalid('event.event_id: must be a non-empty string');
  if (typeof event.received_at !== 'number' || !Number.isFinite(event.received_at))
    throw invalid(`event.received_at: must be a number, got ${JSON.stringify(event.received_at)}`);
}

export function checkDeadLetter(letter: DeadLetter): void {
  for (const field of ['id', 'service', 'reason'] as const) {
    if (typeof letter[field] !== 'string' || letter[field] === '')
      throw invalid(`dead letter.${field}: must be a non-empty string`);
  }
  // '' where it is not known: a letter of no workflow, or with no topic to go back to, is still kept.
  for (const field of ['queue_id', 'topic'] as const) {
    if (typeof letter[field] !== 'string') throw invalid(`dead letter.${field}: must be a string`);
  }
  checkCount(letter.dead_lettered_at, 'dead letter.dead_lettered_at', 0);
  if (typeof letter.event !== 'object' || letter.event === null) throw invalid('dead letter.event: must be an object');
}

/** The JSON text of anything a rejected record can be (JSON.stringify(undefined) is undefined). */
export function rawJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (error) {
    throw invalid(`rejected record: cannot be stored as JSON: ${(error as Error).message}`);
  }
}
