/**
 * A fetched page cut into the parts its data events carry. One page can be far larger than
 * one Kafka record may be (an hour of BTCUSDT aggTrades is several MB), so a part holds at
 * most `maxBytes` of rows as JSON, and at most RECORDS_PER_PART decoded rows (what the
 * connector validates and writes per delivery). The cut depends on the rows alone: a page
 * fetched again gives the same parts, so the connector counts each part, and the page, once.
 * Pure.
 */
import { sliceBySize } from '@streamforge/core/bus';

/** Decoded rows per data event: a page of klines, and slices of an aggTrades hour. */
export const RECORDS_PER_PART = 1000;

/** One part: its rows as a JSON array, and how many. */
export interface PagePart {
  rowsJson: string;
  count: number;
}

/** Decoded rows in parts; each row is serialized once, and a part's array joined from those texts. */
export function partsOfRows(rows: readonly unknown[], maxBytes: number, maxRows = RECORDS_PER_PART): PagePart[] {
  const texts = rows.map((row) => JSON.stringify(row));
  // Exchange rows are ASCII, so a text's length is its size in bytes; +1 for the comma. The last
  // row has none, so rows and commas may take maxBytes - 1: `[`, `]` need 2, less that comma.
  const slices = sliceBySize(texts, (text) => text.length + 1, maxBytes - 1, maxRows);
  if (slices.length === 0) return [{ rowsJson: '[]', count: 0 }];
  return slices.map((slice) => ({ rowsJson: `[${slice.join(',')}]`, count: slice.length }));
}

/**
 * The exchange's own text of `count` rows: one part as it came (nothing decoded) when it fits,
 * else decoded and cut like any rows.
 */
export function partsOfText(rowsJson: string, count: number, maxBytes: number): PagePart[] {
  if (rowsJson.length <= maxBytes) return [{ rowsJson, count }];
  return partsOfRows(JSON.parse(rowsJson) as unknown[], maxBytes);
}
