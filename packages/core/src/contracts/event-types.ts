/**
 * CloudEvent types, named `dev.streamforge.<area>.<name>`. The type says what `data` holds;
 * the subject is the workflow's queue_id; the Kafka key (partitionkey) is the symbol.
 */
import type { RecordKind } from './workflow-type.ts';

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
  dataMarkPriceKlines: 'dev.streamforge.data.mark_price_klines',
  dataIndexPriceKlines: 'dev.streamforge.data.index_price_klines',
  dataPremiumIndexKlines: 'dev.streamforge.data.premium_index_klines',
  dataFundingRate: 'dev.streamforge.data.funding_rate',
  dataMetrics: 'dev.streamforge.data.metrics',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

export function dataEventType(kind: RecordKind): EventType {
  return `dev.streamforge.data.${kind}` as EventType;
}

export function isDataEventType(type: string): boolean {
  return type.startsWith('dev.streamforge.data.');
}

/** CloudEvents `source` of events a service emits. */
export function sourceOf(service: string): string {
  return `/streamforge/${service}`;
}
