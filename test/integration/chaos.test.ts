/**
 * Chaos on real components: while a multi-symbol backfill and a live stream run, every
 * function's instances, the KafkaSource dispatcher, the loader-ws Job and the Kafka broker
 * are each SIGKILLed at a random moment, and the dispatcher is also stopped (SIGSTOP) for longer
 * than its Kafka session, as a starved process on a loaded machine is, so every consumer group
 * drops it and it joins again as a new member (a seeded PRNG; the seed is printed, and
 * CHAOS_SEED=<seed> replays the same schedule; the moments are fractions of the backfills'
 * stored pages, so they land mid-run however fast the machine is). Afterwards every workflow
 * must have ended: the backfills `completed` with exactly the exchange's candles, each once;
 * the live stream `stopped` by its stop (its killed Job run again, by another manager
 * instance when its own was killed first); its store holding only the exchange's trades, each once, none missing
 * but across a Job pod's death; nothing pending or running, nothing dead-lettered.
 * CHAOS_KEEP_LOGS=1 keeps the stack's logs (a failed run always does).
 *
 *   CHAOS_SEED=1234 node test/run.ts test/integration/chaos.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import {
  rowFromKline,
  type KlineRecord,
  type KlineRow,
  type RawTrade,
  type TradeRecord,
} from '@streamforge/core/contracts';
import { seededRandom } from '@streamforge/simulator';
import { isAlive, readStackState, startLocalBroker, type LocalBroker } from '@streamforge/platform';
import {
  localJobPids,
  stackApi,
  startTestStack,
  waitFor,
  type StackApi,
  type TestStack,
  type WorkflowView,
} from '@streamforge/testing';

// A fixed schedule by default, as the fuzz tests (docs/conventions.md); CHAOS_SEED explores others.
const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) >>> 0 : 20261207;
const SYMBOLS = ['ETHUSDT', 'SOLUSDT', 'ADAUSDT'];
const FROM = Date.UTC(2023, 0, 1);
const TO = Date.UTC(2023, 3, 1);
const RANGE = '2023-01-01:2023-04-01';
const MINUTES = (TO - FROM) / 60_000;
const LIVE_SYMBOL = 'TRXUSDT';
const FINAL = ['completed', 'error', 'stopped'];
/** Pages of one backfill (at most 1000 candles each). */
const PAGES = Math.ceil(MINUTES / 1000);
/** The dispatcher's Kafka session (dispatcher.ts): a stall longer than this drops it from its groups. */
const DISPATCHER_SESSION_MS = 10_000;

