import { randomUUID } from 'node:crypto';

/** A name no other test uses: topics, consumer groups, collections, buckets. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
