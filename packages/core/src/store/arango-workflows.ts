/**
 * Workflows and their telemetry trail in ArangoDB: `workflows` keyed by queue_id,
 * `workflow_events` keyed by (queue_id, event id) so the server itself refuses a redelivered
 * event (1210 unique constraint). A retried write that finds its own earlier attempt (the
 * answer was lost on the way back) counts as done, not as a conflict.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DocumentCollection } from 'arangojs/collections';
import { StreamForgeError } from '../errors.ts';
import { arangoKey, compositeKey, withoutMeta } from './arango-keys.ts';
import { AQL, ARANGO_COLLECTIONS } from './arango-queries.ts';
import { ARANGO_ERRORS, errorNumOf, type ArangoRetrier } from './arango-retry.ts';
import { checkEvent, checkLimit, checkWorkflow } from './input-checks.ts';
import type { StoredEvent, WorkflowRecord, WorkflowStore } from './port.ts';

export interface ArangoWorkflowDeps {
  collection(name: string): DocumentCollection;
  /** One AQL query, not retried (callers decide what a failure means). */
  rawQuery<T>(aql: string, bindVars: Record<string, unknown>): Promise<T[]>;
  retrying: ArangoRetrier;
}

// Compared as stored: JSON drops undefined fields.
const asStored = (workflow: WorkflowRecord): unknown => JSON.parse(JSON.stringify(workflow));

export function createArangoWorkflows({ collection, rawQuery, retrying }: ArangoWorkflowDeps): WorkflowStore {
  const workflows = (): DocumentCollection => collection(ARANGO_COLLECTIONS.workflows);
  const query = <T>(what: string, aql: string, bindVars: Record<string, unknown>): Promise<T[]> =>
    retrying(what, () => rawQuery<T>(aql, bindVars));

  async function read(queueId: string): Promise<WorkflowRecord | undefined> {
    const doc = (await workflows().document(arangoKey(queueId), { graceful: true })) as Record<string, unknown> | null;
    return doc ? withoutMeta<WorkflowRecord>(doc) : undefined;
  }

  /** Whether an earlier attempt of this call already stored exactly `workflow`. */
  async function alreadyStored(attempt: number, workflow: WorkflowRecord): Promise<boolean> {
    return attempt > 0 && isDeepStrictEqual(await read(workflow.queue_id), asStored(workflow));
  }

  return {
    async createWorkflow(workflow) {
      checkWorkflow(workflow);
      await retrying(`createWorkflow ${workflow.queue_id}`, async (attempt) => {
        try {
          await workflows().save({ ...workflow, _key: arangoKey(workflow.queue_id) }, { silent: true });
        } catch (error) {
          if (errorNumOf(error) !== ARANGO_ERRORS.uniqueConstraint) throw error;
          if (await alreadyStored(attempt, workflow)) return;
          throw new StreamForgeError('SF_CONFLICT', `queue_id: workflow ${workflow.queue_id} already exists`);
        }
      });
    },

    getWorkflow: (queueId) => retrying(`getWorkflow ${queueId}`, () => read(queueId)),

    async listWorkflows(options) {
      const limit = checkLimit(options.limit);
      let bound = { before_at: Number.MAX_SAFE_INTEGER, before: '' };
      if (options.before !== undefined) {
        const before = await retrying(`getWorkflow ${options.before}`, () => read(options.before!));
        if (!before) throw new StreamForgeError('SF_NOT_FOUND', `before: no workflow ${options.before}`);
        bound = { before_at: before.created_at, before: before.queue_id };
      }
      if (limit === 0) return [];
      return options.status === undefined
        ? query<WorkflowRecord>('listWorkflows', AQL.listWorkflows, { ...bound, limit })
        : query<WorkflowRecord>('listWorkflows', AQL.listWorkflowsByStatus, {
            ...bound,
            status: options.status,
            limit,
          });
    },

    async replaceWorkflow(next) {
      checkWorkflow(next);
      return retrying(`replaceWorkflow ${next.queue_id}`, async (attempt) => {
        try {
          const replaced = await rawQuery<boolean>(AQL.replaceWorkflow, {
            key: arangoKey(next.queue_id),
            expected: next.version - 1,
            workflow: next,
          });
          return replaced.length === 1 || (await alreadyStored(attempt, next));
        } catch (error) {
          // A concurrent writer of the same workflow: this compare-and-set lost.
          if (errorNumOf(error) === ARANGO_ERRORS.conflict) return false;
          throw error;
        }
      });
    },

    async appendEvent(event) {
      checkEvent(event);
      const doc = {
        _key: compositeKey([event.queue_id, event.event_id]),
        queue_id: event.queue_id,
        event_id: event.event_id,
        received_at: event.received_at,
        event: event.event,
      };
      return retrying(`appendEvent ${event.queue_id}`, async () => {
        try {
          await collection(ARANGO_COLLECTIONS.events).save(doc, { silent: true });
          return true;
        } catch (error) {
          if (errorNumOf(error) === ARANGO_ERRORS.uniqueConstraint) return false;
          throw error;
        }
      });
    },

    async listEvents(queueId, options) {
      const limit = checkLimit(options.limit);
      if (limit === 0) return [];
      return query<StoredEvent>(`listEvents ${queueId}`, AQL.listEvents, {
        queue_id: queueId,
        after: options.after?.receivedAt ?? -Number.MAX_SAFE_INTEGER,
        after_id: options.after?.eventId ?? '',
        limit,
      });
    },
  };
}
