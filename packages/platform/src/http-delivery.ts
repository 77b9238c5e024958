/**
 * Turns a Kafka record into the HTTP request a Knative KafkaSource sends to its sink:
 * a record that is a binary-mode CloudEvent is forwarded as is, its
 * `ce_*` headers becoming `ce-*` headers and its value the body, untouched (no JSON
 * round trip); a structured-mode record is sent in binary mode; anything else becomes a
 * `dev.knative.kafka.event`. Every event gains the `knativekafkapartition` and
 * `knativekafkaoffset` extensions.
 */
import { headersToStrings } from '@streamforge/core/bus';
import type { ConsumedRecord, OutgoingRecord } from '@streamforge/core/bus';

/** The record as the KafkaSource read it. */
export type RecordToDeliver = ConsumedRecord;

export interface HttpEvent {
  headers: Record<string, string>;
  body: Buffer;
  /** The CloudEvent attributes (for logs and dead letters). */
  id: string;
  type: string;
}

const REQUIRED = ['ce_id', 'ce_source', 'ce_type', 'ce_specversion'] as const;

/** CloudEvents attribute and extension names: lower-case letters and digits only. */
function extensionName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9]/g, '');
}

// Header values must be visible ASCII; CloudEvents' HTTP binding percent-encodes anything else.
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURI(value);
}

function fromBinary(headers: Record<string, string>, record: RecordToDeliver): HttpEvent {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce_')) out[`ce-${name.slice(3)}`] = headerValue(value);
  }
  const contentType = headers['content-type'] ?? headers.ce_datacontenttype;
  if (contentType) out['content-type'] = contentType;
  delete out['ce-datacontenttype'];
  return {
    headers: out,
    body: record.value ?? Buffer.alloc(0),
    id: headers.ce_id as string,
    type: headers.ce_type as string,
  };
}

function fromStructured(record: RecordToDeliver): HttpEvent | undefined {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse((record.value ?? Buffer.alloc(0)).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!event.id || !event.source || !event.type || !event.specversion) return undefined;
  const out: Record<string, string> = {};
  let body = Buffer.alloc(0);
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data') body = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    else if (name === 'data_base64') body = Buffer.from(String(value), 'base64');
    else if (name === 'datacontenttype') out['content-type'] = String(value);
    else out[`ce-${name}`] = headerValue(String(value));
  }
  return { headers: out, body, id: String(event.id), type: String(event.type) };
}

/** The `dev.knative.kafka.event` a KafkaSource builds for a record that is not a CloudEvent. */
function fromPlain(
  headers: Record<string, string>,
  record: RecordToDeliver,
  sourceName: string,
  namespace: string,
): HttpEvent {
  const id = `partition:${record.partition}/offset:${record.offset}`;
  const out: Record<string, string> = {
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-source': `/apis/v1/namespaces/${namespace}/kafkasources/${sourceName}#${record.topic}`,
    'ce-type': 'dev.knative.kafka.event',
    'ce-subject': `partition:${record.partition}#${record.offset}`,
    'ce-time': new Date(Number(record.timestamp)).toISOString(),
  };
  if (headers['content-type']) out['content-type'] = headers['content-type'].toLowerCase();
  if (record.key !== null) {
    out['ce-key'] = headerValue(record.key.toString('utf8'));
    out['ce-partitionkey'] = out['ce-key'];
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name !== 'content-type') out[`ce-kafkaheader${extensionName(name)}`] = headerValue(value);
  }
  return { headers: out, body: record.value ?? Buffer.alloc(0), id, type: 'dev.knative.kafka.event' };
}

export function toHttpEvent(record: RecordToDeliver, sourceName: string, namespace = 'default'): HttpEvent {
  const headers = headersToStrings(record.headers);
  let event: HttpEvent | undefined;
  if ((headers['content-type'] ?? '').startsWith('application/cloudevents')) event = fromStructured(record);
  else if (REQUIRED.every((h) => headers[h] !== undefined && headers[h] !== '')) event = fromBinary(headers, record);
  // A record that fails to parse as a CloudEvent is treated as a plain record, as the KafkaSource does.
  event ??= fromPlain(headers, record, sourceName, namespace);
  event.headers['ce-knativekafkapartition'] = String(record.partition);
  event.headers['ce-knativekafkaoffset'] = record.offset;
  return event;
}

/** The dead-letter copy of an event as a binary-mode Kafka record, with Knative's error extensions. */
export function toDeadLetterRecord(
  event: HttpEvent,
  record: RecordToDeliver,
  failure: {
    destination: string;
    status?: number;
    body?: Buffer;
    responseHeaders?: Record<string, string>;
    reason: string;
  },
): OutgoingRecord & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers)) {
    if (name.startsWith('ce-')) headers[`ce_${name.slice(3)}`] = value;
    else if (name === 'content-type') headers['content-type'] = value;
  }
  headers.ce_knativeerrordest = failure.destination;
  if (failure.status !== undefined) headers.ce_knativeerrorcode = String(failure.status);
  if (failure.body !== undefined && failure.body.length > 0)
    headers.ce_knativeerrordata = failure.body.subarray(0, 1024).toString('base64');
  for (const [name, value] of Object.entries(failure.responseHeaders ?? {})) {
    if (name.toLowerCase().startsWith('kne-')) headers[`ce_${extensionName(name.slice(4))}`] = value;
  }
  // Not a Knative extension: the dispatcher's own words, for transport failures without a response.
  headers.ce_streamforgedispatchreason = headerValue(failure.reason.slice(0, 512));
  return { key: record.key, value: record.value ?? Buffer.alloc(0), headers };
}
