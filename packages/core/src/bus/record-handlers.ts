/**
 * The handlers of a record consumer (record-consumer.ts): when a record starts (per partition
 * one at a time when ordered; when unordered, on a place of fair-places.ts), its attempts, and
 * what its outcome leaves. A throw that is to be retried (its disposition, errors.ts; anything
 * that is no StreamForgeError counts as SF_INTERNAL) is tried again with capped backoff, for as
 * long as it takes (the record cannot be skipped without losing it); one whose disposition is
 * dead-letter or reject goes to `onFailed`, and its offset advances.
 */
import { toStreamForgeError, type StreamForgeError } from '../errors.ts';
import { backoffDelay, sleep, type Backoff } from '../retry/backoff.ts';
import type { OffsetCommits } from './offset-commits.ts';
import { type ConsumerState, forget, type Item } from './partition-lanes.ts';
import type { Delivery, RecordConsumerOptions } from './record-consumer-options.ts';
import type { ConsumedRecord } from './records.ts';

export interface RecordHandlers {
  /** Starts the handlers that may start now. */
  pump(): void;
  /** Handlers alive (running, or waiting for their next attempt). */
  readonly running: number;
  /** Resolves once no handler is alive. */
  idle(): Promise<void>;
}

export function createRecordHandlers(
  state: ConsumerState,
  options: Pick<RecordConsumerOptions, 'handle' | 'onFailed'>,
  parts: {
    /** Backoff of a handler that throws. */
    retry: Backoff;
    commits: OffsetCommits;
    /** Called after every change of what runs: the buffer may have room again. */
    adjust: () => void;
  },
): RecordHandlers {
  const { groupId, logger, lanes, retiring, places } = state;
  let running = 0;
  const idle: Array<() => void> = [];

  /** Starts handlers: per partition one at a time when ordered; when unordered, a place to the flow holding the fewest. */
  function pump(): void {
    if (!state.stopping) {
      if (state.ordered) {
        for (const lane of lanes.values()) {
          if (lane.queue.length === 0 || lane.running > 0 || (retiring.get(lane.key)?.running ?? 0) > 0) continue;
          start(lane.queue.shift() as Item);
        }
      } else {
        for (let grant = places.grant(); grant; grant = places.grant()) {
          grant.item.placed = true;
          if (grant.resume) grant.resume(true);
          else start(grant.item);
        }
      }
    }
    parts.adjust();
  }

  function start(item: Item): void {
    const { lane } = item;
    lane.running++;
    running++;
    if (item.offset > lane.started) lane.started = item.offset;
    void run(item);
  }

  async function run(item: Item): Promise<void> {
    const { lane, record } = item;
    const delivery: Delivery = { signal: lane.abort.signal, backoff: (ms) => backoff(item, ms) };
    let outcome: Awaited<ReturnType<RecordConsumerOptions['handle']>> = false;
    for (let attempt = 0; !state.stopping && lane.owned; attempt++) {
      try {
        outcome = await options.handle(record, delivery);
        break;
      } catch (error) {
        const failure = toStreamForgeError(error);
        if (failure.disposition !== 'retry' && (await failedForGood(record, failure))) {
          outcome = undefined;
          break;
        }
        const delay = backoffDelay(parts.retry, attempt + 1);
        logger?.warn(
          {
            groupId,
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            attempt,
            delayMs: delay,
            err: error,
          },
          'record handler failed; trying again',
        );
        await backoff(item, delay);
      }
    }
    lane.running--;
    running--;
    if (item.placed) release(item);
    forget(state, item);
    lane.movedAt = Date.now();
    if (lane.running === 0 && retiring.get(lane.key) === lane) retiring.delete(lane.key);
    // Without an outcome the offset stays where it is: the record comes again to whoever owns the partition next.
    if (outcome !== false) parts.commits.done(lane, item.offset);
    if (running === 0) for (const wake of idle.splice(0)) wake();
    pump();
  }

  /** A record not to be tried again: told to `onFailed` (true once it returned), or passed over. */
  async function failedForGood(record: ConsumedRecord, error: StreamForgeError): Promise<boolean> {
    const where = {
      groupId,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      code: error.code,
      disposition: error.disposition,
    };
    if (!options.onFailed) {
      logger?.error({ ...where, err: error }, 'record handler failed for good; the record is passed over');
      return true;
    }
    try {
      await options.onFailed(error, record);
      return true;
    } catch (failure) {
      logger?.warn({ ...where, err: failure }, 'a record that failed for good could not be set aside; trying it again');
      return false;
    }
  }

  function release(item: Item): void {
    item.placed = false;
    if (item.flow) places.release(item.flow);
  }

  /** The wait before a record's next attempt; unordered, it gives its place up meanwhile and asks for one again after. */
  async function backoff(item: Item, ms: number): Promise<void> {
    const { lane, flow } = item;
    // Ordered, the partition waits for this record whatever happens: there is no place to give.
    if (!flow) return sleep(ms, lane.abort.signal);
    if (item.placed) {
      release(item);
      pump();
    }
    await sleep(ms, lane.abort.signal);
    if (state.stopping || lane.abort.signal.aborted) return; // no place: the handler is to end (its signal says why)
    await new Promise<boolean>((grant) => {
      places.ask(flow, item, grant);
      pump();
    });
  }

  return {
    pump,
    get running() {
      return running;
    },
    idle: () => new Promise<void>((wake) => idle.push(wake)),
  };
}
