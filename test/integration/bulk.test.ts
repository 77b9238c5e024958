/**
 * Bulk history end to end on real components: `streamforge up` with the exchange simulator
 * (the stand-in for Binance and for its public archive site, serving the same market data),
 * loader-producer reading archive files and REST pages through Kafka, the dispatcher,
 * arango-connector, the SQLite store. Archives of the last two days are not published yet
 * (SIM_ARCHIVE_LAG_MS), so those come over REST; files of some symbols are served with
 * faults, each on its own symbol so the cases do not meet.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tradeFromBinance,
  type AggTrade,
  type AggTradeRecord,
  type FundingRateRecord,
  type KlineRecord,
  type MetricsRecord,
  type PriceKlineRecord,
  type Market,
  type RawTrade,
  type TradeRecord,
} from '@streamforge/core/contracts';
import { stackApi, startTestStack, waitFor, type TestStack, type WorkflowView } from '@streamforge/testing';

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** From the 20th of the month three months back to today: its last days, two whole months, days of this one, and REST. */
const monthsBack = new Date(today);
const RANGE_START = Date.UTC(monthsBack.getUTCFullYear(), monthsBack.getUTCMonth() - 3, 20);
const RANGE = `${dayOf(RANGE_START)}:${dayOf(today)}`;
/** A day of archives, well before the unpublished ones. */
const FAULT_DAY = dayOf(today - 10 * DAY);
const FAULT_RANGE = `${FAULT_DAY}:${dayOf(today - 8 * DAY)}`;

let stack: TestStack;
/** A ws_trades workflow started with the stack, whose collection the raw trades test loads in bulk too. */
const LIVE_TRADES = 'ltc_trades_shared';
let liveTrades: WorkflowView;
before(async () => {
  stack = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    // One aggregate trade a minute: a day's aggTrades file is about 1440 rows.
    SIM_TRADE_GAP_MS: '60000',
    SIM_ARCHIVE_LAG_MS: String(2 * DAY),
    // Transient: the first two downloads of ETHUSDT's files are corrupt, of XRPUSDT's cut short.
    SIM_ARCHIVE_CORRUPT: '*ETHUSDT-1h-*@2',
    SIM_ARCHIVE_TRUNCATE: '*XRPUSDT-1h-*@2',
    SIM_ARCHIVE_SLOW: '*BNBUSDT-1h-*',
    // For good: one day of SOLUSDT never matches its CHECKSUM, one of DOGEUSDT is listed but never served.
    SIM_ARCHIVE_BAD_CHECKSUM: `*SOLUSDT-1h-${FAULT_DAY}.zip`,
    SIM_ARCHIVE_MISSING: `*DOGEUSDT-1h-${FAULT_DAY}.zip`,
    // For good: LINKUSDT's trades files verify against their CHECKSUM but have a line that does not parse.
    SIM_ARCHIVE_MALFORMED: '*LINKUSDT-trades-*',
  });
  // Streaming from the start: by the time the raw trades test runs, trades have come in (one a minute or two).
  liveTrades = await api.start({ symbol: 'LTCUSDT', type: 'ws_trades', collection_name: LIVE_TRADES });
});
after(() => stack?.down());

const api = stackApi(() => stack.state.api_url);

const byKey = <R extends { key: string }>(records: R[]): R[] => [...records].sort((a, b) => a.key.localeCompare(b.key));

test('a bulk backfill over whole months, loose days and unpublished days stores exactly what the REST path stores, once', async () => {
  const [bulk, rest] = await api.completeAll(
    [
      { symbol: 'BTCUSDT', type: 'bulk_candles_1h', time_range: RANGE },
      { symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: RANGE },
    ],
    180_000,
  );
  const hours = (today - RANGE_START) / 3_600_000;
  assert.equal(bulk.stored?.records_written, hours);

  const [fromArchives, fromRest] = await Promise.all([
    api.allRecords<KlineRecord>(bulk.collection_name),
    api.allRecords<KlineRecord>(rest.collection_name),
  ]);
  assert.equal(fromArchives.length, hours);
  // Spot files of 2025 on are in microseconds: stored with the keys and millisecond times REST gives.
  assert.deepEqual(byKey(fromArchives), byKey(fromRest));

  const planned = (await api.trail(bulk.queue_id)).find((e) => /pages planned/.test(e.message ?? ''));
  const [, archives, restPages] = /(\d+) archive files, (\d+) REST pages/.exec(planned?.message ?? '') ?? [];
  // Two whole months and at least 9 loose days (from the 20th) from files; the unpublished days (and,
  // early in a month, the days of last month not yet in a monthly file) over REST: one page of 1h candles.
  assert.ok(Number(archives) >= 2 + 9, planned?.message);
  assert.equal(Number(restPages), 1, planned?.message);
  // The progress says how many of the plan's archive bytes were read: all of them, once each.
  const bytes = bulk.progress['loader-producer']?.progress?.bytes;
  assert.ok(bytes !== undefined && bytes.total !== undefined && bytes.total > 0, JSON.stringify(bytes));
  assert.equal(bytes.done, bytes.total);
});

