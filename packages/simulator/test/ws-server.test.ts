import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { AggTrade, DepthSnapshot, KlineRow, RawTrade } from '@streamforge/core/contracts';
import { anchoredTime } from '@streamforge/exchange';
import { OrderBookSync, type DepthEvent } from '@streamforge/exchange';
import {
  DEFAULT_SYMBOLS,
  attachWebSocketSide,
  loadCapture,
  startExchangeSimulator,
  type ExchangeSimulatorOptions,
  type WebSocketSide,
  type WebSocketSideOptions,
  type ExchangeSimulator,
} from '../src/index.ts';
import { waitFor } from '@streamforge/testing';

const WS_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/binance/ws/', import.meta.url));
const START = Date.UTC(2025, 0, 6, 10, 0, 0);

interface Sim {
  sim: ExchangeSimulator;
  side: WebSocketSide;
}

async function simulator(
  t: TestContext,
  options: ExchangeSimulatorOptions = {},
  ws: WebSocketSideOptions = {},
): Promise<Sim> {
  const sim = await startExchangeSimulator(options);
  const side = attachWebSocketSide(sim, ws);
  t.after(async () => {
    await side.close();
    await sim.close();
  });
  return { sim, side };
}

/** A clock the test moves by hand. */
function manualClock(start = START): { now: () => number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

interface Client {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
  send(body: unknown): void;
}

async function connect(t: TestContext, url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, options);
  const client: Client = {
    ws,
    frames: [],
    pings: 0,
    closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    send: (body) => ws.send(typeof body === 'string' ? body : JSON.stringify(body)),
  };
  ws.on('message', (data) => client.frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  ws.on('ping', () => {
    client.pings += 1;
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  t.after(() => ws.terminate());
  return client;
}

const payloads = (client: Client, stream: string) =>
  client.frames.filter((f) => f.stream === stream).map((f) => f.data as Record<string, unknown>);

test('/ws/<stream> sends raw payloads, /stream wraps them as {stream, data}, and USD-M lives under /fstream', async (t) => {
  const { side } = await simulator(t, { clock: anchoredTime(30, START, Date.now()).now });
  const raw = await connect(t, `${side.urls.spot}/ws/btcusdt@aggTrade`);
  const combined = await connect(t, `${side.urls.usdm}/stream?streams=ethusdt@aggTrade/btcusdt@bookTicker`);
  await waitFor(
    'raw and combined messages',
    () =>
      raw.frames.length >= 3 &&
      payloads(combined, 'ethusdt@aggTrade').length >= 3 &&
      payloads(combined, 'btcusdt@bookTicker').length >= 1,
  );
  const trade = raw.frames[0]!;
  assert.equal(trade.e, 'aggTrade');
  assert.equal(trade.s, 'BTCUSDT');
  assert.equal(trade.M, true, 'spot aggTrades carry M');
  assert.deepEqual(Object.keys(trade), ['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
  const futures = payloads(combined, 'ethusdt@aggTrade')[0]!;
  assert.equal(futures.M, undefined, 'USD-M aggTrades have no M');
  assert.match(String(futures.p), /^\d+\.\d{2}$/, 'USD-M prices use the contract precision');
  const ticker = payloads(combined, 'btcusdt@bookTicker')[0]!;
  assert.equal(ticker.e, 'bookTicker', 'USD-M bookTicker has e/E/T, spot has not');
  assert.ok(Number(ticker.b) < Number(ticker.a));
});

test('control methods answer as Binance does, with its error bodies', async (t) => {
  const clock = manualClock();
  const { side } = await simulator(t, { clock: clock.now });
  const client = await connect(t, `${side.urls.usdm}/ws`);
  const requests: Array<[unknown, unknown]> = [
    // A symbol the simulator does not list: subscriptions are kept, but no data interleaves with the replies.
    [
      { method: 'SUBSCRIBE', params: ['xyzusdt@aggTrade', 'xyzusdt@depth'], id: 1 },
      { result: null, id: 1 },
    ],
    [
      { method: 'LIST_SUBSCRIPTIONS', id: 3 },
      { result: ['xyzusdt@aggTrade', 'xyzusdt@depth'], id: 3 },
    ],
    [
      { method: 'UNSUBSCRIBE', params: ['xyzusdt@depth'], id: 312 },
      { result: null, id: 312 },
    ],
    [
      { method: 'GET_PROPERTY', params: ['combined'], id: 2 },
      { result: false, id: 2 },
    ],
    [
      { method: 'SET_PROPERTY', params: ['combined', true], id: 5 },
      { result: null, id: 5 },
    ],
    [
      { method: 'GET_PROPERTY', params: ['combined'], id: 'abc' },
      { result: true, id: 'abc' },
    ],
    [
      { method: 'GET_PROPERTY', params: ['colour'], id: 6 },
      { code: 0, msg: 'Unknown property', id: 6 },
    ],
    [
      { method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 7 },
      { code: 1, msg: 'Invalid value type: expected Boolean' },
    ],
  ];
  for (const [request, reply] of requests) {
    clock.advance(200); // five messages a second, inside USD-M's limit of ten
    const before = client.frames.length;
    client.send(request);
    await waitFor(`a reply to ${JSON.stringify(request)}`, () => client.frames.length > before);
    assert.deepEqual(client.frames.at(-1), reply);
  }
  const errors: Array<[string, RegExp]> = [
    ['{"method":"SET_PROPERTY","params":[1,true],"id":8}', /^Invalid request: property name must be a string$/],
    ['{"method":"LIST_SUBSCRIPTIONS","id":[1]}', /^Invalid request: request ID must be an unsigned integer$/],
    [
      '{"method":"PING","id":9}',
      /^Invalid request: unknown variant `PING`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column \d+$/,
    ],
  ];
  for (const [text, msg] of errors) {
    clock.advance(200);
    const before = client.frames.length;
    client.send(text);
    await waitFor(`a reply to ${text}`, () => client.frames.length > before);
    assert.equal(client.frames.at(-1)!.code, 2);
    assert.match(String(client.frames.at(-1)!.msg), msg);
  }
  const usdmOnly = await connect(t, `${side.urls.usdm}/ws`);
  usdmOnly.send('{"params":["x"],"id":1}');
  usdmOnly.send('not json');
  await waitFor('two syntax errors', () => usdmOnly.frames.length === 2);
  assert.deepEqual(usdmOnly.frames[0], { code: 2, msg: 'Invalid request: missing field `method` at line 1 column 23' });
  assert.deepEqual(usdmOnly.frames[1], { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' });
});

test('stream names are lowercase: an upper-case or unknown stream is accepted and stays silent', async (t) => {
  const clock = anchoredTime(30, START, Date.now());
  const { side } = await simulator(t, { clock: clock.now });
  const client = await connect(
    t,
    `${side.urls.spot}/stream?streams=BTCUSDT@aggTrade/btcusdt@kline_7m/btcusdt@aggTrade`,
  );
  await waitFor('lowercase stream flows', () => payloads(client, 'btcusdt@aggTrade').length >= 20);
  assert.deepEqual(new Set(client.frames.map((f) => f.stream)), new Set(['btcusdt@aggTrade']));
});

test('every candle ends with one final x:true message equal to the REST kline, after x:false updates every 2 s', async (t) => {
  const clock = anchoredTime(120, START - 5_000, Date.now());
  const { sim, side } = await simulator(t, { clock: clock.now });
  const client = await connect(t, `${side.urls.spot}/ws/ethusdt@kline_1m`);
  await waitFor('two final candles', () => client.frames.filter((f) => (f.k as { x: boolean }).x).length >= 2, {
    timeoutMs: 10_000,
  });
  const klines = client.frames.map(
    (f) =>
      f as {
        E: number;
        k: {
          t: number;
          T: number;
          x: boolean;
          o: string;
          c: string;
          h: string;
          l: string;
          v: string;
          n: number;
          q: string;
          V: string;
          Q: string;
          f: number;
          L: number;
        };
      },
  );
  const finals = klines.filter((m) => m.k.x);
  for (const [n, final] of finals.entries()) {
    assert.equal(finals.filter((m) => m.k.t === final.k.t).length, 1, 'one final message per candle');
    assert.equal(final.E, final.k.T + 1, 'sent when the candle closes');
    const rows = (await (
      await fetch(`${sim.url}/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime=${final.k.t}&limit=1`)
    ).json()) as KlineRow[];
    const row = rows[0]!;
    assert.deepEqual(
      [
        final.k.t,
        final.k.o,
        final.k.h,
        final.k.l,
        final.k.c,
        final.k.v,
        final.k.T,
        final.k.q,
        final.k.n,
        final.k.V,
        final.k.Q,
      ],
      row.slice(0, 11),
      'the final message is the REST kline',
    );
    const updates = klines.filter((m) => m.k.t === final.k.t && !m.k.x);
    if (n > 0) assert.equal(updates.length, 29, 'an update every 2 s of the candle, the last one at 58 s');
    for (const [a, b] of updates.slice(1).map((m, i) => [updates[i]!, m] as const)) assert.equal(b.E - a.E, 2_000);
    assert.ok(final.k.f <= final.k.L, 'first and last trade ids of the candle');
  }
});

test('aggTrade ids are gapless and the REST aggTrades of the same ids; trades are the raw trades of historicalTrades', async (t) => {
  const clock = anchoredTime(20, START, Date.now());
  const { sim, side } = await simulator(t, { clock: clock.now });
  const client = await connect(t, `${side.urls.spot}/stream?streams=btcusdt@aggTrade/btcusdt@trade`);
  await waitFor(
    'trades',
    () => payloads(client, 'btcusdt@aggTrade').length >= 200 && payloads(client, 'btcusdt@trade').length >= 200,
  );
  const aggs = payloads(client, 'btcusdt@aggTrade') as unknown as Array<AggTrade & { e: string; E: number; s: string }>;
  for (let i = 1; i < aggs.length; i++) assert.equal(aggs[i]!.a, aggs[i - 1]!.a + 1);
  const rest = (await (
    await fetch(`${sim.url}/api/v3/aggTrades?symbol=BTCUSDT&fromId=${aggs[0]!.a}&limit=100`)
  ).json()) as AggTrade[];
  assert.deepEqual(
    aggs.slice(0, 100).map(({ e: _e, E: _E, s: _s, ...trade }) => trade),
    rest,
  );
  const trades = payloads(client, 'btcusdt@trade') as unknown as Array<{
    t: number;
    p: string;
    q: string;
    T: number;
    m: boolean;
  }>;
  for (let i = 1; i < trades.length; i++) assert.equal(trades[i]!.t, trades[i - 1]!.t + 1);
  const history = (await (
    await fetch(`${sim.url}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${trades[0]!.t}&limit=100`)
  ).json()) as RawTrade[];
  assert.deepEqual(
    trades.slice(0, 100).map((x) => [x.t, x.p, x.q, x.T, x.m]),
    history.map((x) => [x.id, x.price, x.qty, x.time, x.isBuyerMaker]),
  );
  const first = aggs.find((a) => a.f === trades[0]!.t) ?? rest[0]!;
  assert.ok(first.f <= trades[0]!.t, 'raw trade ids are the aggregate trades’ f…l ranges');
});

for (const market of ['spot', 'usdm'] as const) {
  test(`${market}: the diff-depth stream applied to the REST snapshot is the REST book at the same update id`, async (t) => {
    const clock = manualClock();
    const { sim, side } = await simulator(t, { clock: clock.now });
    const path = market === 'spot' ? '/api/v3/depth' : '/fapi/v1/depth';
    const client = await connect(t, `${side.urls[market]}/ws/solusdt@depth@100ms`);
    const snapshot = async (): Promise<DepthSnapshot> =>
      (await (await fetch(`${sim.url}${path}?symbol=SOLUSDT&limit=1000`)).json()) as DepthSnapshot;
    const book = new OrderBookSync({ market, symbol: 'SOLUSDT', fetchSnapshot: snapshot });
    let seen = 0;
    for (let step = 0; step < 40; step++) {
      clock.advance(100);
      await waitFor('the step’s depth event', () => client.frames.length > seen, { intervalMs: 2 });
      for (const frame of client.frames.slice(seen)) book.push(frame as unknown as DepthEvent);
      seen = client.frames.length;
      await book.settled();
    }
    const events = client.frames as unknown as DepthEvent[];
    for (let i = 1; i < events.length; i++) {
      if (market === 'spot') assert.equal(events[i]!.U, events[i - 1]!.u + 1, 'spot: U follows the previous u');
      else assert.equal(events[i]!.pu, events[i - 1]!.u, 'USD-M: pu names the previous u');
    }
    const rest = await snapshot();
    assert.equal(book.stats.resyncs, 0);
    assert.equal(book.view().lastUpdateId, rest.lastUpdateId);
    assert.deepEqual(book.view(), { lastUpdateId: rest.lastUpdateId, bids: rest.bids, asks: rest.asks });
  });
}

test('pings come every 20 s; a client that never answers is disconnected after a minute', async (t) => {
  const clock = manualClock();
  const { side } = await simulator(t, { clock: clock.now });
  const polite = await connect(t, `${side.urls.spot}/ws/btcusdt@bookTicker`);
  const silent = await connect(t, `${side.urls.spot}/ws/btcusdt@bookTicker`, { autoPong: false });
  for (let i = 0; i < 4; i++) {
    clock.advance(20_000);
    await waitFor(`ping ${i + 1}`, () => polite.pings > i && silent.pings > i);
  }
  clock.advance(1_000);
  const closed = await silent.closed;
  assert.equal(closed.code, 1008);
  assert.equal(polite.ws.readyState, WebSocket.OPEN, 'the client that answered stays');
});

test('more than 5 incoming messages in a second end a spot connection; pongs and pings count', async (t) => {
  const clock = manualClock();
  const { side } = await simulator(t, { clock: clock.now });
  const client = await connect(t, `${side.urls.spot}/ws`);
  for (let i = 0; i < 5; i++) client.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
  await waitFor('five replies', () => client.frames.length === 5);
  client.ws.ping();
  const closed = await client.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /too many incoming messages/);
  const later = await connect(t, `${side.urls.spot}/ws`);
  for (let i = 0; i < 5; i++) later.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
  await waitFor('five replies', () => later.frames.length === 5);
  clock.advance(1_001);
  later.send({ method: 'LIST_SUBSCRIPTIONS', id: 6 });
  await waitFor('a sixth reply in the next second', () => later.frames.length === 6);
});

test('a connection holds at most 1024 streams, by URL or by SUBSCRIBE', async (t) => {
  const { side } = await simulator(t, { clock: manualClock().now });
  const names = Array.from({ length: 1025 }, (_, i) => `x${i}@trade`);
  await assert.rejects(connect(t, `${side.urls.usdm}/stream?streams=${names.join('/')}`), /HTTP 400/);
  const client = await connect(t, `${side.urls.usdm}/stream?streams=${names.slice(0, 1000).join('/')}`);
  client.send({ method: 'SUBSCRIBE', params: names.slice(1000), id: 1 });
  await waitFor('a reply', () => client.frames.length === 1);
  assert.match(String(client.frames[0]!.msg), /at most 1024/);
  client.send({ method: 'SUBSCRIBE', params: names.slice(1000, 1024), id: 2 });
  await waitFor('a reply', () => client.frames.length === 2);
  assert.deepEqual(client.frames[1], { result: null, id: 2 });
});

test('connections are cut at 24 hours of the simulator clock, and serverShutdown reaches every client', async (t) => {
  const clock = manualClock();
  const { side } = await simulator(t, { clock: clock.now });
  const raw = await connect(t, `${side.urls.spot}/ws`);
  const combined = await connect(t, `${side.urls.usdm}/stream`);
  side.announceShutdown();
  await waitFor('shutdown notices', () => raw.frames.length === 1 && combined.frames.length === 1);
  assert.deepEqual(raw.frames[0], { e: 'serverShutdown', E: START });
  assert.deepEqual(combined.frames[0], { stream: '!serverShutdown', data: { e: 'serverShutdown', E: START } });
  clock.advance(86_400_000 - 1);
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 20)); // several pumps: nothing happens before 24 h
  assert.equal(raw.ws.readyState, WebSocket.OPEN);
  clock.advance(1);
  assert.equal((await raw.closed).code, 1000);
  assert.equal((await combined.closed).code, 1000);
});

test('fault knobs: a dropped connection ends without a close frame, skipped messages leave a gap in ids', async (t) => {
  const clock = anchoredTime(20, START, Date.now());
  const { sim, side } = await simulator(t, { clock: clock.now });
  const client = await connect(t, `${side.urls.spot}/ws/ethusdt@aggTrade`);
  await waitFor('trades', () => client.frames.length >= 20);
  const skipped = await fetch(`${sim.url}/_sim/ws/skip?count=5`, { method: 'POST' });
  assert.deepEqual(await skipped.json(), { skipping: 5 });
  const before = client.frames.length;
  await waitFor('trades after the skip', () => client.frames.length >= before + 10);
  const ids = client.frames.map((f) => f.a as number);
  const jumps = ids
    .slice(1)
    .map((id, i) => id - ids[i]!)
    .filter((d) => d !== 1);
  assert.deepEqual(jumps, [6], 'exactly five ids missing');
  const stats = (await (await fetch(`${sim.url}/_sim/ws/stats`)).json()) as {
    messagesSkipped: number;
    connectionsOpen: number;
  };
  assert.equal(stats.messagesSkipped, 5);
  const dropped = await (await fetch(`${sim.url}/_sim/ws/drop`, { method: 'POST' })).json();
  assert.deepEqual(dropped, { dropped: 1 });
  assert.equal((await client.closed).code, 1006, 'no close frame: abnormal closure');
  assert.equal(side.stats().connectionsOpen, 0);
  assert.equal((await fetch(`${sim.url}/api/v3/ping`)).status, 200, 'REST still answers');
});

test('a recorded capture replays frame by frame for the subscribed streams, with its snapshots on the REST depth path', async (t) => {
  const capture = await loadCapture(
    `${WS_FIXTURES}usdm-capture-2021-07-22.jsonl`,
    `${WS_FIXTURES}usdm-depth-snapshots-2021-07-22.jsonl`,
  );
  assert.equal(capture.market, 'usdm');
  const clock = anchoredTime(50, START, Date.now());
  const { sim, side } = await simulator(t, { clock: clock.now, symbols: [DEFAULT_SYMBOLS[0]!] }, { replay: capture });
  const streams = ['sushiusdt@depth@100ms', 'ctkusdt@kline_1m'];
  const client = await connect(t, `${side.urls.usdm}/stream?streams=${streams.join('/')}`);
  const expected = capture.frames.filter((f) => streams.includes(f.stream));
  await waitFor('the whole capture of those streams', () => client.frames.length === expected.length, {
    timeoutMs: 10_000,
  });
  assert.deepEqual(
    client.frames,
    expected.map((f) => ({ stream: f.stream, data: JSON.parse(f.raw) as unknown })),
  );
  const depth = (await (await fetch(`${sim.url}/fapi/v1/depth?symbol=SUSHIUSDT&limit=1000`)).json()) as DepthSnapshot;
  assert.equal(depth.lastUpdateId, capture.snapshots.find((s) => s.symbol === 'SUSHIUSDT')!.body.lastUpdateId);
  assert.equal(depth.bids.length, 1000);
});
