/**
 * The cursor of a workflow's event trail: the (received_at, event_id) of the last event read,
 * opaque to the client. A time alone would skip the events that share the last millisecond
 * at a page boundary; the id orders them.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import type { EventPosition, StoredEvent } from '@streamforge/core/store';

export function cursorOf(event: Pick<StoredEvent, 'received_at' | 'event_id'>): string {
  return Buffer.from(JSON.stringify([event.received_at, event.event_id])).toString('base64url');
}

export function positionOf(cursor: string): EventPosition {
  try {
    const [receivedAt, eventId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof receivedAt === 'number' && Number.isFinite(receivedAt) && typeof eventId === 'string')
      return { receivedAt, eventId };
  } catch {
    // reported below
  }
  throw new StreamForgeError(
    'SF_CONTRACT_INVALID',
    'querystring.after: not a cursor this API gave (use `next` of the previous page)',
    { details: { field: 'querystring.after' } },
  );
}
