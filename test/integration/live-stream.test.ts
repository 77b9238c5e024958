/**
 * Live streams end to end on real components: `streamforge up` with the exchange simulator
 * (a stand-in for Binance, REST and WebSocket) on a fast clock, queue-manager starting a
 * loader-ws Job per live workflow through the local Job launcher, gap fills through
 * loader-api pages, the KafkaSource dispatcher, arango-connector and the SQLite store.
 * Connections are dropped and messages skipped on purpose; the store must still hold every
 * candle and trade, each equal to what the exchange's REST API serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggTradeFromBinance,
  type AggTrade,
  type AggTradeRecord,
  type KlineRecord,
  type KlineRow,
  type RawTrade,
  type TradeRecord,
} from '@streamforge/core/contracts';
import { exchangeTimeOrigin } from '@streamforge/exchange';
import { isAlive } from '@streamforge/platform';
import { simulatorStackForFile, stackApi, waitFor, type WorkflowView, localJobPids } from '@streamforge/testing';

const MINUTE = 60_000;
const stack = simulatorStackForFile({
  // A Binance minute per second; exchange time a day behind the wall clock, so every candle
  // the loaders meet is in the past for loader-api too.
  EXCHANGE_TIME_FACTOR: '60',
  EXCHANGE_TIME_ORIGIN: exchangeTimeOrigin(Date.now() - 86_400_000),
  JOB_LAUNCHER: 'local',
});

type Workflow = WorkflowView;
const api = stackApi(() => stack().state.api_url);
const { call, start, workflow, allRecords } = api;

async function exchange<T>(path: string): Promise<T> {
  return (await (await fetch(`${stack().state.exchange_url}${path}`)).json()) as T;
}

/** The pids of the running local Jobs, from the launcher's pid files. */
const jobPids = (): Map<string, number> => localJobPids(stack().home);

async function fault(path: string): Promise<void> {
  const response = await fetch(`${stack().state.exchange_url}/_sim/ws/${path}`, { method: 'POST' });
  assert.equal(response.status, 200);
}

/** Candles of one symbol that the store must hold: every open time between the first and the last, all final but maybe the last. */
async function checkCandles(collection: string, symbol: string): Promise<string | undefined> {
  const mine = (await allRecords<KlineRecord>(collection))
    .filter((r) => r.symbol === symbol)
    .sort((a, b) => a.open_time - b.open_time);
  if (mine.length < 5) return `${symbol}: only ${mine.length} candles`;
  for (let i = 1; i < mine.length; i++)
    if (mine[i]!.open_time !== mine[i - 1]!.open_time + MINUTE)
      return `${symbol}: no candle at ${new Date(mine[i - 1]!.open_time + MINUTE).toISOString()}`;
  const open = mine.slice(0, -1).filter((r) => r.closed === false);
  if (open.length > 0) return `${symbol}: candle ${new Date(open[0]!.open_time).toISOString()} is not final`;
  const final = mine.filter((r) => r.closed !== false);
  const rows = await exchange<KlineRow[]>(
    `/api/v3/klines?symbol=${symbol}&interval=1m&startTime=${final[0]!.open_time}&endTime=${final.at(-1)!.open_time}&limit=1000`,
  );
  const stored = final.map((r) => [
    r.open_time,
    r.open,
    r.high,
    r.low,
    r.close,
    r.volume,
    r.close_time,
    r.quote_asset_volume,
    r.number_of_trades,
    r.taker_buy_base_asset_volume,
    r.taker_buy_quote_asset_volume,
    '0',
  ]);
  assert.deepEqual(stored, rows, `${symbol}: stored candles are the exchange's candles`);
  return undefined;
}

function contiguous(ids: number[]): string | undefined {
  for (let i = 1; i < ids.length; i++)
    if (ids[i] !== ids[i - 1]! + 1) return `ids ${ids[i - 1]! + 1}–${ids[i]! - 1} missing`;
  return undefined;
}

