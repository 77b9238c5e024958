/**
 * A page's parts sent as they are cut, a few at a time: a page of millions of rows (an archive
 * file, a spooled hour of trades) holds one send of events, not the page. The part count
 * must be known before the first part goes, as every event names it.
 */
import type { EventInput } from '@streamforge/core/bus';
import type { DataBatch, RowFormat, WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { dataEventOf, type PageOrigin } from './data-events.ts';
import type { PagePart } from './page-parts.ts';

/** Sends events of one page to its data topic. */
export type SendEvents = (events: Array<EventInput<DataBatch>>) => Promise<void>;

/** Parts sent to Kafka at once: at most 4 × 800 kB of events held. */
const PARTS_PER_SEND = 4;

export class PartSender {
  readonly #page: WorkPage;
  readonly #origin: PageOrigin;
  readonly #format: RowFormat;
  readonly #parts: number;
  readonly #send: SendEvents;
  #next = 0;
  #pending: Array<EventInput<DataBatch>> = [];

  constructor(page: WorkPage, origin: PageOrigin, format: RowFormat, parts: number, send: SendEvents) {
    this.#page = page;
    this.#origin = origin;
    this.#format = format;
    this.#parts = parts;
    this.#send = send;
  }

  /** The next part of the page; sends when a send's worth is pending. */
  async add(part: PagePart): Promise<void> {
    this.#pending.push(dataEventOf(this.#page, this.#origin, this.#format, part, this.#next, this.#parts));
    this.#next += 1;
    if (this.#pending.length >= PARTS_PER_SEND) await this.flush();
  }

  /** Sends what is pending. */
  async flush(): Promise<void> {
    const events = this.#pending;
    this.#pending = [];
    if (events.length > 0) await this.#send(events);
  }

  /**
   * Sends the rest, and fails if the page made other parts than it counted (its spool read
   * back otherwise than it was written): the connector would count the page done too early or
   * never, so the page fails to be loaded again. Its events are sent by then; their records
   * are keyed, so a second load stores nothing twice.
   */
  async finish(): Promise<void> {
    await this.flush();
    if (this.#next !== this.#parts)
      throw new StreamForgeError(
        'SF_INTERNAL',
        `page ${this.#page.page.index} of ${this.#page.queue_id}: counted ${this.#parts} parts, cut ${this.#next}`,
      );
  }
}
