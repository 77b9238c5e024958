/**
 * The identity of a rejected record, the same in both adapters: a redelivered batch stores
 * its rejects again under the same id, so each is kept (and counted) once, as records are.
 * The reason is left out on purpose: the same record rejected again is still one record.
 */
import { createHash } from 'node:crypto';
import type { RejectedRecord } from './port.ts';

/** 40 hex characters of SHA-256 over queue_id, collection, key and the record's JSON text. */
export function rejectId(rejected: RejectedRecord, recordJson: string): string {
  return createHash('sha256')
    .update(`${rejected.queue_id}\n${rejected.collection}\n${rejected.key ?? ''}\n${recordJson}`)
    .digest('hex')
    .slice(0, 40);
}
