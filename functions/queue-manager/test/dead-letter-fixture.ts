/** A dead letter as the manager receives it: the record dead-lettered by the dispatcher, then delivered from the dead-letter topic. */
import { HTTP, type CloudEvent } from 'cloudevents';
import { encodeEvent, type EventInput } from '@streamforge/core/bus';
import { toDeadLetterRecord, toHttpEvent, type RecordToDeliver } from '@streamforge/platform';

export function consumedRecord(
  topic: string,
  partition: number,
  offset: string,
  record: { key: Buffer | string | null; value: Buffer | string | null; headers?: Record<string, unknown> },
): RecordToDeliver {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) headers[name] = Buffer.from(String(value));
  const asBuffer = (v: Buffer | string | null) => (v === null ? null : Buffer.from(v));
  return {
    topic,
    partition,
    offset,
    timestamp: '1722470400000',
    key: asBuffer(record.key),
    value: asBuffer(record.value),
    headers,
  };
}

export function consumedEvent(topic: string, event: EventInput<unknown>, partition = 0, offset = '0'): RecordToDeliver {
  return consumedRecord(topic, partition, offset, encodeEvent(event));
}

export function deliveredDeadLetter(
  original: RecordToDeliver,
  failure: Parameters<typeof toDeadLetterRecord>[2],
  at: { topic: string; offset: string },
): CloudEvent<unknown> {
  const dead = toDeadLetterRecord(toHttpEvent(original, 'a-source'), original, failure);
  const http = toHttpEvent(consumedRecord(at.topic, 0, at.offset, dead), 'queue-manager-dead-letters');
  return HTTP.toEvent({ headers: http.headers, body: http.body.toString('utf8') }) as CloudEvent<unknown>;
}