/** Live children of `parent` whose command line contains `match`, from /proc: what runs now, whatever a state file says. */
function childPids(parent: number, match: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (
        readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          .split('\0')
          .some((arg) => arg.includes(match))
      )
        out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

interface PlatformStatus {
  functions: Array<{ name: string; instances: Array<{ id: string; pid: number | undefined; state: string }> }>;
}

interface Fault {
  target: string;
  /** Fires once the backfills' stored pages reach this fraction of their total. */
  at: number;
  /** Then waits this long more. */
  jitterMs: number;
  /** What is done to it: SIGKILL unless said. */
  action?: string;
  /** Kills (or stops); resolves with what was hit. */
  hit(): Promise<string>;
}

test('SIGKILLs of every function instance, the dispatcher, the loader-ws Job and the broker, and a dispatcher stalled past its Kafka session, at random moments: every workflow ends, exact counts, no duplicates', {
  timeout: 600_000,
}, async (t) => {
  const random = seededRandom(SEED);
  const started = Date.now();
  const log = (line: string) =>
    console.log(`chaos [seed ${SEED}] +${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
  log(`replay with CHAOS_SEED=${SEED} node test/run.ts test/integration/chaos.test.ts`);

  // The broker is killed, so this test runs its own instead of the run's shared one.
  const dataDir = mkdtempSync(join(tmpdir(), 'sf-chaos-broker-'));
  let broker: LocalBroker = await startLocalBroker({ dataDir });
  let stack: TestStack | undefined;
  let passed = false;
  let restarting: Promise<void> = Promise.resolve();
  t.after(async () => {
    // The stack's logs outlive a failed run (or any run with CHAOS_KEEP_LOGS=1): `down` removes its folder.
    if (stack && (!passed || process.env.CHAOS_KEEP_LOGS)) {
      const kept = join(tmpdir(), `sf-chaos-logs-${SEED}-${Date.now()}`);
      cpSync(join(stack.home, 'logs'), kept, { recursive: true });
      cpSync(join(dataDir, 'server.log'), join(kept, 'kafka-server.log'));
      console.log(`chaos [seed ${SEED}] the stack's logs are kept in ${kept}`);
    }
    await stack?.down();
    await restarting.catch(() => undefined); // a broker restart under way would outlive the run
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));
  stack = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    KAFKA_BROKERS: broker.brokers,
    JOB_LAUNCHER: 'local',
  });
  const { home, state } = stack;
  const api: StackApi = stackApi(() => state.api_url);
  const platformUrl = readStackState(home)?.platform_url;
  const supervisor = state.pid;
  log(`stack up in ${home}`);

  // The live stream first, so the backfills start with the chaos.
  const live = await api.start({ type: 'ws_trades', symbol: LIVE_SYMBOL });
  const jobPid = (): number | undefined => {
    const pid = localJobPids(home).get(live.queue_id);
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  };

  const liveWritten = async () =>
    (await api.workflow(live.queue_id)).progress['arango-connector']?.records_written ?? 0;
  await waitFor('the live stream storing trades', async () => (await liveWritten()) > 0, {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  log('live stream storing trades');

  const backfills = await Promise.all(
    SYMBOLS.map((symbol) => api.start({ symbol, type: 'api_candles_1m', time_range: RANGE })),
  );
  /** Stored pages of all backfills over their total; throws while the API does not answer. */
  const progress = async (): Promise<number> => {
    const states = await Promise.all(
      backfills.map(async (w) => {
        const { status, body } = await api.call<WorkflowView>('GET', `/workflows/${w.queue_id}`);
        if (status !== 200) throw new Error(`GET /workflows/${w.queue_id} answered ${status}`);
        return body;
      }),
    );
    return (
      states.reduce((sum, w) => sum + (w.stored?.pages_done ?? 0), 0) /
      states.reduce((sum, w) => sum + (w.stored?.pages_total ?? PAGES), 0)
    );
  };
  const percent = (p: number) => `${(p * 100).toFixed(1)}%`;
  // Where the backfills stand, every few seconds, for the record.
  const ticker = setInterval(
    () =>
      void progress().then(
        (p) => log(`backfills at ${percent(p)}`),
        (error: Error) => log(`backfills: ${error.message}`),
      ),
    5_000,
  );
  t.after(() => clearInterval(ticker));

  const instancesOf = async (name: string) => {
    const status = (await (await fetch(`${platformUrl}/status`)).json()) as PlatformStatus;
    return (
      status.functions
        .find((f) => f.name === name)
        ?.instances.filter((i) => i.state !== 'draining' && isAlive(i.pid)) ?? []
    );
  };
  const dispatcherPid = async (): Promise<number> => {
    const [pid] = await waitFor(
      'the dispatcher process',
      () => {
        const pids = childPids(supervisor, 'dispatcher-main.ts');
        return pids.length > 0 ? pids : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    return pid!;
  };
  const killFunction =
    (name: string, beforeKill = () => {}) =>
    async () => {
      const instances = await waitFor(
        `an instance of ${name}`,
        async () => {
          const found = await instancesOf(name);
          return found.some((i) => i.state === 'ready') ? found : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      beforeKill();
      for (const i of instances) process.kill(i.pid!, 'SIGKILL');
      return `${name} ${instances.map((i) => `${i.id} (pid ${i.pid})`).join(', ')}`;
    };
  // The local Job launcher lives in the manager that started the Job: with every manager
  // instance killed, the Job runs on (followed by the new instance), but a death of it after
  // that is reported, not run again (docs/live-streams.md, local-job-launcher.ts).
  let jobAtManagerKill: number | undefined;
  let managerKilled = false;
  const brokerDownMs = Math.round(random() * 3_000);
  const faults: Fault[] = [
    { target: 'loader-api', hit: killFunction('loader-api') },
    { target: 'arango-connector', hit: killFunction('arango-connector') },
    {
      target: 'queue-manager',
      hit: killFunction('queue-manager', () => {
        managerKilled = true;
        jobAtManagerKill = jobPid();
      }),
    },
    {
      target: 'dispatcher',
      hit: async () => {
        const pid = await dispatcherPid();
        process.kill(pid, 'SIGKILL');
        return `dispatcher (pid ${pid})`;
      },
    },
    {
      target: 'loader-ws Job',
      hit: async () => {
        const pid = await waitFor('the loader-ws Job process', jobPid, { timeoutMs: 60_000, intervalMs: 100 });
        process.kill(pid, 'SIGKILL');
        return `loader-ws Job of ${live.queue_id} (pid ${pid})`;
      },
    },
    {
      target: 'broker',
      hit: async () => {
        const pid = broker.pid;
        // A crash, not a stop: produce requests the broker wrote lose their answers. It comes
        // back on the same port and data folder after a random outage, while the chaos goes on.
        await broker.kill();
        restarting = sleep(brokerDownMs).then(async () => {
          broker = await startLocalBroker({ dataDir });
          log(`Kafka broker restarted (pid ${broker.pid}) after ${brokerDownMs} ms down`);
        });
        restarting.catch(() => undefined); // awaited (and its failure thrown) once the faults are done
        return `Kafka broker (pid ${pid}), restarting in ${brokerDownMs} ms`;
      },
    },
    // Last, so the schedules of the seeds before it stayed the same.
    {
      target: 'dispatcher stall',
      action: 'SIGSTOP',
      hit: async () => {
        // Sessions expire on the broker: stalled while it is down, the dispatcher would keep them.
        await restarting;
        const pid = await dispatcherPid();
        const stallMs = DISPATCHER_SESSION_MS + 4_000;
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep(stallMs);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        return `dispatcher (pid ${pid}), SIGCONT after ${stallMs} ms: longer than its Kafka session`;
      },
    },
  ].map((f) => ({ ...f, at: 0.03 + random() * 0.62, jitterMs: Math.round(random() * 250) }));
  faults.sort((a, b) => a.at - b.at);
  log(`schedule: ${faults.map((f) => `${f.target} at ${(f.at * 100).toFixed(0)}% +${f.jitterMs} ms`).join(', ')}`);

  const landed: Array<{ target: string; progress: number }> = [];
  for (const fault of faults) {
    // The API may be down (its instances killed) or the broker restarting: keep asking.
    await waitFor(
      `backfills at ${percent(fault.at)} for the ${fault.target} fault`,
      async () => (await progress()) >= fault.at,
      { timeoutMs: 240_000, intervalMs: 100 },
    );
    await sleep(fault.jitterMs);
    const at = await waitFor('where the backfills stand', progress, { timeoutMs: 60_000, intervalMs: 100 }).catch(
      () => Number.NaN,
    );
    landed.push({ target: fault.target, progress: at });
    log(`${fault.action ?? 'SIGKILL'} ${await fault.hit()}, backfills at ${percent(at)}`);
  }
  await restarting;
  clearInterval(ticker);
  for (const l of landed)
    assert.ok(
      l.progress < 1,
      `the ${l.target} fault landed mid-run (backfills at ${percent(l.progress)}), not after they ended`,
    );

  const done = await Promise.all(backfills.map((w) => api.final(w.queue_id, 300_000)));
  log(`backfills ended: ${done.map((w) => `${w.symbol} ${w.status}`).join(', ')}`);

  // The live stream: its killed Job was run again (backoffLimit 3), by the manager instance
  // that started it or, when that one was killed first, by the instance that adopted it, as
  // the Job controller reruns a pod whoever created the Job. It streams again until stopped.
  const before = await liveWritten();
  const streaming = await waitFor(
    'the live stream storing trades again, or ended',
    async () => {
      const w = await api.workflow(live.queue_id);
      if (FINAL.includes(w.status)) return w;
      return (w.progress['arango-connector']?.records_written ?? 0) > before ? w : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  log(
    `live stream ${streaming.status} with ${streaming.progress['arango-connector']?.records_written ?? 0} trades stored${managerKilled && jobAtManagerKill !== undefined && !isAlive(jobAtManagerKill) ? ' (its Job was run again by another manager instance)' : ''}`,
  );
  const stop = await api.call<WorkflowView>('POST', `/workflows/${live.queue_id}/stop`);
  const liveEnd = await api.final(live.queue_id, 60_000);
  log(`live stream stop answered ${stop.status}; ended ${liveEnd.status}${liveEnd.error ? `: ${liveEnd.error}` : ''}`);

  // Every workflow ended, and nothing was set aside.
  const all = (await api.call<{ workflows: WorkflowView[] }>('GET', '/workflows?limit=1000')).body.workflows;
  assert.deepEqual(
    all.filter((w) => !FINAL.includes(w.status)).map((w) => `${w.queue_id} ${w.type} ${w.status}`),
    [],
    'no workflow pending or running',
  );
  const letters = (
    await api.call<{ dead_letters: Array<{ queue_id: string; service: string; reason: string }> }>(
      'GET',
      '/dead-letters?limit=1000',
    )
  ).body.dead_letters;
  assert.deepEqual(
    letters.map((l) => `${l.queue_id} ${l.service}: ${l.reason}`),
    [],
    'nothing dead-lettered',
  );

  // Each backfill: completed, exactly the exchange's candles, each once.
  for (const w of done) {
    assert.equal(w.status, 'completed', `${w.symbol}: ${w.error}`);
    assert.equal(w.stored?.records_written, MINUTES, `${w.symbol}: records_written`);
    assert.equal(w.stored?.rejected ?? 0, 0, `${w.symbol}: nothing rejected`);
    const { body } = await api.call<{ count: number }>('GET', `/collections/${w.collection_name}`);
    assert.equal(body.count, MINUTES, `${w.symbol}: the collection's count`);
    const records = await api.allRecords<KlineRecord>(w.collection_name);
    assert.equal(records.length, MINUTES, `${w.symbol}: records read back`);
    assert.equal(new Set(records.map((r) => r.key)).size, MINUTES, `${w.symbol}: no duplicate key`);
    records.sort((a, b) => a.open_time - b.open_time);
    const starts = Array.from({ length: Math.ceil(MINUTES / 1000) }, (_, i) => FROM + i * 1000 * 60_000);
    const rows = (
      await Promise.all(
        starts.map(async (start) => {
          const page = await fetch(
            `${state.exchange_url}/api/v3/klines?symbol=${w.symbol}&interval=1m&startTime=${start}&endTime=${Math.min(TO, start + 1000 * 60_000) - 1}&limit=1000`,
          );
          return (await page.json()) as KlineRow[];
        }),
      )
    ).flat();
    assert.equal(rows.length, MINUTES);
    assert.deepEqual(records.map(rowFromKline), rows, `${w.symbol}: the stored candles are the exchange's`);
  }

  // The live stream ended as promised, its Job gone, and every trade it stored is the exchange's, each once.
  assert.equal(stop.status, 200, `the stop found the live stream running: ${JSON.stringify(stop.body)}`);
  assert.equal(liveEnd.status, 'stopped', liveEnd.error);
  await waitFor('the Job process gone', () => jobPid() === undefined, { timeoutMs: 30_000 });
  const trades = (await api.allRecords<TradeRecord>(live.collection_name)).sort((a, b) => a.trade_id - b.trade_id);
  assert.ok(trades.length > 0);
  assert.equal(new Set(trades.map((r) => r.key)).size, trades.length, 'no duplicate trade key');
  assert.equal(new Set(trades.map((r) => r.trade_id)).size, trades.length, 'no trade stored twice');
  const exchangeTrades = new Map<number, RawTrade>();
  for (let from = trades[0]!.trade_id; from <= trades.at(-1)!.trade_id; ) {
    const page = (await (
      await fetch(`${state.exchange_url}/api/v3/historicalTrades?symbol=${LIVE_SYMBOL}&fromId=${from}&limit=1000`)
    ).json()) as RawTrade[];
    assert.ok(page.length > 0, `the exchange serves trade ${from}`);
    for (const trade of page) exchangeTrades.set(trade.id, trade);
    from = page.at(-1)!.id + 1;
  }
  for (const r of trades) {
    const h = exchangeTrades.get(r.trade_id);
    assert.deepEqual(
      [r.trade_id, r.price, r.quantity, r.timestamp, r.is_buyer_maker],
      [h?.id, h?.price, h?.qty, h?.time, h?.isBuyerMaker],
      `trade ${r.trade_id} is the exchange's`,
    );
  }
  // Nothing the Job received was lost while it ran, whatever else was killed: a pod fills the
  // gaps it sees from REST, so ids may only be missing across a pod's death (a new pod starts
  // a new sequence: the documented limit), i.e. where a pod started between the trades on
  // either side of the gap (exchange time is wall time here; a few seconds of slack for the
  // first trades a new pod receives).
  const podStarts = readdirSync(join(home, 'logs'))
    .filter((f) => f.startsWith('loader-ws-'))
    .flatMap((f) => readFileSync(join(home, 'logs', f), 'utf8').split('\n'))
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; queue_id?: string; time?: string };
        return entry.msg === 'live streams started' && entry.queue_id === live.queue_id
          ? [Date.parse(entry.time!)]
          : [];
      } catch {
        return [];
      }
    });
  const unexplained: string[] = [];
  for (let i = 1; i < trades.length; i++) {
    const [prev, next] = [trades[i - 1]!, trades[i]!];
    if (next.trade_id === prev.trade_id + 1) continue;
    const gap = `trades ${prev.trade_id + 1}–${next.trade_id - 1} (${new Date(prev.timestamp).toISOString()} – ${new Date(next.timestamp).toISOString()})`;
    if (podStarts.some((at) => at > prev.timestamp && at <= next.timestamp + 5_000))
      log(`live stream: ${gap} missing across a Job pod's death`);
    else unexplained.push(gap);
  }
  assert.deepEqual(
    unexplained,
    [],
    `trades missing while a Job pod ran (pods started at ${podStarts.map((at) => new Date(at).toISOString()).join(', ')})`,
  );
  passed = true;
  log(
    `passed: ${SYMBOLS.length} × ${MINUTES} candles, ${trades.length} trades, every workflow ended, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});
