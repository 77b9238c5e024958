/**
 * Dead letters in SQLite: the letter as JSON plus the columns that are queried. The id (its
 * place in the dead-letter topic) is the primary key, so a redelivered letter is stored once.
 */
import type { DatabaseSync } from 'node:sqlite';
import { checkDeadLetter, checkLimit } from './input-checks.ts';
import type { DeadLetter, DeadLetterCount, DeadLetterStore } from './port.ts';
import type { SqliteRunners } from './sqlite-workflows.ts';

const BEFORE_ALL = { receivedAt: -Number.MAX_SAFE_INTEGER, eventId: '' };

export function createSqliteDeadLetters(db: DatabaseSync, { writing, reading }: SqliteRunners): DeadLetterStore {
  const sql = {
    insert: db.prepare(
      'INSERT INTO dead_letters (id, queue_id, service, dead_lettered_at, replayed_at, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    get: db.prepare('SELECT doc FROM dead_letters WHERE id = ?'),
    list: db.prepare(
      'SELECT doc FROM dead_letters WHERE (dead_lettered_at, id) > (?, ?) ORDER BY dead_lettered_at, id LIMIT ?',
    ),
    listOfQueue: db.prepare(
      'SELECT doc FROM dead_letters WHERE queue_id = ? AND (dead_lettered_at, id) > (?, ?) ORDER BY dead_lettered_at, id LIMIT ?',
    ),
    count: db.prepare(`SELECT service, COUNT(*) AS total, COUNT(replayed_at) AS replayed,
      (SELECT json_extract(d2.doc, '$.reason') FROM dead_letters d2 WHERE d2.queue_id = d.queue_id AND d2.service = d.service ORDER BY d2.dead_lettered_at DESC, d2.id DESC LIMIT 1) AS reason
      FROM dead_letters d WHERE queue_id = ? GROUP BY service`),
    replayed: db.prepare(
      `UPDATE dead_letters SET replayed_at = ?, doc = json_set(doc, '$.replayed_at', ?) WHERE id = ? AND replayed_at IS NULL`,
    ),
  };
  const parse = (rows: unknown[]): DeadLetter[] =>
    (rows as Array<{ doc: string }>).map((row) => JSON.parse(row.doc) as DeadLetter);

  return {
    async recordDeadLetter(letter) {
      checkDeadLetter(letter);
      const doc = JSON.stringify(letter);
      return writing(
        `recordDeadLetter ${letter.id}`,
        () =>
          sql.insert.run(
            letter.id,
            letter.queue_id,
            letter.service,
            letter.dead_lettered_at,
            letter.replayed_at ?? null,
            doc,
          ).changes === 1,
      );
    },

    getDeadLetter: (id) =>
      reading(`getDeadLetter ${id}`, () => {
        const row = sql.get.get(id) as { doc: string } | undefined;
        return row ? (JSON.parse(row.doc) as DeadLetter) : undefined;
      }),

    async listDeadLetters(options) {
      const limit = checkLimit(options.limit);
      const after = options.after ?? BEFORE_ALL;
      return reading('listDeadLetters', () =>
        options.queue_id === undefined
          ? parse(sql.list.all(after.receivedAt, after.eventId, limit))
          : parse(sql.listOfQueue.all(options.queue_id, after.receivedAt, after.eventId, limit)),
      );
    },

    countDeadLetters: (queueId) =>
      reading(`countDeadLetters ${queueId}`, () => {
        const counts: Record<string, DeadLetterCount> = {};
        for (const row of sql.count.all(queueId) as Array<{
          service: string;
          total: number;
          replayed: number;
          reason: string;
        }>) {
          counts[row.service] = { total: row.total, replayed: row.replayed, reason: row.reason };
        }
        return counts;
      }),

    markReplayed: (id, at) => writing(`markReplayed ${id}`, () => sql.replayed.run(at, at, id).changes === 1),
  };
}
