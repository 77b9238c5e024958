/**
 * Exchange time shared by separate processes. The simulator can run its clock faster than
 * the wall clock (a Binance minute in a second), and a loader talking to it must time its
 * pings, reconnects and 24-hour cut-off on the same clock. `scaledTime` starts counting when
 * it is created, so two processes would disagree; here the clock is anchored to a wall-clock
 * instant given in the environment, so every process of a stack computes the same time.
 */
import { declareEnv, env } from '@streamforge/core/config';
import { StreamForgeError } from '@streamforge/core/errors';
import { systemTime, type TimeSource } from './time-source.ts';

declareEnv({
  EXCHANGE_TIME_FACTOR: {
    default: '1',
    description:
      'How many times faster than the wall clock exchange time runs; only the exchange simulator runs fast (tests, demos). Every process of a stack reads the same value.',
  },
  EXCHANGE_TIME_ORIGIN: {
    default: '',
    description:
      '`<exchange ms>@<wall ms>`: the exchange time at a wall-clock instant, for a fast or shifted simulator clock; empty: exchange time is wall time.',
  },
});

/** A clock that read `exchangeMs` at wall-clock `wallMs` and runs `factor` times faster than the wall clock. */
export function anchoredTime(factor: number, exchangeMs: number, wallMs: number): TimeSource {
  if (!(factor > 0)) throw new RangeError(`anchoredTime: factor must be positive, got ${factor}`);
  const now = (): number => Math.floor(exchangeMs + (Date.now() - wallMs) * factor);
  return {
    now,
    async sleep(ms, signal) {
      const until = now() + ms;
      for (let left = ms; left > 0; left = until - now()) {
        await systemTime.sleep(Math.max(1, Math.ceil(left / factor)), signal);
      }
    },
  };
}

/** The exchange clock the environment describes (the wall clock unless EXCHANGE_TIME_* say otherwise). */
export function exchangeTimeFromEnv(source: NodeJS.ProcessEnv = process.env): TimeSource {
  const factor = Number(env('EXCHANGE_TIME_FACTOR', source));
  if (!(factor > 0))
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `environment variable EXCHANGE_TIME_FACTOR must be a positive number, got "${env('EXCHANGE_TIME_FACTOR', source)}"`,
    );
  const origin = env('EXCHANGE_TIME_ORIGIN', source);
  if (origin === '') return factor === 1 ? systemTime : anchoredTime(factor, Date.now(), Date.now());
  const match = /^(\d+)@(\d+)$/.exec(origin);
  if (match === null)
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `environment variable EXCHANGE_TIME_ORIGIN must be "<exchange ms>@<wall ms>", got "${origin}"`,
    );
  return anchoredTime(factor, Number(match[1]), Number(match[2]));
}

/** The EXCHANGE_TIME_ORIGIN value for a clock that reads `exchangeMs` now. */
export function exchangeTimeOrigin(exchangeMs: number, wallMs: number = Date.now()): string {
  return `${Math.floor(exchangeMs)}@${Math.floor(wallMs)}`;
}
