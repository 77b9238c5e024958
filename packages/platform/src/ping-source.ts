/**
 * The local stand-in for Knative's PingSource (knative/deadline-ping.yaml): on the manifest's
 * schedule, a binary-mode CloudEvent (`dev.knative.sources.ping`, `source` the PingSource's
 * path, the manifest's `data` as the body with its `contentType`) POSTed to the sink's
 * activator, which starts the function when it has no instance, as any event does.
 *
 * Schedules: the part of standard 5-field cron syntax the manifests use, every N minutes (a
 * minute field of `*` or `*` stepped by N, the other four `*`), firing at the minutes of the
 * hour divisible by N (UTC), as cron does. Anything else is refused naming the schedule, rather than run at other times
 * than a cluster would. `periodMs` (STREAMFORGE_PING_PERIOD_MS) replaces the schedule with a
 * fixed period, so tests need not wait minutes; `held` (STREAMFORGE_PING_HOLD_FILE) skips ticks
 * until a test has reached the state a tick must find.
 */
import { randomUUID } from 'node:crypto';
import { pingSourceOf, PING_EVENT_TYPE } from '@streamforge/core/contracts';
import { dispositionOfResponse, StreamForgeError } from '@streamforge/core/errors';
import { backoffDelay, sleep } from '@streamforge/core/retry';
import type { Logger } from '@streamforge/core/telemetry';
import type { PingSourceSpec } from './manifests.ts';

const MINUTE_MS = 60_000;

/** The minutes between ticks of a schedule, or an error naming what the local platform cannot run. */
export function parseSchedule(schedule: string, where: string): number {
  const fields = schedule.trim().split(/\s+/);
  const minute = /^(?:\*|\*\/([1-9]\d?))$/.exec(fields[0] ?? '');
  const every = minute ? Number(minute[1] ?? 1) : Number.NaN;
  if (fields.length !== 5 || fields.slice(1).some((f) => f !== '*') || !(every >= 1 && every <= 59))
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `${where}: schedule "${schedule}" is not one the local platform runs: use "*/N * * * *" (every N minutes, 1-59) or "* * * * *"`,
    );
  return every;
}

/** When a schedule of every `minutes` fires next after `now`: the next whole minute of the hour divisible by it. */
export function nextTick(minutes: number, now: number): number {
  let at = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  while (new Date(at).getUTCMinutes() % minutes !== 0) at += MINUTE_MS;
  return at;
}

export interface PingEvent {
  id: string;
  type: string;
  source: string;
  contentType?: string;
  data?: string;
}

export interface PingSourceOptions {
  spec: PingSourceSpec;
  /** Where the events go: the sink function's activator. */
  url: string;
  logger: Logger;
  /** A fixed period instead of the schedule (tests). */
  periodMs?: number;
  /** Asked at each tick: while true the tick is skipped (tests). */
  held?: () => boolean;
  /** Attempts after the first (Knative's adapter: 5, backoff doubling from 50 ms). */
  retry?: number;
  now?: () => number;
}

export interface PingSource {
  close(): Promise<void>;
}

/** Sends `spec`'s event to `url` at every tick until closed. A send that fails every attempt is logged and dropped, as Knative's adapter does. */
export function startPingSource(options: PingSourceOptions): PingSource {
  const { spec, logger } = options;
  const where = `PingSource ${spec.namespace}/${spec.name}`;
  if (spec.timezone !== undefined)
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `${where}: the local platform runs schedules in UTC only; drop timezone`,
    );
  const minutes = parseSchedule(spec.schedule, where);
  if (options.periodMs !== undefined && !(options.periodMs > 0))
    throw new StreamForgeError('SF_CONFIG_INVALID', `${where}: the ping period must be a positive number of ms`);
  const now = options.now ?? Date.now;
  const retry = options.retry ?? 5;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  const send = async (): Promise<void> => {
    const event: PingEvent = {
      id: randomUUID(),
      type: PING_EVENT_TYPE,
      source: pingSourceOf(spec.namespace, spec.name),
      ...(spec.contentType === undefined ? {} : { contentType: spec.contentType }),
      ...(spec.data === undefined ? {} : { data: spec.data }),
    };
    let last = '';
    for (let n = 0; n <= retry && !stopping.signal.aborted; n++) {
      if (n > 0) await sleep(backoffDelay({ baseMs: 50 }, n), stopping.signal);
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: {
            'ce-specversion': '1.0',
            'ce-id': event.id,
            'ce-type': event.type,
            'ce-source': event.source,
            ...(event.contentType === undefined ? {} : { 'content-type': event.contentType }),
          },
          ...(event.data === undefined ? {} : { body: event.data }),
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(60_000)]),
        });
        const text = await response.text();
        if (response.ok) return;
        last = `sink answered ${response.status}: ${text.slice(0, 300)}`;
        if (dispositionOfResponse(response.status, Object.fromEntries(response.headers)) !== 'retry') break;
      } catch (error) {
        last = `delivery failed: ${(error as Error).message}`;
      }
    }
    if (!stopping.signal.aborted)
      logger.error({ source: event.source, id: event.id, reason: last }, 'ping not delivered');
  };

  const schedule = (): void => {
    const delay = options.periodMs ?? nextTick(minutes, now()) - now();
    timer = setTimeout(() => {
      if (!options.held?.()) {
        // Each tick sends on its own: a slow sink does not shift the schedule (the cron adapter does the same).
        const sent = send().finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }
      schedule();
    }, delay);
    timer.unref();
  };
  schedule();
  logger.info(
    { source: spec.name, sink: options.url, schedule: spec.schedule, periodMs: options.periodMs },
    'PingSource started',
  );
  return {
    async close() {
      clearTimeout(timer);
      stopping.abort();
      await Promise.all(inFlight);
    },
  };
}

export interface PingSourcesOptions {
  specs: PingSourceSpec[];
  /** A function's stable address (its activator). */
  sinkUrl(name: string): string | undefined;
  logger: Logger;
  periodMs?: number;
  held?: () => boolean;
}

/** Every PingSource of knative/, each on its own timer. */
export function startPingSources(options: PingSourcesOptions): PingSource {
  const started: PingSource[] = [];
  try {
    for (const spec of options.specs) {
      const url = spec.sink.uri ?? options.sinkUrl(spec.sink.name);
      if (url === undefined) throw new Error(`PingSource ${spec.name}: no function ${spec.sink.name} to send to`);
      started.push(
        startPingSource({
          spec,
          url,
          logger: options.logger,
          ...(options.periodMs === undefined ? {} : { periodMs: options.periodMs }),
          ...(options.held === undefined ? {} : { held: options.held }),
        }),
      );
    }
  } catch (error) {
    for (const s of started) void s.close();
    throw error;
  }
  return {
    async close() {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
