/**
 * The isolation measurement (one workflow's failures must not slow another), shared by
 * test/integration/isolation.test.ts and
 * bench/isolation.ts so the benchmark prints what the test asserts. On one stack whose
 * exchange simulator answers 503 to every market-data request of the poison symbol
 * (SIM_FAILING_SYMBOLS: one symbol's backend down), it times a normal backfill — `make demo`'s
 * week of BTCUSDT 1m candles, 11 pages — alone, and while a poison backfill of three months
 * (132 pages: more than the 50 places a KafkaSource has in flight) is being retried: every
 * page fails at the exchange (5 client attempts), and the dispatcher retries each for
 * minutes (10 retries, 0.5 s doubling, as loader-api-work's manifest says).
 *
 * Rounds of alone, beside, beside, alone: each round starts a poison of its own, times two
 * normal backfills beside it once its pages are being retried — at least 38 of them (the
 * places one workflow may hold alone) failed 3 dispatcher attempts, past the first burst — and the
 * platform has scaled for it, then stops it (its pages are skipped at their next attempt) and
 * times one alone again. Each beside run is paired with the alone run on its side, so a machine
 * that warms up or gets busier weighs on both alike; the figure is the median of the pairs'
 * ratios, so one disturbed run does not decide it.
 */
import { FINAL_WORKFLOW_STATUSES } from '@streamforge/load';
import type { PlatformStatusDocument } from '@streamforge/platform';
import { stackApi, type WorkflowView } from './stack-api.ts';
import type { TestStack } from './stack.ts';
import { waitFor } from './wait-for.ts';

export const POISON_SYMBOL = 'ETHUSDT';
/** What the stack is started with: the simulator, its budget lifted, the poison symbol failing. */
export const ISOLATION_STACK_ENV: NodeJS.ProcessEnv = {
  EXCHANGE: 'simulator',
  SIM_WEIGHT_LIMIT: 'Infinity',
  SIM_FAILING_SYMBOLS: POISON_SYMBOL,
};

const NORMAL_SYMBOL = 'BTCUSDT';
const WEEK_MS = 7 * 86_400_000;
const FIRST_WEEK = Date.UTC(2024, 7, 1);
const NORMAL_CANDLES = 7 * 1440;
/** Three months of 1m candles: 132 pages, more than the 50 a KafkaSource has in flight. */
const POISON_RANGE = '2024-01-01:2024-04-01';

export interface IsolationOptions {
  /** Rounds of alone, beside, beside, alone (default 4). */
  rounds?: number;
  /** Unmeasured runs first, so both sides meet warm instances (default 3). */
  warmups?: number;
  /** How long one normal backfill may take before the run fails (default 60 s). */
  timeoutMs?: number;
  /** Progress lines (the benchmark prints them on stderr). */
  log?: (line: string) => void;
}

export interface IsolationResult {
  normal: { symbol: string; type: string; candles: number; pages: number };
  /** Seconds of each pair: alone[i] is the alone run on beside[i]'s side of its round. */
  alone_s: number[];
  beside_s: number[];
  /** beside / alone per pair, and their median: the figure. */
  pair_ratios: number[];
  ratio: number;
  /**
   * beside − alone per pair in seconds, and their median. A run alone takes a fraction of a
   * second, so on two shared cores a few hundred milliseconds of CPU taken by the poison's
   * retries double the ratio without anything waiting on the poison; a blocked run waits
   * seconds to minutes.
   */
  pair_excess_s: number[];
  excess_s: number;
  poison: {
    symbol: string;
    time_range: string;
    pages: number;
    exchange_503_during_beside_runs: number[];
    pages_done_when_measured: number[];
  };
}

