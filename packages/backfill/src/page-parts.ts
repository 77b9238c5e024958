/**
 * A fetched page cut into the parts its data events carry. One page can be far larger than
 * one Kafka record may be (an hour of BTCUSDT aggTrades is several MB), so a part holds at
 * most `maxBytes` of rows as JSON, and at most RECORDS_PER_PART decoded rows (what the
 * connector validates and writes per delivery). The cut depends on the rows alone: a page
 * fetched again gives the same parts, so the connector counts each part, and the page, once.
 * Pure.
 */
/** Decoded rows per data event: a page of klines, and slices of an aggTrades hour. */
export const RECORDS_PER_PART = 1000;

/** One part: its rows as a JSON array, and how many. */
export interface PagePart {
  rowsJson: string;
  count: number;
}

/**
 * Cuts rows, one JSON text at a time, into parts: a part closes before a row would take it
 * past `maxBytes` (with its brackets and commas) or past `maxRows` rows. Streaming, so a
 * file of millions of rows is cut without holding them; the cut depends on the rows alone.
 */
export class PartCutter {
  readonly #maxBytes: number;
  readonly #maxRows: number;
  readonly #keep: boolean;
  #texts: string[] = [];
  #rows = 0;
  #bytes = 0;

  /** `measureOnly`: the same cut, counted without joining the texts (a part's `rowsJson` is empty). */
  constructor(maxBytes: number, maxRows = RECORDS_PER_PART, { measureOnly = false } = {}) {
    // Exchange rows are ASCII, so a text's length is its size in bytes; +1 for the comma. The last
    // row has none, so rows and commas may take maxBytes - 1: `[`, `]` need 2, less that comma.
    this.#maxBytes = maxBytes - 1;
    this.#maxRows = maxRows;
    this.#keep = !measureOnly;
  }

  /** Adds one row's JSON text; answers the part it closed, if it closed one. */
  add(text: string): PagePart | undefined {
    const size = text.length + 1;
    let closed: PagePart | undefined;
    if (this.#rows > 0 && (this.#bytes + size > this.#maxBytes || this.#rows >= this.#maxRows)) closed = this.finish();
    if (this.#keep) this.#texts.push(text);
    this.#rows += 1;
    this.#bytes += size;
    return closed;
  }

  /** The last, open part, if it holds any row. */
  finish(): PagePart | undefined {
    if (this.#rows === 0) return undefined;
    const part = { rowsJson: this.#keep ? `[${this.#texts.join(',')}]` : '', count: this.#rows };
    this.#texts = [];
    this.#rows = 0;
    this.#bytes = 0;
    return part;
  }
}

/** Decoded rows in parts; each row is serialized once. */
export function partsOfRows(rows: readonly unknown[], maxBytes: number, maxRows = RECORDS_PER_PART): PagePart[] {
  const cutter = new PartCutter(maxBytes, maxRows);
  const parts: PagePart[] = [];
  for (const row of rows) {
    const closed = cutter.add(JSON.stringify(row));
    if (closed) parts.push(closed);
  }
  const last = cutter.finish();
  if (last) parts.push(last);
  return parts.length === 0 ? [{ rowsJson: '[]', count: 0 }] : parts;
}

/**
 * The exchange's own text of `count` rows: one part as it came (nothing decoded) when it fits,
 * else decoded and cut like any rows.
 */
export function partsOfText(rowsJson: string, count: number, maxBytes: number): PagePart[] {
  if (rowsJson.length <= maxBytes) return [{ rowsJson, count }];
  return partsOfRows(JSON.parse(rowsJson) as unknown[], maxBytes);
}
