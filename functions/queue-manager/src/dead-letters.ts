/**
 * Dead letters as the manager reads them: a KafkaSource on the dead-letter topics brings each
 * one back as the CloudEvent it was, plus the extensions the dead-letter sink added
 * (Knative's `knativeerrordest`, `knativeerrorcode`, `knativeerrordata`; the runtime's
 * `streamforgeerror`, `streamforgereason`, `streamforgedisposition` and
 * `streamforgeretryable` from its `kne-` headers, ERROR_HEADERS; the local dispatcher's
 * `streamforgedispatchreason`). From them: whose work it was (the subject is the queue_id),
 * which service could not take it, why, and the topic a replay sends it back to.
 */
import type { CloudEvent } from 'cloudevents';
import { TOPICS, controlTopicOf, dataTopicOf, type EventInput } from '@streamforge/core/bus';
import {
  EVENT_TYPES,
  RECORD_KINDS,
  dataEventType,
  parseWorkflowType,
  sourceOf,
  topicKindOf,
} from '@streamforge/core/contracts';
import { ERROR_HEADERS } from '@streamforge/core/errors';
import type { DeadLetter, WorkflowRecord } from '@streamforge/core/store';

/** What the dead-letter path adds to an event; a replay leaves these out. */
const FAILURE_EXTENSIONS = new Set([
  'knativeerrordest',
  'knativeerrorcode',
  'knativeerrordata',
  'knativekafkapartition',
  'knativekafkaoffset',
  ...Object.values(ERROR_HEADERS).map((header) => header.slice('kne-'.length)),
  'streamforgedispatchreason',
]);
const ATTRIBUTES = new Set([
  'id',
  'type',
  'source',
  'specversion',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
  'partitionkey',
  'streamforgebodytext',
]);

type AnyEvent = CloudEvent<unknown> & Record<string, unknown>;

/** Knative's dead-letter sink always names the destination that failed. */
export function isDeadLetter(event: CloudEvent<unknown>): boolean {
  return typeof (event as AnyEvent).knativeerrordest === 'string';
}

/** Where an event of this type travels, and who takes it there (control commands: the workflow's target). */
function routeOf(
  event: CloudEvent<unknown>,
  workflow: WorkflowRecord | undefined,
): { topic: string; service: string; deadLetterTopic: string } {
  const type = event.type;
  // Both loaders plan work pages; each is published by the loader that takes it.
  if (type === EVENT_TYPES.workPage && event.source === sourceOf('loader-producer'))
    return { topic: TOPICS.producerWork, service: 'loader-producer', deadLetterTopic: TOPICS.deadLetterProducerWork };
  if (type === EVENT_TYPES.workPage)
    return { topic: TOPICS.loaderWork, service: 'loader-api', deadLetterTopic: TOPICS.deadLetterWork };
  if (type === EVENT_TYPES.telemetry)
    return { topic: TOPICS.events, service: 'queue-manager', deadLetterTopic: TOPICS.deadLetterEvents };
  const kind = RECORD_KINDS.find((k) => dataEventType(k) === type);
  if (kind !== undefined)
    return {
      topic: dataTopicOf(topicKindOf(kind)),
      service: 'arango-connector',
      deadLetterTopic: TOPICS.deadLetterData,
    };
  if (type.startsWith('dev.streamforge.control.')) {
    const target = workflow ? parseWorkflowType(workflow.type).target : undefined;
    // Without its workflow a command's target is unknown: it is listed, but cannot be replayed.
    return {
      topic: target ? controlTopicOf(target) : '',
      service: target ?? 'unknown',
      deadLetterTopic: TOPICS.deadLetterControl,
    };
  }
  return { topic: '', service: 'unknown', deadLetterTopic: 'unknown' };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The reason in the words closest to the failure: the service's own, else the dispatcher's, else the status. */
function reasonOf(event: AnyEvent, service: string): { reason: string; status?: number } {
  const status = Number(event.knativeerrorcode);
  const code = text(event.streamforgeerror);
  const said = text(event.streamforgereason);
  const answered = Number.isInteger(status) && status > 0 ? `${service} answered ${status}` : undefined;
  if (said !== undefined)
    return {
      reason: `${answered ? `${answered}: ` : ''}${code ? `${code} ` : ''}${decoded(said)}`,
      ...(answered ? { status } : {}),
    };
  const data = text(event.knativeerrordata);
  if (data !== undefined) {
    try {
      const body = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { message?: unknown };
      if (typeof body.message === 'string')
        return { reason: `${answered ?? service}: ${body.message}`, ...(answered ? { status } : {}) };
    } catch {
      /* not JSON: the dispatcher's words below */
    }
  }
  const dispatch = text(event.streamforgedispatchreason);
  return {
    reason: dispatch ? decoded(dispatch) : (answered ?? `${service} could not take it`),
    ...(answered ? { status } : {}),
  };
}

/** The dead letter a dead-letter CloudEvent describes; `workflow` is the one its subject names, if any. */
export function deadLetterOf(
  event: CloudEvent<unknown>,
  workflow: WorkflowRecord | undefined,
  now: number,
): DeadLetter {
  const e = event as AnyEvent;
  const route = routeOf(event, workflow);
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(e)) {
    if (value !== undefined && !FAILURE_EXTENSIONS.has(name) && typeof value !== 'function') kept[name] = value;
  }
  return {
    // Its place in the dead-letter topic: the same event dead-lettered twice is two letters.
    id: `${route.deadLetterTopic}:${String(e.knativekafkapartition ?? '?')}:${String(e.knativekafkaoffset ?? event.id)}`,
    queue_id: text(event.subject) ?? '',
    service: route.service,
    topic: route.topic,
    ...reasonOf(e, route.service),
    dead_lettered_at: now,
    event: kept,
  };
}

/** The event a replay publishes: the original, without what the dead-letter path added. */
export function replayEventOf(letter: DeadLetter): EventInput<unknown> {
  const e = letter.event;
  const extensions: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(e)) {
    if (!ATTRIBUTES.has(name) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'))
      extensions[name] = value;
  }
  return {
    id: String(e.id),
    type: String(e.type),
    source: String(e.source),
    ...(typeof e.subject === 'string' ? { subject: e.subject } : {}),
    ...(typeof e.time === 'string' ? { time: e.time } : {}),
    ...(typeof e.partitionkey === 'string' ? { partitionKey: e.partitionkey } : {}),
    data: e.data,
    // A body kept as text (it was not the JSON it claimed to be) goes back byte for byte.
    ...(typeof e.streamforgebodytext === 'string' && typeof e.data === 'string' ? { dataJson: e.data } : {}),
    ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
  };
}