interface SimulatorStats {
  byStatus?: Record<string, number>;
  recent?: Array<{ time: number; path: string; query: string; status: number | 'dropped' }>;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
/** Pages planned, as loader-api reported them (the store counts only pages done). */
const plannedPages = (w: WorkflowView) =>
  Object.entries(w.progress).find(([name]) => name.startsWith('loader'))?.[1].progress?.total ??
  w.stored?.pages_total ??
  0;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** The middle value, or the mean of the two middle ones; what the isolation figures report. */
export const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export async function measureIsolation(stack: TestStack, options: IsolationOptions = {}): Promise<IsolationResult> {
  const rounds = options.rounds ?? 4;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? (() => undefined);
  const api = stackApi(() => stack.state.api_url);
  let week = 0;
  let pages = 0;
  /** The runs without a poison so far, for the message of a run that does not end. */
  const aloneSoFar: number[] = [];

  /** One normal backfill, a week not loaded before, timed from the POST to `completed`. */
  async function normal(what: string, beside = false): Promise<number> {
    const start = FIRST_WEEK + week++ * WEEK_MS;
    const started = performance.now();
    const workflow = await api.start({
      symbol: NORMAL_SYMBOL,
      type: 'api_candles_1m',
      time_range: `${day(start)}:${day(start + WEEK_MS)}`,
    });
    let done: WorkflowView;
    let seen: WorkflowView | undefined;
    try {
      // Polled often: the figure is a fraction of a second, the API's usual 200 ms would blur it.
      done = await waitFor(
        `${workflow.queue_id} to end`,
        async () => {
          seen = await api.workflow(workflow.queue_id);
          return (FINAL_WORKFLOW_STATUSES as readonly string[]).includes(seen.status) ? seen : undefined;
        },
        { timeoutMs, intervalMs: 20 },
      );
    } catch (error) {
      const where =
        seen === undefined
          ? ''
          : `; it stood ${seen.status}, ${seen.stored?.pages_done ?? 0} of ${plannedPages(seen)} pages stored`;
      throw new Error(
        `the normal backfill (${what}) did not end within ${timeoutMs / 1000} s (alone so far: ${JSON.stringify(aloneSoFar)} s)${where}`,
        { cause: error },
      );
    }
    const seconds = (performance.now() - started) / 1000;
    if (done.status !== 'completed' || done.stored?.records_written !== NORMAL_CANDLES) {
      throw new Error(
        `the normal backfill (${what}) ended ${done.status} with ${done.stored?.records_written} records of ${NORMAL_CANDLES}: ${done.error ?? ''}`,
      );
    }
    pages = plannedPages(done);
    log(`${what}: ${seconds.toFixed(2)} s`);
    if (!beside) aloneSoFar.push(round(seconds));
    return round(seconds);
  }

  const platform = () => stack.platformStatus();
  const settled = (status: PlatformStatusDocument) =>
    status.functions.every((f) => f.instances.every((i) => i.state === 'ready')) &&
    status.sources.every((s) => {
      const fn = status.functions.find((f) => f.name === s.function);
      return (
        fn === undefined ||
        fn.instances.length >= Math.min(s.desired, fn.max_scale > 0 ? fn.max_scale : Number.POSITIVE_INFINITY)
      );
    });
  const simulator = async () =>
    (await (await fetch(`${stack.state.exchange_url}/_sim/stats?recent=1`)).json()) as SimulatorStats;
  const exchange503 = async () => (await simulator()).byStatus?.['503'] ?? 0;
  /** Per poison page (its startTime), the exchange requests that failed since `since` (simulator clock). */
  const failuresPerPage = async (since: number) => {
    const perPage = new Map<string, number>();
    for (const r of (await simulator()).recent ?? []) {
      if (r.status !== 503 || r.time < since || !r.path.endsWith('/klines')) continue;
      const query = new URLSearchParams(r.query);
      if (query.get('symbol') !== POISON_SYMBOL) continue;
      const page = query.get('startTime') ?? '';
      perPage.set(page, (perPage.get(page) ?? 0) + 1);
    }
    return perPage;
  };
  let poisonPages = 0;
  const failedDuring: number[] = [];
  const doneWhenMeasured: number[] = [];

  /** Two normal backfills beside a poison of their own, which is stopped after. */
  async function besidePoison(what: string): Promise<[number, number]> {
    const since = ((await (await fetch(`${stack.state.exchange_url}/api/v3/time`)).json()) as { serverTime: number })
      .serverTime;
    const poison = await api.start({ symbol: POISON_SYMBOL, type: 'api_candles_1m', time_range: POISON_RANGE });
    poisonPages = plannedPages(
      await api.until(poison.queue_id, "the poison's pages planned", (w) => plannedPages(w) > 0, timeoutMs),
    );
    // Being retried: 38 pages (what one workflow may hold alone of a source's 50 places) failed 3
    // dispatcher attempts of 5 exchange requests each, so it is past its first burst and into
    // its backoff; and the platform has scaled for it (no instance starting, as many as the
    // autoscaler wants), so the beside runs meet the poison, not a scale-out under way.
    await waitFor(
      "the poison's pages failing and being retried, the platform scaled for them",
      async () => {
        const retried = [...(await failuresPerPage(since)).values()].filter((n) => n >= 3 * 5).length;
        return retried >= 38 && settled(await platform());
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    const times: number[] = [];
    for (const n of [1, 2]) {
      const at = await exchange503();
      times.push(await normal(`${what} ${n}/2 (beside ${poison.queue_id})`, true));
      failedDuring.push((await exchange503()) - at);
    }
    const seen = await api.workflow(poison.queue_id);
    if (seen.status !== 'running')
      throw new Error(`the poison ${poison.queue_id} was ${seen.status}, not being retried: ${seen.error ?? ''}`);
    doneWhenMeasured.push(seen.stored?.pages_done ?? 0);
    const stop = await api.call('POST', `/workflows/${poison.queue_id}/stop`);
    if (stop.status !== 200)
      throw new Error(
        `the poison ${poison.queue_id} could not be stopped: ${stop.status} ${JSON.stringify(stop.body)}`,
      );
    return [times[0] as number, times[1] as number];
  }

  for (let i = 0; i < (options.warmups ?? 3); i++) await normal(`warm-up ${i + 1}`);
  const alone: number[] = [];
  const beside: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const first = await normal(`round ${r}: alone`);
    const [b1, b2] = await besidePoison(`round ${r}: beside the poison`);
    const last = await normal(`round ${r}: alone again`);
    alone.push(first, last);
    beside.push(b1, b2);
  }
  const ratios = beside.map((b, i) => round(b / (alone[i] as number)));
  const excess = beside.map((b, i) => round(b - (alone[i] as number)));
  return {
    normal: { symbol: NORMAL_SYMBOL, type: 'api_candles_1m', candles: NORMAL_CANDLES, pages },
    alone_s: alone,
    beside_s: beside,
    pair_ratios: ratios,
    ratio: round(median(ratios)),
    pair_excess_s: excess,
    excess_s: round(median(excess)),
    poison: {
      symbol: POISON_SYMBOL,
      time_range: POISON_RANGE,
      pages: poisonPages,
      exchange_503_during_beside_runs: failedDuring,
      pages_done_when_measured: doneWhenMeasured,
    },
  };
}
