/**
 * Workflows and their telemetry trail in SQLite. A workflow is its JSON plus the columns
 * that are queried (status, created_at) or compared (version); replaceWorkflow is a
 * compare-and-set on the version inside a write transaction, so of two concurrent updates
 * exactly one wins, whichever process makes it.
 */
import type { DatabaseSync } from 'node:sqlite';
import { StreamForgeError } from '../errors.ts';
import { checkEvent, checkLimit, checkWorkflow } from './input-checks.ts';
import type { StoredEvent, WorkflowRecord, WorkflowStore } from './port.ts';

export interface SqliteRunners {
  writing<T>(what: string, body: () => T): Promise<T>;
  reading<T>(what: string, body: () => T): Promise<T>;
}

// "No `before`": a bound above every created_at, so one statement serves both cases.
const NEWEST = Number.MAX_SAFE_INTEGER;

export function createSqliteWorkflows(db: DatabaseSync, { writing, reading }: SqliteRunners): WorkflowStore {
  const sql = {
    insert: db.prepare(
      'INSERT INTO workflows (queue_id, status, created_at, version, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    get: db.prepare('SELECT doc FROM workflows WHERE queue_id = ?'),
    createdAt: db.prepare('SELECT created_at FROM workflows WHERE queue_id = ?'),
    list: db.prepare(
      'SELECT doc FROM workflows WHERE (created_at, queue_id) < (?, ?) ORDER BY created_at DESC, queue_id DESC LIMIT ?',
    ),
    listByStatus: db.prepare(
      'SELECT doc FROM workflows WHERE status = ? AND (created_at, queue_id) < (?, ?) ORDER BY created_at DESC, queue_id DESC LIMIT ?',
    ),
    replace: db.prepare(
      'UPDATE workflows SET status = ?, created_at = ?, version = ?, doc = ? WHERE queue_id = ? AND version = ?',
    ),
    appendEvent: db.prepare(
      'INSERT INTO workflow_events (queue_id, event_id, received_at, event) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    listEvents: db.prepare(
      'SELECT queue_id, event_id, received_at, event FROM workflow_events WHERE queue_id = ? AND (received_at > ? OR (received_at = ? AND event_id > ?)) ORDER BY received_at, event_id LIMIT ?',
    ),
  };
  const parse = (rows: unknown[]): WorkflowRecord[] =>
    (rows as Array<{ doc: string }>).map((row) => JSON.parse(row.doc) as WorkflowRecord);

  return {
    async createWorkflow(workflow) {
      checkWorkflow(workflow);
      const doc = JSON.stringify(workflow);
      const created = await writing(
        `createWorkflow ${workflow.queue_id}`,
        () =>
          sql.insert.run(workflow.queue_id, workflow.status, workflow.created_at, workflow.version, doc).changes === 1,
      );
      if (!created) throw new StreamForgeError('SF_CONFLICT', `queue_id: workflow ${workflow.queue_id} already exists`);
    },

    getWorkflow: (queueId) =>
      reading(`getWorkflow ${queueId}`, () => {
        const row = sql.get.get(queueId) as { doc: string } | undefined;
        return row ? (JSON.parse(row.doc) as WorkflowRecord) : undefined;
      }),

    async listWorkflows(options) {
      const limit = checkLimit(options.limit);
      return reading('listWorkflows', () => {
        let bound: [number, string] = [NEWEST, ''];
        if (options.before !== undefined) {
          const row = sql.createdAt.get(options.before) as { created_at: number } | undefined;
          if (!row) throw new StreamForgeError('SF_NOT_FOUND', `before: no workflow ${options.before}`);
          bound = [row.created_at, options.before];
        }
        return options.status === undefined
          ? parse(sql.list.all(...bound, limit))
          : parse(sql.listByStatus.all(options.status, ...bound, limit));
      });
    },

    async replaceWorkflow(next) {
      checkWorkflow(next);
      const doc = JSON.stringify(next);
      return writing(
        `replaceWorkflow ${next.queue_id}`,
        () =>
          sql.replace.run(next.status, next.created_at, next.version, doc, next.queue_id, next.version - 1).changes ===
          1,
      );
    },

    async appendEvent(event) {
      checkEvent(event);
      const json = JSON.stringify(event.event);
      return writing(
        `appendEvent ${event.queue_id}`,
        () => sql.appendEvent.run(event.queue_id, event.event_id, event.received_at, json).changes === 1,
      );
    },

    async listEvents(queueId, options) {
      const limit = checkLimit(options.limit);
      return reading(`listEvents ${queueId}`, () => {
        const after = options.after ?? { receivedAt: -Number.MAX_SAFE_INTEGER, eventId: '' };
        const rows = sql.listEvents.all(queueId, after.receivedAt, after.receivedAt, after.eventId, limit) as Array<{
          queue_id: string;
          event_id: string;
          received_at: number;
          event: string;
        }>;
        return rows.map(
          (row): StoredEvent => ({
            queue_id: row.queue_id,
            event_id: row.event_id,
            received_at: row.received_at,
            event: JSON.parse(row.event) as Record<string, unknown>,
          }),
        );
      });
    },
  };
}
