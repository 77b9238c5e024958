/**
 * One data batch into the store: every record validated on its own against its kind's
 * contract, the valid ones upserted by key, the others set aside with the reason, the
 * page counted done — all in one store transaction. Then telemetry from the store's own
 * counts, so several connector instances report one consistent progress.
 */
import {
  RECORD_CONTRACTS,
  closeTime,
  isInterval,
  isPriceKlineKind,
  klineRecordJson,
  priceKlineKey,
  expandRows,
  klineImpossibility,
  shortIdOf,
  telemetryId,
  type DataBatch,
  type DataRecord,
  type KlineRecord,
  type PriceKlineRecord,
} from '@streamforge/core/contracts';
import type { RejectedRecord, Store, WriteBatchResult } from '@streamforge/core/store';
import { createReportThrottle, type FunctionMetrics } from '@streamforge/core/telemetry';
import type { TelemetryEmitter } from '@streamforge/core/bus';

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
  if (isPriceKlineKind(batch.kind)) {
    const candle = r as unknown as PriceKlineRecord;
    if (batch.interval !== undefined && candle.interval !== batch.interval)
      return `interval: ${candle.interval} in a batch of ${batch.interval}`;
    // The schema's pattern lets '7m' through, and its NaN close time would pass the bound checks.
    if (!isInterval(candle.interval)) return `interval: ${candle.interval} is not an interval`;
    // The key is what is upserted: another one (a trade candle's `SYMBOL:1m:…`) would overwrite that record.
    const key = priceKlineKey(batch.kind, candle.symbol, candle.interval, candle.open_time);
    if (candle.key !== key) return `key: ${candle.key} is not the ${batch.kind} key ${key}`;
    const end = closeTime(candle.interval, candle.open_time);
    if (candle.close_time < candle.open_time || candle.close_time > end)
      return `close_time: ${candle.close_time} is outside the ${candle.interval} candle opened at ${candle.open_time}`;
    if (Number(candle.high) < Number(candle.low)) return `high: ${candle.high} is below low ${candle.low}`;
  }
  if (batch.kind === 'klines') {
    const kline = r as unknown as KlineRecord;
    if (batch.interval !== undefined && kline.interval !== batch.interval)
      return `interval: ${kline.interval} in a batch of ${batch.interval}`;
    const impossible = klineImpossibility(kline);
    if (impossible !== undefined) return impossible;
  }
  return undefined;
}

export function splitBatch(batch: DataBatch): { records: DataRecord[]; rejected: RejectedRecord[] } {
  const records: DataRecord[] = [];
  const rejected: RejectedRecord[] = [];
  const expanded = batch.rows ? expandRows(batch) : { records: batch.records ?? [], invalid: [] };
  for (const { row, reason } of expanded.invalid)
    rejected.push({ collection: batch.collection_name, queue_id: batch.queue_id, reason, record: row });
  for (const record of expanded.records as unknown[]) {
    const reason = rejectionOf(batch, record);
    if (reason === undefined) {
      records.push(record as DataRecord);
    } else {
      const key = typeof (record as { key?: unknown })?.key === 'string' ? (record as { key: string }).key : undefined;
      rejected.push({
        collection: batch.collection_name,
        queue_id: batch.queue_id,
        ...(key ? { key } : {}),
        reason,
        record,
      });
    }
  }
  return { records, rejected };
}

const backfillReports = createReportThrottle(250);

export async function storeBatch(deps: ConnectorDeps, batch: DataBatch): Promise<WriteBatchResult> {
  const { records, rejected } = splitBatch(batch);
  const page = batch.page;
  const result = await deps.store.writeBatch({
    collection: batch.collection_name,
    records,
    ...(batch.kind === 'klines' ? { json: (records as unknown as KlineRecord[]).map(klineRecordJson) } : {}),
    rejected,
    // What was stored, not what arrived: the rejected are counted apart (`rejected`), never as written.
    ...(page
      ? {
          progress: {
            queue_id: batch.queue_id,
            page: page.index,
            pages: page.count,
            part: page.part,
            parts: page.parts,
            records: records.length,
          },
        }
      : {}),
  });
  deps.metrics?.recordsWritten.inc({ collection: batch.collection_name }, result.written);
  if (result.rejected > 0)
    deps.metrics?.deadLettered.inc({ source: 'record-validation', reason: 'contract' }, result.rejected);

  if (!page) {
    await reportLive(deps, batch, result);
    return result;
  }
  const progress = result.progress;
  const finished = progress?.pagesTotal !== undefined && progress.pagesDone >= progress.pagesTotal;
  // Progress is read from the store, so skipped reports lose nothing; the final one always goes.
  if (!backfillReports.due(batch.queue_id, finished)) return result;
  await deps.telemetry.emit({
    queue_id: batch.queue_id,
    producer: telemetryId(SERVICE, shortIdOf(batch.queue_id)),
    symbol: batch.symbol,
    status: finished ? 'finished' : 'loading',
    message: finished
      ? `stored ${progress?.recordsWritten} records in ${batch.collection_name}${(progress?.rejected ?? 0) > 0 ? `; rejected ${progress?.rejected} (in rejected_records, with the reason)` : ''}`
      : `saved ${result.written} records${result.rejected > 0 ? `, rejected ${result.rejected}` : ''}`,
    records_written: progress?.recordsWritten ?? result.written,
    ...(progress?.pagesTotal !== undefined
      ? { progress: { done: progress.pagesDone, total: progress.pagesTotal, unit: 'pages' } }
      : {}),
    rejected: progress?.rejected ?? result.rejected,
  });
  return result;
}

/**
 * Live batches (no page: a stream never finishes) arrive many times a second. Reporting
 * each one would flood queue-events, and a per-batch count says nothing about the
 * workflow, so a workflow's live progress is reported at most every LIVE_REPORT_MS, with
 * the collection's record count (cheap, and right whichever connector instance wrote
 * what), plus one trailing report so the last batches of a stream are counted too.
 */
export const LIVE_REPORT_MS = 2_000;
const liveReports = new Map<string, { at: number; trailing?: NodeJS.Timeout }>();

async function reportLive(deps: ConnectorDeps, batch: DataBatch, result: WriteBatchResult): Promise<void> {
  const now = Date.now();
  const last = liveReports.get(batch.queue_id);
  if (last !== undefined && now - last.at < LIVE_REPORT_MS) {
    last.trailing ??= setTimeout(
      () => {
        last.trailing = undefined;
        last.at = Date.now();
        // Best effort: a lost progress report is repaired by the next one; the records are stored already.
        emitLive(deps, batch, result.rejected).catch(() => undefined);
      },
      LIVE_REPORT_MS - (now - last.at),
    );
    last.trailing.unref();
    return;
  }
  liveReports.set(batch.queue_id, { at: now });
  await emitLive(deps, batch, result.rejected);
}

async function emitLive(deps: ConnectorDeps, batch: DataBatch, rejected: number): Promise<void> {
  const count = await deps.store.countRecords(batch.collection_name);
  await deps.telemetry.emit({
    queue_id: batch.queue_id,
    producer: telemetryId(SERVICE, shortIdOf(batch.queue_id)),
    symbol: batch.symbol,
    status: 'loading',
    message: `${count} records stored in ${batch.collection_name} (live)${rejected > 0 ? `; last batch rejected ${rejected}` : ''}`,
    records_written: count,
    rejected,
  });
}
