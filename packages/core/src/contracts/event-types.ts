/**
 * CloudEvent types, named `dev.streamforge.<area>.<name>`. The type says what `data` holds;
 * the subject is the workflow's queue_id; the Kafka key (partitionkey) is the symbol.
 */
import type { DataKind } from './workflow-type.ts';

export const EVENT_TYPES = {
  controlStart: 'dev.streamforge.control.start',
  controlStop: 'dev.streamforge.control.stop',
  controlPing: 'dev.streamforge.control.ping',
  telemetry: 'dev.streamforge.telemetry',
  workPage: 'dev.streamforge.work.page',
  dataKlines: 'dev.streamforge.data.klines',
  dataAggTrades: 'dev.streamforge.data.agg_trades',
  dataTrades: 'dev.streamforge.data.trades',
  dataDepth: 'dev.streamforge.data.depth',
  dataBookTicker: 'dev.streamforge.data.book_ticker',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

export function dataEventType(kind: DataKind): EventType {
  return `dev.streamforge.data.${kind}` as EventType;
}

export function isDataEventType(type: string): boolean {
  return type.startsWith('dev.streamforge.data.');
}

/** CloudEvents `source` of events a service emits. */
export function sourceOf(service: string): string {
  return `/streamforge/${service}`;
}
