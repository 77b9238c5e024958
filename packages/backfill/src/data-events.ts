/**
 * A page's rows as data events, one part each. Each event is one Kafka record: its rows get
 * what MAX_SEND_BYTES leaves after the envelope. Ids are deterministic, so a page loaded
 * again produces the same events, and the connector counts each part, and the page, once.
 */
import { MAX_SEND_BYTES, type EventInput } from '@streamforge/core/bus';
import { dataEventType, sourceOf, type DataBatch, type RowFormat, type WorkPage } from '@streamforge/core/contracts';
import { partsOfRows, partsOfText, type PagePart } from './page-parts.ts';
import type { FetchedPage } from './rest-page.ts';

/** Who publishes a page's events, and from where its rows came. */
export interface PageOrigin {
  service: string;
  source: DataBatch['source'];
}

function envelopeOf(page: WorkPage, origin: PageOrigin, format: RowFormat, part: number, parts: number): DataBatch {
  return {
    queue_id: page.queue_id,
    symbol: page.symbol,
    market: page.market,
    kind: page.kind,
    ...(page.interval ? { interval: page.interval } : {}),
    collection_name: page.collection_name,
    source: origin.source,
    telemetry_id: page.telemetry_id,
    page: { index: page.page.index, count: page.page.count, part, parts },
    row_format: format,
  };
}

/** More parts than any page makes: the envelope's size bound when a page's part count is not known yet. */
const MOST_PARTS = 999_999_999;

/**
 * What one part's rows may take: MAX_SEND_BYTES less the envelope, measured with part and
 * parts at their largest (`rows`, or any count a page can reach when its rows are not known yet).
 */
export function rowBytesOf(page: WorkPage, origin: PageOrigin, format: RowFormat, rows = MOST_PARTS): number {
  return MAX_SEND_BYTES - JSON.stringify(envelopeOf(page, origin, format, rows, rows)).length - ',"rows":'.length;
}

/** Part `part` of `parts` of a page as its data event. */
export function dataEventOf(
  page: WorkPage,
  origin: PageOrigin,
  format: RowFormat,
  { rowsJson }: PagePart,
  part: number,
  parts: number,
): EventInput<DataBatch> {
  const data = envelopeOf(page, origin, format, part, parts);
  // The envelope, then the rows' JSON text as `rows` (the envelope never is empty, so it ends in `}`).
  const dataJson = `${JSON.stringify(data).slice(0, -1)},"rows":${rowsJson}}`;
  return {
    id: `${page.queue_id}:page:${page.page.index}:${part}`,
    type: dataEventType(page.kind),
    source: sourceOf(origin.service),
    subject: page.queue_id,
    // Parts are independent (the connector counts them in the store, in any order): spread
    // over the data topic's partitions, a page of many parts is stored by several consumers.
    partitionKey: `${page.symbol}:${page.page.index}:${part}`,
    data,
    dataJson,
  };
}

/** A fetched page as data events. Only the events' text outlives this call, not the decoded rows. */
export function dataEventsOf(page: WorkPage, fetched: FetchedPage, origin: PageOrigin): Array<EventInput<DataBatch>> {
  const rowBytes = rowBytesOf(page, origin, fetched.format, fetched.count);
  const parts =
    fetched.rowsJson !== undefined
      ? partsOfText(fetched.rowsJson, fetched.count, rowBytes)
      : partsOfRows(fetched.rows ?? [], rowBytes);
  return parts.map((part, index) => dataEventOf(page, origin, fetched.format, part, index, parts.length));
}
