/**
 * CloudEvents on Kafka in binary content mode (`ce_*` headers, data as the record value),
 * through the cloudevents SDK's Kafka binding, so a KafkaSource forwards every record
 * unchanged. The record key is the CloudEvent `partitionkey`: the market symbol, so one
 * symbol's events stay in one partition, in order. No I/O here.
 */
import { randomUUID } from 'node:crypto';
import { CloudEvent, Kafka as KafkaBinding, type CloudEventV1 } from 'cloudevents';
import { StreamForgeError } from '../errors.ts';
import type { OutgoingRecord, RecordHeaders } from './records.ts';

/** The Knative Node runtime's body limit; an event's data must fit in it. */
export const MAX_EVENT_BYTES = 1_048_576;

export interface EventInput<T> {
  type: string;
  source: string;
  subject?: string;
  /** Unique per event; a random UUID when unset. Deterministic ids make retries recognisable. */
  id?: string;
  time?: string;
  partitionKey?: string;
  data: T;
  /**
   * The data already serialized as JSON, when the producer has it as text (bytes forwarded
   * from the exchange): sent as is instead of `JSON.stringify(data)`. `data` is then only
   * for the producer's own use and may be left out (undefined).
   */
  dataJson?: string;
  extensions?: Record<string, string | number | boolean>;
}

export type DecodedEvent<T = unknown> = CloudEventV1<T> & { partitionkey?: string };

/** Builds a CloudEvent (spec 1.0, JSON data), validating attribute names and values. */
export function createEvent<T>(input: EventInput<T>): CloudEvent<T> {
  try {
    return new CloudEvent<T>(
      {
        specversion: '1.0',
        id: input.id ?? randomUUID(),
        type: input.type,
        source: input.source,
        time: input.time ?? new Date().toISOString(),
        datacontenttype: 'application/json',
        data: input.data,
        ...(input.subject === undefined ? {} : { subject: input.subject }),
        ...(input.partitionKey === undefined ? {} : { partitionkey: input.partitionKey }),
        ...input.extensions,
      },
      true,
    );
  } catch (error) {
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      `cannot build CloudEvent ${input.type}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A CloudEvent as a Kafka record in binary content mode. */
export function encodeEvent<T>(event: CloudEvent<T> | EventInput<T>): OutgoingRecord {
  const preserialized = event instanceof CloudEvent ? undefined : event.dataJson;
  const ce =
    event instanceof CloudEvent
      ? event
      : createEvent(preserialized === undefined ? event : { ...event, data: undefined as T });
  const message = KafkaBinding.binary(ce);
  const value = Buffer.from(preserialized ?? JSON.stringify(ce.data));
  if (value.byteLength > MAX_EVENT_BYTES) {
    throw new StreamForgeError(
      'SF_EVENT_TOO_LARGE',
      `event ${ce.type} for ${ce.subject ?? ce.id} is ${value.byteLength} bytes, above the ${MAX_EVENT_BYTES}-byte limit; send smaller batches`,
      {
        details: { bytes: value.byteLength, limit: MAX_EVENT_BYTES },
      },
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(message.headers)) {
    if (headerValue !== undefined && headerValue !== null) headers[name] = String(headerValue);
  }
  const key =
    typeof message.key === 'string' ? message.key : ce.partitionkey === undefined ? null : String(ce.partitionkey);
  return { key, value, headers };
}

/** Kafka headers (Buffers, strings or arrays of them) as a string map, lower-cased names. */
export function headersToStrings(headers: RecordHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last !== undefined) out[name.toLowerCase()] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return out;
}

export interface KafkaRecordLike {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeaders;
}

/** Whether a Kafka record carries a CloudEvent (binary `ce_id` header or structured content type). */
export function isCloudEventRecord(record: KafkaRecordLike): boolean {
  const headers = headersToStrings(record.headers);
  return headers.ce_id !== undefined || (headers['content-type'] ?? '').startsWith('application/cloudevents');
}

/** A Kafka record back to its CloudEvent; throws SF_EVENT_MALFORMED with the reason. */
export function decodeRecord<T = unknown>(record: KafkaRecordLike): DecodedEvent<T> {
  const headers = headersToStrings(record.headers);
  const key = record.key === null ? undefined : record.key.toString();
  const value = record.value === null ? undefined : record.value.toString();
  try {
    const event = KafkaBinding.toEvent({ headers, key: key ?? '', value, body: value } as never) as CloudEvent<T>;
    event.validate();
    const out = { ...event } as unknown as DecodedEvent<T>;
    if (key === undefined) delete out.partitionkey;
    else out.partitionkey = key;
    return out;
  } catch (error) {
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      `Kafka record is not a valid CloudEvent: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