test('a bulk backfill into a collection REST already partly filled ends with one copy of each record', async () => {
  const collection = 'ltc_hours_shared';
  const first = await api.start({
    symbol: 'LTCUSDT',
    type: 'api_candles_1h',
    time_range: `${dayOf(today - 15 * DAY)}:${dayOf(today - 5 * DAY)}`,
    collection_name: collection,
  });
  assert.equal((await api.final(first.queue_id, 120_000)).status, 'completed');
  // From the command line, as a user starts one: the bar, then the workflow as JSON.
  const cli = await stack.cli([
    'backfill',
    'LTCUSDT',
    'candles_1h',
    `${dayOf(today - 20 * DAY)}:${dayOf(today)}`,
    '--bulk',
    '--collection',
    collection,
    '--json',
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  const done = JSON.parse(cli.stdout) as WorkflowView;
  assert.deepEqual([done.type, done.status], ['bulk_candles_1h', 'completed'], done.error);
  const records = await api.allRecords<KlineRecord>(collection);
  assert.equal(records.length, 20 * 24);
  assert.equal(new Set(records.map((r) => r.key)).size, records.length);
  assert.deepEqual(
    records.map((r) => r.open_time).sort((a, b) => a - b),
    Array.from({ length: 20 * 24 }, (_, i) => today - 20 * DAY + i * 3_600_000),
  );
});

test('a bulk backfill through today, over what a live stream and REST already stored, leaves one record per candle', async () => {
  const collection = 'trx_minutes_shared';
  const live = await api.start({ symbol: 'TRXUSDT', type: 'ws_candles_1m', collection_name: collection });
  const rest = await api.start({
    symbol: 'TRXUSDT',
    type: 'api_candles_1m',
    time_range: `${dayOf(today - DAY)}:${dayOf(today)}`,
    collection_name: collection,
  });
  assert.equal((await api.final(rest.queue_id, 120_000)).status, 'completed');
  // The stream stores today's candles as they come, the open one marked `closed: false`.
  await waitFor(
    'live candles of today',
    async () => {
      const records = await api.allRecords<KlineRecord>(collection);
      return records.some((r) => r.open_time >= today) ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
  await api.call('POST', `/workflows/${live.queue_id}/stop`);
  assert.equal((await api.final(live.queue_id, 60_000)).status, 'stopped');

  // A day from its archive file, two over REST (not published yet), and today up to now over REST.
  const bulk = await api.start({
    symbol: 'TRXUSDT',
    type: 'bulk_candles_1m',
    time_range: `${dayOf(today - 3 * DAY)}:${dayOf(today + DAY)}`,
    collection_name: collection,
  });
  const done = await api.final(bulk.queue_id, 120_000);
  assert.equal(done.status, 'completed', done.error);
  const records = (await api.allRecords<KlineRecord>(collection)).sort((a, b) => a.open_time - b.open_time);
  assert.equal(records[0]?.open_time, today - 3 * DAY);
  assert.deepEqual(
    records.map((r) => r.open_time),
    records.map((_, i) => today - 3 * DAY + i * 60_000),
    'one record per minute, no gap and no second copy',
  );
  // Everything the bulk backfill covered is the exchange's final candle, not the stream's open one.
  const lastLoaded = Math.max(...records.filter((r) => r.closed === undefined).map((r) => r.open_time));
  assert.ok(lastLoaded >= done.created_at - 2 * 60_000, 'today is loaded up to the start of the bulk backfill');
  assert.deepEqual(
    records.filter((r) => r.open_time <= lastLoaded && r.closed === false).map((r) => r.key),
    [],
  );
});

test('bulk aggTrades from daily files and REST land with the keys and times of the REST path', async () => {
  const range = `${dayOf(today - 3 * DAY)}:${dayOf(today)}`;
  const [bulk, rest] = await api.completeAll(
    [
      { symbol: 'ADAUSDT', type: 'bulk_agg_trades', time_range: range },
      { symbol: 'ADAUSDT', type: 'api_agg_trades', time_range: range },
    ],
    180_000,
  );
  const [fromArchives, fromRest] = await Promise.all([
    api.allRecords<AggTradeRecord>(bulk.collection_name),
    api.allRecords<AggTradeRecord>(rest.collection_name),
  ]);
  assert.ok(fromArchives.length > 3 * 1000, `${fromArchives.length} trades`);
  assert.deepEqual(byKey(fromArchives), byKey(fromRest));
});

test('USD-M archives (a header row, true/false) and USD-M REST pages store the same records', async () => {
  // USD-M's exchangeInfo takes no symbol: the loaders' symbol check reads its whole list.
  const range = `${dayOf(today - 6 * DAY)}:${dayOf(today)}`;
  const [bulk, rest] = await api.completeAll([
    { symbol: 'DOTUSDT', market: 'usdm', type: 'bulk_candles_1h', time_range: range },
    { symbol: 'DOTUSDT', market: 'usdm', type: 'api_candles_1h', time_range: range },
  ]);
  const [fromArchives, fromRest] = await Promise.all([
    api.allRecords<KlineRecord>(bulk.collection_name),
    api.allRecords<KlineRecord>(rest.collection_name),
  ]);
  assert.equal(fromArchives.length, 6 * 24);
  assert.deepEqual(byKey(fromArchives), byKey(fromRest));
  const unknown = await api.start({ symbol: 'NOSUCHUSDT', market: 'usdm', type: 'bulk_candles_1h', time_range: range });
  const refused = await api.final(unknown.queue_id);
  assert.equal(refused.status, 'error');
  assert.match(refused.error ?? '', /symbol: NOSUCHUSDT is not listed on usdm/);
});

test('COIN-M archives (futures/cm, volumes in contracts) and dapi REST pages store the same records', async () => {
  // 300 days of daily candles: monthly files, loose days and the unpublished days over REST;
  // over REST alone they take two pages, since COIN-M refuses a klines span over 200 days.
  const range = `${dayOf(today - 300 * DAY)}:${dayOf(today)}`;
  const coinm = { symbol: 'BTCUSD_PERP', market: 'coinm', time_range: range } as const;
  const [bulk, rest] = await api.completeAll([
    { ...coinm, type: 'bulk_candles_1d' },
    { ...coinm, type: 'api_candles_1d' },
  ]);
  assert.equal(
    bulk.collection_name,
    `btcusd_perp_coinm_bulk_candles_1d_${dayOf(today - 300 * DAY).replaceAll('-', '_')}`,
  );
  const [fromArchives, fromRest] = await Promise.all([
    api.allRecords<KlineRecord>(bulk.collection_name),
    api.allRecords<KlineRecord>(rest.collection_name),
  ]);
  assert.equal(fromArchives.length, 300);
  assert.deepEqual(byKey(fromArchives), byKey(fromRest));
  assert.match(
    fromArchives[0]!.key,
    /^BTCUSD_PERP:1d:\d+$/,
    'keyed like the other markets: symbol, interval, open time',
  );
  assert.ok(
    fromArchives.every((k) => /^\d+$/.test(k.volume)),
    'volumes in whole contracts',
  );
  const planned = (await api.trail(bulk.queue_id)).find((e) => /pages planned/.test(e.message ?? ''));
  const [, archives, restPages] = /(\d+) archive files, (\d+) REST pages/.exec(planned?.message ?? '') ?? [];
  assert.ok(Number(archives) >= 9 + 2, planned?.message);
  assert.ok(Number(restPages) >= 1, planned?.message);
  const restPlanned = (await api.trail(rest.queue_id)).find((e) => /pages planned/.test(e.message ?? ''));
  assert.equal(restPlanned?.message, '2 pages planned', 'REST alone: two pages of at most 200 days');

  const unknown = await api.start({ ...coinm, symbol: 'NOSUCHUSD_PERP', type: 'bulk_candles_1d' });
  const refused = await api.final(unknown.queue_id);
  assert.equal(refused.status, 'error');
  assert.match(refused.error ?? '', /symbol: NOSUCHUSD_PERP is not listed on coinm/);
  for (const [request, reason] of [
    [{ ...coinm, symbol: 'BTCUSDT', type: 'api_candles_1d' }, /is not a COIN-M contract/],
    [{ ...coinm, type: 'bulk_candles_1s' }, /COIN-M futures have no 1s klines/],
    [{ symbol: 'BTCUSD_PERP', market: 'coinm', type: 'ws_candles_1m' }, /COIN-M live streams/],
  ] as const) {
    const { status, body } = await api.call<{ message?: string }>('POST', '/workflows', request);
    assert.equal(status, 400, JSON.stringify(body));
    assert.match(body.message ?? '', reason);
  }
});

test('mark, index and premium index candles: bulk files and REST pages store the same records, keyed apart from candles', async () => {
  // 40 days of 1h: a monthly file (when a whole month falls inside), daily files, the unpublished days over REST.
  const range = `${dayOf(today - 40 * DAY)}:${dayOf(today)}`;
  const usdm = { symbol: 'ADAUSDT', market: 'usdm', time_range: range } as const;
  const series = ['mark_price', 'index_price', 'premium_index'] as const;
  const started = await Promise.all(
    series.flatMap((name) => [
      api.start({ ...usdm, type: `bulk_${name}_candles_1h` }),
      api.start({ ...usdm, type: `api_${name}_candles_1h` }),
    ]),
  );
  const done = await Promise.all(started.map((w) => api.final(w.queue_id)));
  for (const d of done) assert.equal(d.status, 'completed', `${d.type}: ${d.error}`);
  const stored = await Promise.all(started.map((w) => api.allRecords<PriceKlineRecord>(w.collection_name)));
  for (const [i, name] of series.entries()) {
    const [fromArchives, fromRest] = [stored[2 * i]!, stored[2 * i + 1]!];
    assert.equal(fromArchives.length, 40 * 24, name);
    assert.deepEqual(byKey(fromArchives), byKey(fromRest), name);
    const prefix = { mark_price: 'mark', index_price: 'index', premium_index: 'premium' }[name];
    assert.match(fromArchives[0]!.key, new RegExp(`^ADAUSDT:${prefix}:1h:\\d+$`), name);
    assert.ok(
      fromArchives.every((r) => !('volume' in r)),
      `${name}: no volumes stored`,
    );
  }
  const planned = (await api.trail(started[0]!.queue_id)).find((e) => /pages planned/.test(e.message ?? ''));
  const [, archives, restPages] = /(\d+) archive files, (\d+) REST pages/.exec(planned?.message ?? '') ?? [];
  // 38 archived days: daily files, or a monthly file and the days around it (at least 8 files).
  assert.ok(Number(archives) >= 8, planned?.message);
  assert.ok(Number(restPages) >= 1, planned?.message);

  // COIN-M's mark price of a contract, the same code on /dapi/v1 and futures/cm.
  const coinm = { symbol: 'BTCUSD_PERP', market: 'coinm', time_range: range } as const;
  const [bulk, rest] = await api.completeAll([
    { ...coinm, type: 'bulk_mark_price_candles_1d' },
    { ...coinm, type: 'api_mark_price_candles_1d' },
  ]);
  const [coinmArchives, coinmRest] = await Promise.all([
    api.allRecords<PriceKlineRecord>(bulk.collection_name),
    api.allRecords<PriceKlineRecord>(rest.collection_name),
  ]);
  assert.equal(coinmArchives.length, 40);
  assert.deepEqual(byKey(coinmArchives), byKey(coinmRest));

  for (const [request, reason] of [
    [{ symbol: 'BTCUSDT', type: 'api_mark_price_candles_1h', time_range: range }, /Binance spot has no mark price/],
    [{ ...coinm, type: 'bulk_index_price_candles_1h' }, /per pair/],
    [{ ...usdm, type: 'bulk_mark_price_candles_1s' }, /no 1s klines/],
  ] as const) {
    const { status, body } = await api.call<{ message?: string }>('POST', '/workflows', request);
    assert.equal(status, 400, JSON.stringify(body));
    assert.match(body.message ?? '', reason);
  }
});

test('funding rates: monthly files and fundingRate pages store one record per settlement, with the same keys and rates', async () => {
  // Whole months and the first one's tail from monthly files; this month (no file yet) over REST.
  const usdm = { symbol: 'ADAUSDT', market: 'usdm', time_range: RANGE } as const;
  const [bulk, rest] = await api.completeAll([
    { ...usdm, type: 'bulk_funding_rate' },
    { ...usdm, type: 'api_funding_rate' },
  ]);
  const [fromBulk, fromRest] = await Promise.all([
    api.allRecords<FundingRateRecord>(bulk.collection_name),
    api.allRecords<FundingRateRecord>(rest.collection_name),
  ]);
  assert.equal(fromRest.length, ((today - RANGE_START) / DAY) * 3, 'every 8 hours');
  // The sources differ in one field each (docs/bulk-history.md): the archive has the funding
  // interval, REST the mark price. Key, time and rate are the same record for record.
  const common = (r: FundingRateRecord) => [r.key, r.symbol, r.funding_time, r.funding_rate];
  assert.deepEqual(byKey(fromBulk).map(common), byKey(fromRest).map(common));
  assert.ok(fromRest.every((r) => r.mark_price !== undefined && r.funding_interval_hours === undefined));
  const archived = fromBulk.filter((r) => r.funding_interval_hours === 8);
  assert.ok(archived.length >= 2 * 28 * 3, `${archived.length} settlements from monthly files`);
  assert.ok(
    fromBulk
      .filter((r) => r.funding_time >= Date.UTC(new Date(today).getUTCFullYear(), new Date(today).getUTCMonth(), 1))
      .every((r) => r.mark_price !== undefined),
    'this month came over REST',
  );
  assert.equal(fromBulk[0]!.key.startsWith('ADAUSDT:funding:'), true);
  const { status, body } = await api.call<{ message?: string }>('POST', '/workflows', {
    symbol: 'BTCUSDT',
    type: 'bulk_funding_rate',
    time_range: RANGE,
  });
  assert.equal(status, 400, JSON.stringify(body));
  assert.match(
    body.message ?? '',
    /Binance spot has no mark price, index price, premium index, funding rate or metrics/,
  );
});

test('metrics come from daily files only: archived days are stored, a range reaching unpublished days ends in error saying so', async () => {
  // Files are published two days after their day (SIM_ARCHIVE_LAG_MS): today−3 is the last one.
  const start = today - 10 * DAY;
  const bulk = await api.start({
    symbol: 'ADAUSDT',
    market: 'usdm',
    type: 'bulk_metrics',
    time_range: `${dayOf(start)}:${dayOf(today - 2 * DAY)}`,
  });
  const done = await api.final(bulk.queue_id);
  assert.equal(done.status, 'completed', done.error);
  const stored = byKey(await api.allRecords<MetricsRecord>(bulk.collection_name));
  assert.equal(stored.length, 8 * 288, 'a row every 5 minutes of 8 days');
  assert.deepEqual(
    stored.slice(0, 2).map((r) => [r.key, r.create_time]),
    [
      [`ADAUSDT:metrics:${start}`, start],
      [`ADAUSDT:metrics:${start + 300_000}`, start + 300_000],
    ],
  );
  assert.ok(stored.every((r) => Number(r.sum_open_interest) > 0 && Number(r.sum_open_interest_value) > 0));

  const late = await api.start({
    symbol: 'ADAUSDT',
    market: 'usdm',
    type: 'bulk_metrics',
    time_range: `${dayOf(today - 4 * DAY)}:${dayOf(today)}`,
  });
  const refused = await api.final(late.queue_id);
  assert.equal(refused.status, 'error');
  assert.match(refused.error ?? '', /no daily archive file for .*bulk_metrics loads archived days only/);
  for (const [request, reason] of [
    [
      {
        symbol: 'ADAUSDT',
        market: 'usdm',
        type: 'bulk_metrics',
        time_range: `${dayOf(today - DAY)}:${dayOf(today + DAY)}`,
      },
      /daily archive files only/,
    ],
    [
      {
        symbol: 'BTCUSD_PERP',
        market: 'coinm',
        type: 'bulk_metrics',
        time_range: `${dayOf(start)}:${dayOf(today - 2 * DAY)}`,
      },
      /USD-M only/,
    ],
  ] as const) {
    const { status, body } = await api.call<{ message?: string }>('POST', '/workflows', request);
    assert.equal(status, 400, JSON.stringify(body));
    assert.match(body.message ?? '', reason);
  }
});

test('archive faults end as retried-then-stored or dead-lettered with the reason, and the workflow says which', async () => {
  const start = (symbol: string) => api.start({ symbol, type: 'bulk_candles_1h', time_range: FAULT_RANGE });
  const [corrupt, truncated, slow, badChecksum, missing] = await Promise.all(
    ['ETHUSDT', 'XRPUSDT', 'BNBUSDT', 'SOLUSDT', 'DOGEUSDT'].map(start),
  );
  const ended = await Promise.all(
    [corrupt, truncated, slow, badChecksum, missing].map((w) => api.final(w!.queue_id, 180_000)),
  );
  const [corruptDone, truncatedDone, slowDone, badDone, missingDone] = ended as WorkflowView[];

  for (const done of [corruptDone, truncatedDone, slowDone]) {
    assert.equal(done!.status, 'completed', `${done!.symbol}: ${done!.error}`);
    assert.equal(done!.stored?.records_written, 48, done!.symbol);
  }
  const retried = async (w: WorkflowView, pattern: RegExp): Promise<void> => {
    const events = await api.trail(w.queue_id);
    assert.ok(
      events.some((e) => e.producer.startsWith('loader-producer') && pattern.test(e.message ?? '')),
      `${w.symbol}: ${JSON.stringify(events.map((e) => e.message))}`,
    );
  };
  await retried(corruptDone!, /does not match the CHECKSUM's .*; retrying/);
  await retried(truncatedDone!, /download cut short .*; retrying/);

  assert.equal(badDone!.status, 'error');
  assert.match(
    badDone!.error ?? '',
    /dead-letter topic \(loader-producer: .*SOLUSDT-1h-\d{4}-\d{2}-\d{2}\.zip: SHA-256 \w+ does not match/,
  );
  assert.equal(missingDone!.status, 'error');
  assert.match(
    missingDone!.error ?? '',
    /dead-letter topic \(loader-producer: .*DOGEUSDT-1h-\d{4}-\d{2}-\d{2}\.zip: listed, but the site answers 404/,
  );
  // The other day of each is stored (its page may end after the bad one's last retry); the bad file never is.
  for (const done of [badDone, missingDone]) {
    const stored = await waitFor(`${done!.symbol}: its good day stored`, async () => {
      const records = await api.allRecords<KlineRecord>(done!.collection_name);
      return records.length >= 24 ? records : undefined;
    });
    assert.equal(stored.length, 24);
  }
});

/** The simulator's raw trades of [start, end) as the REST API gives them: the first id from the aggTrade at the start, then historicalTrades by id. */
async function restTrades(symbol: string, market: Market, start: number, end: number): Promise<TradeRecord[]> {
  const base = `${stack.state.exchange_url}${market === 'spot' ? '/api/v3' : '/fapi/v1'}`;
  const json = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  };
  const [first] = await json<AggTrade[]>(
    `/aggTrades?symbol=${symbol}&startTime=${start}&endTime=${start + 3_599_999}&limit=1`,
  );
  const trades: RawTrade[] = [];
  for (let fromId = first!.f; ; ) {
    const page = await json<RawTrade[]>(`/historicalTrades?symbol=${symbol}&fromId=${fromId}&limit=500`);
    trades.push(...page.filter((t) => t.time < end));
    if (page.length === 0 || page.at(-1)!.time >= end) break;
    fromId = page.at(-1)!.id + 1;
  }
  return trades.map((t) => tradeFromBinance(symbol, t));
}

/** The plan's split, from the workflow's trail. */
async function plannedPages(queueId: string): Promise<{ archives: number; rest: number; message?: string }> {
  const planned = (await api.trail(queueId)).find((e) => /pages planned/.test(e.message ?? ''));
  const [, archives, rest] = /(\d+) archive files, (\d+) REST pages/.exec(planned?.message ?? '') ?? [];
  return { archives: Number(archives), rest: Number(rest), ...(planned?.message ? { message: planned.message } : {}) };
}

test('bulk raw trades over a live stream: a daily file, unpublished days and today over REST, one record per trade id', async () => {
  const collection = LIVE_TRADES;
  await waitFor(
    'a live trade stored',
    async () => ((await api.allRecords<TradeRecord>(collection)).length > 0 ? true : undefined),
    // An aggregate trade at most two SIM_TRADE_GAP_MS apart, after the Job has started.
    { timeoutMs: 180_000 },
  );
  await api.call('POST', `/workflows/${liveTrades.queue_id}/stop`);
  assert.equal((await api.final(liveTrades.queue_id, 60_000)).status, 'stopped');
  const streamed = await api.allRecords<TradeRecord>(collection);

  // One day from its file, two not published yet, and today up to the workflow's start, over REST.
  const start = today - 3 * DAY;
  const bulk = await api.start({
    symbol: 'LTCUSDT',
    type: 'bulk_trades',
    time_range: `${dayOf(start)}:${dayOf(today + DAY)}`,
    collection_name: collection,
  });
  const done = await api.final(bulk.queue_id, 120_000);
  assert.equal(done.status, 'completed', done.error);
  const planned = await plannedPages(bulk.queue_id);
  const hoursToday = Math.ceil((done.created_at - today) / 3_600_000);
  assert.deepEqual([planned.archives, planned.rest], [1, 48 + hoursToday], planned.message);

  const stored = byKey(await api.allRecords<TradeRecord>(collection));
  // The plan's clock is the workflow's creation: every trade before it, none twice, as REST serves them.
  const expected = byKey(await restTrades('LTCUSDT', 'spot', start, done.created_at));
  assert.ok(expected.length > 3 * 1000, `${expected.length} trades`);
  assert.deepEqual(stored, expected);
  const ids = stored.map((r) => r.trade_id);
  assert.deepEqual(
    ids,
    ids.map((_, i) => ids[0]! + i),
    'trade ids without a hole',
  );
  // The streamed trades were overwritten by the same records, not stored a second time.
  for (const record of streamed)
    assert.deepEqual(
      stored.find((r) => r.key === record.key),
      record,
      record.key,
    );
});

test('bulk raw trades on USD-M: header files and REST pages store the REST trades row for row', async () => {
  const start = today - 4 * DAY;
  const bulk = await api.start({
    symbol: 'DOTUSDT',
    market: 'usdm',
    type: 'bulk_trades',
    time_range: `${dayOf(start)}:${dayOf(today)}`,
  });
  const done = await api.final(bulk.queue_id, 180_000);
  assert.equal(done.status, 'completed', done.error);
  const planned = await plannedPages(bulk.queue_id);
  assert.deepEqual([planned.archives, planned.rest], [2, 48], planned.message);
  const stored = byKey(await api.allRecords<TradeRecord>(bulk.collection_name));
  assert.deepEqual(stored, byKey(await restTrades('DOTUSDT', 'usdm', start, today)));
  assert.equal(done.stored?.records_written, stored.length);
});

test('a trades file with a line that does not parse is dead-lettered naming the file and the line', async () => {
  const bulk = await api.start({ symbol: 'LINKUSDT', type: 'bulk_trades', time_range: FAULT_RANGE });
  const done = await api.final(bulk.queue_id, 180_000);
  assert.equal(done.status, 'error');
  // Not retried: every download gives the same bytes, so the page is dead-lettered at once. The
  // error comes from loader-producer's report or from the dead letter, whichever the manager
  // records first: both name the file, the line and the reason.
  const named =
    /loader-producer: (loader-producer answered 422: SF_ARCHIVE_MALFORMED )?data\/spot\/daily\/trades\/LINKUSDT\/LINKUSDT-trades-\d{4}-\d{2}-\d{2}\.zip: line 2: price: "not-a-number" is not a decimal/;
  assert.match(done.error ?? '', named);
  const lettered = await api.until(
    bulk.queue_id,
    'its page on the dead-letter topic',
    (w) => (w.dead_letters?.['loader-producer']?.total ?? 0) >= 1,
    60_000,
  );
  assert.match(lettered.dead_letters?.['loader-producer']?.reason ?? '', /LINKUSDT-trades-.*\.zip: line 2: /);
  // Nothing of a malformed file is published: it is checked whole before any part is sent.
  const { status, body } = await api.call<{ records?: TradeRecord[] }>(
    'GET',
    `/collections/${bulk.collection_name}/records?limit=10`,
  );
  assert.ok(status === 404 || body.records?.length === 0, `${status}: ${JSON.stringify(body)}`);
});
