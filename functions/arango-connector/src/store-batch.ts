/**
 * One data batch into the store: every record validated on its own against its kind's
 * contract, the valid ones upserted by key, the others set aside with the reason, the
 * page counted done — all in one store transaction. Then telemetry from the store's own
 * counts, so several connector instances report one consistent progress.
 */
import {
  RECORD_CONTRACTS,
  klineIsConsistent,
  shortIdOf,
  telemetryId,
  type DataBatch,
  type DataRecord,
  type KlineRecord,
} from '@streamforge/shared/contracts';
import type { RejectedRecord, Store, WriteBatchResult } from '@streamforge/shared/store';
import type { FunctionMetrics, TelemetryEmitter } from '@streamforge/shared/telemetry';

export const SERVICE = 'arango-connector';

export interface ConnectorDeps {
  store: Store;
  telemetry: TelemetryEmitter;
  metrics?: FunctionMetrics;
}

/** Why a record cannot be stored, or undefined when it can. */
function rejectionOf(batch: DataBatch, record: unknown): string | undefined {
  const errors = RECORD_CONTRACTS[batch.kind].check(record);
  if (errors.length > 0) return errors.map((e) => `${e.field}: ${e.reason}`).join('; ');
  const r = record as DataRecord;
  if (r.symbol !== batch.symbol) return `symbol: ${r.symbol} in a batch of ${batch.symbol}`;
  if (batch.kind === 'klines') {
    const kline = r as unknown as KlineRecord;
    if (batch.interval !== undefined && kline.interval !== batch.interval) return `interval: ${kline.interval} in a batch of ${batch.interval}`;
    if (!klineIsConsistent(kline)) return `close_time: ${kline.close_time} does not close a ${kline.interval} candle opened at ${kline.open_time}`;
  }
  return undefined;
}

export function splitBatch(batch: DataBatch): { records: DataRecord[]; rejected: RejectedRecord[] } {
  const records: DataRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const record of batch.records as unknown[]) {
    const reason = rejectionOf(batch, record);
    if (reason === undefined) {
      records.push(record as DataRecord);
    } else {
      const key = typeof (record as { key?: unknown })?.key === 'string' ? (record as { key: string }).key : undefined;
      rejected.push({ collection: batch.collection_name, queue_id: batch.queue_id, ...(key ? { key } : {}), reason, record });
    }
  }
  return { records, rejected };
}

export async function storeBatch(deps: ConnectorDeps, batch: DataBatch): Promise<WriteBatchResult> {
  const { records, rejected } = splitBatch(batch);
  const page = batch.page;
  const result = await deps.store.writeBatch({
    collection: batch.collection_name,
    records,
    rejected,
    ...(page ? { progress: { queue_id: batch.queue_id, page: page.index, pages: page.count, part: page.part, parts: page.parts, records: batch.records.length } } : {}),
  });
  deps.metrics?.recordsWritten.inc({ collection: batch.collection_name }, result.written);
  if (result.rejected > 0) deps.metrics?.deadLettered.inc({ source: 'record-validation', reason: 'contract' }, result.rejected);

  const progress = result.progress;
  const finished = progress?.pagesTotal !== undefined && progress.pagesDone >= progress.pagesTotal;
  await deps.telemetry.emit({
    queue_id: batch.queue_id,
    producer: telemetryId(SERVICE, shortIdOf(batch.queue_id)),
    symbol: batch.symbol,
    status: finished ? 'finished' : 'loading',
    message: finished
      ? `stored ${progress?.recordsWritten} records in ${batch.collection_name}`
      : `saved ${result.written} records${result.rejected > 0 ? `, rejected ${result.rejected}` : ''}`,
    records_written: progress?.recordsWritten ?? result.written,
    ...(progress?.pagesTotal !== undefined ? { progress: { done: progress.pagesDone, total: progress.pagesTotal, unit: 'pages' } } : {}),
    rejected: progress?.rejected ?? result.rejected,
  });
  return result;
}