test('live streams persist every candle and trade with no gap, though connections drop and messages are skipped on purpose', async () => {
  const candles = await start({ type: 'ws_candles_1m', symbols: ['BTCUSDT', 'ETHUSDT'] });
  const aggTrades = await start({ type: 'ws_agg_trades', symbol: 'LTCUSDT' });
  const trades = await start({ type: 'ws_trades', symbol: 'TRXUSDT' });
  const all = [candles, aggTrades, trades];
  await waitFor('a Job process per live workflow', () => all.every((w) => jobPids().has(w.queue_id)), {
    timeoutMs: 30_000,
  });
  const pids = jobPids();
  await waitFor(
    'every workflow streaming into the store',
    async () => {
      const states = await Promise.all(all.map((w) => workflow(w.queue_id)));
      return states.every((w) => w.status === 'running' && (w.progress['arango-connector']?.records_written ?? 0) > 0);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );

  const opened = (await (await fetch(`${stack().state.exchange_url}/_sim/ws/stats`)).json()) as {
    connectionsOpened: number;
  };
  await fault('drop'); // every connection, without a close frame
  // Skip only once every Job has reconnected and resubscribed, or the skip lands on nothing.
  await waitFor(
    'every Job reconnected and subscribed',
    async () => {
      const ws = (await (await fetch(`${stack().state.exchange_url}/_sim/ws/stats`)).json()) as {
        connectionsOpened: number;
        connections: Array<{ subscriptions: string[]; sent: number }>;
      };
      return (
        ws.connectionsOpened >= opened.connectionsOpened + all.length &&
        ws.connections.length >= all.length &&
        ws.connections.every((c) => c.subscriptions.length > 0 && c.sent > 0)
      );
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  await fault('skip?count=80'); // a sequence gap on every connection: more than a candle's messages
  await waitFor(
    'three more candles after the faults',
    async () => {
      const mine = await allRecords<KlineRecord>(candles.collection_name);
      return mine.filter((r) => r.symbol === 'BTCUSDT').length >= 8;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );

  for (const w of all) {
    const stopped = await call<Workflow>('POST', `/workflows/${w.queue_id}/stop`);
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.status, 'stopped');
  }
  for (const [queueId, pid] of pids) assert.ok(!isAlive(pid), `the Job process of ${queueId} has ended`);
  assert.deepEqual([...jobPids().keys()], [], 'no Job left');

  // Gap fills go through loader-api pages and the connector: wait until the store is whole.
  await waitFor(
    'every candle of both symbols stored, final, equal to REST',
    async () =>
      (await checkCandles(candles.collection_name, 'BTCUSDT')) ??
      (await checkCandles(candles.collection_name, 'ETHUSDT')) ??
      true,
    { timeoutMs: 60_000, intervalMs: 1_000 },
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}: ${await checkCandles(candles.collection_name, 'BTCUSDT')} / ${await checkCandles(candles.collection_name, 'ETHUSDT')}`,
    );
  });

  const aggIds = await waitFor(
    'every aggTrade stored',
    async () => {
      const ids = (await allRecords<AggTradeRecord>(aggTrades.collection_name))
        .map((r) => r.trade_id)
        .sort((a, b) => a - b);
      return contiguous(ids) === undefined ? ids : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  const stored = (await allRecords<AggTradeRecord>(aggTrades.collection_name)).sort((a, b) => a.trade_id - b.trade_id);
  const rest: AggTrade[] = [];
  while (rest.length < stored.length)
    rest.push(
      ...(await exchange<AggTrade[]>(`/api/v3/aggTrades?symbol=LTCUSDT&fromId=${aggIds[0]! + rest.length}&limit=1000`)),
    );
  assert.deepEqual(
    stored,
    rest.slice(0, stored.length).map((a) => aggTradeFromBinance('LTCUSDT', a)),
    'stored aggTrades are the exchange’s',
  );

  const tradeIds = await waitFor(
    'every trade stored',
    async () => {
      const ids = (await allRecords<TradeRecord>(trades.collection_name)).map((r) => r.trade_id).sort((a, b) => a - b);
      return contiguous(ids) === undefined ? ids : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  const history = await exchange<RawTrade[]>(
    `/api/v3/historicalTrades?symbol=TRXUSDT&fromId=${tradeIds[0]}&limit=1000`,
  );
  const storedTrades = (await allRecords<TradeRecord>(trades.collection_name)).sort((a, b) => a.trade_id - b.trade_id);
  assert.deepEqual(
    storedTrades.slice(0, history.length).map((r) => [r.trade_id, r.price, r.quantity, r.timestamp]),
    history.slice(0, storedTrades.length).map((h) => [h.id, h.price, h.qty, h.time]),
  );

  for (const w of all) {
    const { body } = await call<{
      events: Array<{ event: { producer: string; status: string; message?: string; gaps_found?: number } }>;
    }>('GET', `/workflows/${w.queue_id}/events?limit=5000`);
    const loader = body.events.map((e) => e.event).filter((e) => e.producer.startsWith('loader-ws__'));
    assert.ok(
      loader.some((e) => e.status === 'started'),
      `${w.queue_id}: started`,
    );
    assert.ok(
      loader.some((e) => /^gap found and filled/.test(e.message ?? '')),
      `${w.queue_id}: a gap was found and filled`,
    );
    assert.equal((await workflow(w.queue_id)).status, 'stopped');
  }
});

test('a loader-ws Job that keeps dying fails its workflow with the Job’s reason', async () => {
  const live = await start({ type: 'ws_book_ticker', symbol: 'BNBUSDT' });
  // Kill every run of the Job until the launcher gives up (backoffLimit 3: four runs).
  const killed = new Set<number>();
  const failed = await waitFor(
    'the workflow to fail',
    async () => {
      const pid = jobPids().get(live.queue_id);
      if (pid !== undefined && !killed.has(pid) && isAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      }
      const w = await workflow(live.queue_id);
      return w.status === 'error' ? w : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  assert.equal(killed.size, 4);
  assert.match(
    failed.error ?? '',
    /loader-ws Job loader-ws-.* failed: BackoffLimitExceeded: 4 failed runs \(last: killed by SIGKILL\)/,
  );
});
