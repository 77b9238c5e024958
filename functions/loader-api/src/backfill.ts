/**
 * loader-api's two steps. `startBackfill`: a start command becomes pages on the work topic
 * (parallel instances share them through Kafka). `loadPage`: one page is fetched from the
 * exchange and published as data batches, then counted done in the store — exactly once,
 * however often the page is delivered.
 */
import {
  commandTelemetryBase,
  MAX_SEND_BYTES,
  reportFinalFailure,
  TOPICS,
  type EventInput,
  type EventProducer,
  type TelemetryEmitter,
} from '@streamforge/core/bus';
import {
  EVENT_TYPES,
  dataEventType,
  parseWorkflowType,
  KLINE_LIMITS,
  sourceOf,
  type BinanceKlineRow,
  type DataBatch,
  type RowFormat,
  type Interval,
  type StartCommand,
  type WorkPage,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { BinanceRestClient } from '@streamforge/exchange';
import type { Store } from '@streamforge/core/store';
import { createReportThrottle, type Logger } from '@streamforge/core/telemetry';
import { createGate } from './page-gate.ts';
import { partsOfRows, partsOfText } from './page-parts.ts';
import { planPages, type PagePlanOptions } from './plan-pages.ts';
import { SERVICE } from './service.ts';

/** Progress is cumulative (from the store), so reporting it a few times a second loses nothing. */
const reports = createReportThrottle(250);

export interface LoaderDeps {
  exchange: BinanceRestClient;
  producer: EventProducer;
  telemetry: TelemetryEmitter;
  store: Store;
  logger: Logger;
  clock?: () => number;
  plan?: PagePlanOptions;
}

function telemetryBase(page: { queue_id: string; telemetry_id: string; symbol: string; type: string }) {
  return { queue_id: page.queue_id, producer: page.telemetry_id, symbol: page.symbol, type: page.type };
}

export async function startBackfill(deps: LoaderDeps, command: StartCommand): Promise<number> {
  const plan = parseWorkflowType(command.type);
  if (plan.source !== 'api')
    throw new StreamForgeError('SF_CONTRACT_INVALID', `type: loader-api does not load ${command.type}`);
  const base = commandTelemetryBase(command, SERVICE);
  // One cheap request proves the symbol exists before hundreds of pages are planned.
  try {
    await deps.exchange.exchangeInfo({ market: command.market ?? 'spot', symbol: command.symbol });
  } catch (error) {
    if (StreamForgeError.is(error) && error.code === 'SF_EXCHANGE_REJECTED') {
      await deps.telemetry.emit({
        ...base,
        status: 'error',
        message: error.message,
        error: { code: error.code, message: error.message, retryable: false },
      });
      return 0;
    }
    throw error;
  }
  const pages = planPages(command, plan.kind, plan.interval, { now: (deps.clock ?? Date.now)(), ...deps.plan });
  // However many pages (a 31-day month of 1s candles is 2679), the producer sends them in requests of at most MAX_SEND_BYTES.
  await deps.producer.send(
    TOPICS.loaderWork,
    pages.map((page) => ({
      id: `${page.queue_id}:page:${page.page.index}`,
      type: EVENT_TYPES.workPage,
      source: sourceOf(SERVICE),
      subject: page.queue_id,
      // Spread pages over the work topic's partitions, so instances share one workflow.
      partitionKey: `${page.symbol}:${page.page.index}`,
      data: page,
    })),
  );
  await deps.telemetry.emit({
    ...base,
    status: 'started',
    message: `${pages.length} pages planned`,
    progress: { done: 0, total: pages.length, unit: 'pages' },
  });
  deps.logger.info({ queue_id: command.queue_id, pages: pages.length }, 'backfill planned');
  return pages.length;
}

/** A page's rows as the exchange sent them (the connector turns them into records, ROW_FORMATS). */
interface FetchedPage {
  format: RowFormat;
  count: number;
  rows?: unknown[];
  /** The rows as the exchange's JSON text, forwarded without decoding. */
  rowsJson?: string;
}

/** Kline rows hold no nested arrays, so the rows of a kline array are its `[` less the outer one. */
function countKlineRows(json: string): number {
  let brackets = 0;
  for (let at = json.indexOf('['); at !== -1; at = json.indexOf('[', at + 1)) brackets++;
  return Math.max(0, brackets - 1);
}

async function fetchPage(deps: LoaderDeps, page: WorkPage, now: number): Promise<FetchedPage> {
  if (page.kind === 'klines') {
    const interval = page.interval as Interval;
    const query = {
      market: page.market,
      symbol: page.symbol,
      interval,
      startTime: page.start_ms,
      endTime: page.end_ms - 1,
      limit: KLINE_LIMITS[page.market].max,
    };
    // A page wholly in the past holds only closed candles, all inside it (startTime/endTime
    // bound them), so the exchange's bytes go on as they are: nothing to decode or re-encode.
    if (page.end_ms <= now) {
      const rowsJson = await deps.exchange.klinesText(query);
      return { format: 'binance_kline', rowsJson, count: countKlineRows(rowsJson) };
    }
    const rows = (await deps.exchange.klines(query)) as unknown as BinanceKlineRow[];
    // A page reaching now: only candles already closed; an open candle is not final yet.
    const closed = rows.filter((row) => row[0] >= page.start_ms && row[0] < page.end_ms && row[6] < now);
    return { format: 'binance_kline', rows: closed, count: closed.length };
  }
  const trades: unknown[] = [];
  for await (const pageOfTrades of deps.exchange.aggTradePages({
    market: page.market,
    symbol: page.symbol,
    startTime: page.start_ms,
    endTime: page.end_ms - 1,
  }))
    trades.push(...pageOfTrades);
  return { format: 'binance_agg_trade', rows: trades, count: trades.length };
}

/**
 * A fetched page as data events, one part each. Each event is one Kafka record: its rows get
 * what MAX_SEND_BYTES leaves after the envelope (measured with part and parts at their
 * largest, the page's row count). Only the events' text outlives this call, not the decoded rows.
 */
function dataEventsOf(page: WorkPage, fetched: FetchedPage): Array<EventInput<DataBatch>> {
  const envelope = (part: number, parts: number): DataBatch => ({
    queue_id: page.queue_id,
    symbol: page.symbol,
    market: page.market,
    kind: page.kind,
    ...(page.interval ? { interval: page.interval } : {}),
    collection_name: page.collection_name,
    source: 'api',
    telemetry_id: page.telemetry_id,
    page: { index: page.page.index, count: page.page.count, part, parts },
    row_format: fetched.format,
  });
  const rowBytes = MAX_SEND_BYTES - JSON.stringify(envelope(fetched.count, fetched.count)).length - ',"rows":'.length;
  const parts =
    fetched.rowsJson !== undefined
      ? partsOfText(fetched.rowsJson, fetched.count, rowBytes)
      : partsOfRows(fetched.rows ?? [], rowBytes);
  return parts.map(({ rowsJson }, part) => {
    const data = envelope(part, parts.length);
    // The envelope, then the rows' JSON text as `rows` (the envelope never is empty, so it ends in `}`).
    const dataJson = `${JSON.stringify(data).slice(0, -1)},"rows":${rowsJson}}`;
    // Deterministic ids: a re-fetched page produces the same events.
    return {
      id: `${page.queue_id}:page:${page.page.index}:${part}`,
      type: dataEventType(page.kind),
      source: sourceOf(SERVICE),
      subject: page.queue_id,
      partitionKey: `${page.symbol}:${page.page.index}`,
      data,
      dataJson,
    };
  });
}

/** Pages of trades at once per instance: 4 × ~30 MB stays well inside an instance's memory. */
const wholePages = createGate(4);

export async function loadPage(deps: LoaderDeps, page: WorkPage): Promise<'loaded' | 'skipped'> {
  const base = telemetryBase(page);
  const workflow = await deps.store.getWorkflow(page.queue_id);
  // A stopped or failed workflow takes no more of the exchange's weight budget.
  if (workflow && (workflow.status === 'stopped' || workflow.status === 'error')) return 'skipped';

  const load = async (): Promise<number> => {
    let fetched: FetchedPage;
    try {
      fetched = await fetchPage(deps, page, (deps.clock ?? Date.now)());
    } catch (error) {
      // A page the exchange refuses for good (its code's disposition) ends the workflow; the rest is retried.
      await reportFinalFailure(deps.telemetry, base, error);
      throw error;
    }
    await deps.producer.send(page.kafka_topic, dataEventsOf(page, fetched));
    return fetched.count;
  };
  // Kline pages hold at most 1000 rows; a page of trades holds an hour of them until sent.
  const count = page.kind === 'klines' ? await load() : await wholePages(load);

  const progress = await deps.store.markPageDone(SERVICE, page.queue_id, page.page.index, page.page.count);
  const finished = progress.done >= progress.total;
  if (!reports.due(page.queue_id, finished)) return 'loaded';
  await deps.telemetry.emit({
    ...base,
    status: finished ? 'finished' : 'loading',
    message: finished
      ? `all ${progress.total} pages fetched`
      : `page ${page.page.index + 1}/${page.page.count}: ${count} records`,
    progress: { done: progress.done, total: progress.total, unit: 'pages' },
  });
  return 'loaded';
}
