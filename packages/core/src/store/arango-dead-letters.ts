/**
 * Dead letters in ArangoDB: `dead_letters` keyed by the letter's id (its place in the
 * dead-letter topic), so the server itself refuses a redelivered letter (1210).
 */
import type { DocumentCollection } from 'arangojs/collections';
import { arangoKey, withoutMeta } from './arango-keys.ts';
import { AQL, ARANGO_COLLECTIONS } from './arango-queries.ts';
import { ARANGO_ERRORS, errorNumOf } from './arango-retry.ts';
import type { ArangoWorkflowDeps } from './arango-workflows.ts';
import { checkDeadLetter, checkLimit } from './input-checks.ts';
import type { DeadLetter, DeadLetterCount, DeadLetterStore } from './port.ts';

export function createArangoDeadLetters({ collection, rawQuery, retrying }: ArangoWorkflowDeps): DeadLetterStore {
  const letters = (): DocumentCollection => collection(ARANGO_COLLECTIONS.deadLetters);
  const query = <T>(what: string, aql: string, bindVars: Record<string, unknown>): Promise<T[]> =>
    retrying(what, () => rawQuery<T>(aql, bindVars));

  return {
    async recordDeadLetter(letter) {
      checkDeadLetter(letter);
      return retrying(`recordDeadLetter ${letter.id}`, async () => {
        try {
          await letters().save({ ...letter, _key: arangoKey(letter.id) }, { silent: true });
          return true;
        } catch (error) {
          if (errorNumOf(error) === ARANGO_ERRORS.uniqueConstraint) return false;
          throw error;
        }
      });
    },

    getDeadLetter: (id) =>
      retrying(`getDeadLetter ${id}`, async () => {
        const doc = (await letters().document(arangoKey(id), { graceful: true })) as Record<string, unknown> | null;
        return doc ? withoutMeta<DeadLetter>(doc) : undefined;
      }),

    async listDeadLetters(options) {
      const limit = checkLimit(options.limit);
      if (limit === 0) return [];
      return query<DeadLetter>('listDeadLetters', AQL.listDeadLetters, {
        queue_id: options.queue_id ?? null,
        after: options.after?.receivedAt ?? -Number.MAX_SAFE_INTEGER,
        after_id: options.after?.eventId ?? '',
        limit,
      });
    },

    async countDeadLetters(queueId) {
      const rows = await query<{ service: string } & DeadLetterCount>(
        `countDeadLetters ${queueId}`,
        AQL.countDeadLetters,
        { queue_id: queueId },
      );
      return Object.fromEntries(rows.map(({ service, ...count }) => [service, count]));
    },

    async markReplayed(id, at) {
      const replayed = await query<boolean>(`markReplayed ${id}`, AQL.markReplayed, { key: arangoKey(id), at });
      return replayed.length === 1;
    },
  };
}
