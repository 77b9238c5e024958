import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AggTrade } from '@streamforge/core/contracts';
import { BinanceRestClient } from '../src/binance-rest.ts';
import { BinanceStreamClient, type BinanceStreamClientOptions, type StreamMessage } from '../src/binance-ws.ts';
import { anchoredTime } from '../src/exchange-time.ts';
import { IdSequence } from '../src/stream-gaps.ts';
import type { TimeSource } from '../src/time-source.ts';
import {
  DEFAULT_SYMBOLS,
  attachWebSocketSide,
  startExchangeSimulator,
  type ExchangeSimulatorOptions,
  type ExchangeSimulator,
  type WebSocketSide,
  type WebSocketSideOptions,
} from '@streamforge/simulator';
import { waitFor } from '@streamforge/testing';

const START = Date.UTC(2025, 0, 6, 10, 0, 0);

async function simulator(
  t: TestContext,
  time: TimeSource,
  options: ExchangeSimulatorOptions = {},
  ws: WebSocketSideOptions = {},
): Promise<{ sim: ExchangeSimulator; side: WebSocketSide }> {
  const sim = await startExchangeSimulator({ clock: time.now, ...options });
  const side = attachWebSocketSide(sim, ws);
  t.after(async () => {
    await side.close();
    await sim.close();
  });
  return { sim, side };
}

function client(
  t: TestContext,
  options: Omit<BinanceStreamClientOptions, 'onMessage'> & { onMessage?(m: StreamMessage): void },
): { stream: BinanceStreamClient; messages: StreamMessage[] } {
  const messages: StreamMessage[] = [];
  const stream = new BinanceStreamClient({ ...options, onMessage: options.onMessage ?? ((m) => messages.push(m)) });
  t.after(() => stream.close());
  return { stream, messages };
}

/** aggTrade ids of one stream, checked for gaps as the loader checks them. */
function tradeIds(
  messages: StreamMessage[],
  stream: string,
): { ids: number[]; gaps: Array<{ from: number; to: number }> } {
  const sequence = new IdSequence();
  const ids: number[] = [];
  const gaps: Array<{ from: number; to: number }> = [];
  for (const m of messages) {
    if (m.stream !== stream) continue;
    const id = (m.data as AggTrade).a;
    const seen = sequence.observe(id);
    if (seen.status === 'duplicate') continue;
    ids.push(id);
    if (seen.missing) gaps.push(seen.missing);
  }
  return { ids, gaps };
}

test('the client names streams in the URL and subscribes the rest, within the control-message limit', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { side } = await simulator(t, time);
  const symbols = DEFAULT_SYMBOLS.map((s) => s.symbol.toLowerCase());
  const streams = symbols.flatMap((s) => [`${s}@aggTrade`, `${s}@bookTicker`]);
  const { stream, messages } = client(t, {
    market: 'spot',
    streams,
    baseUrl: side.urls.spot,
    time,
    urlStreams: 3,
    subscribeChunk: 2,
  });
  await stream.start();
  await waitFor('messages from every stream', () => streams.every((s) => messages.some((m) => m.stream === s)), {
    timeoutMs: 10_000,
  });
  assert.equal(stream.stats().controlMessages, Math.ceil((streams.length - 3) / 2), 'one SUBSCRIBE per chunk');
  assert.equal(side.stats().connectionsOpened, 1, 'never disconnected for sending too fast');
  assert.deepEqual(new Set(side.connections()[0]!.subscriptions), new Set(streams));
});

test('streams added and removed at run time are subscribed and unsubscribed on the open connection', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { side } = await simulator(t, time);
  const { stream, messages } = client(t, {
    market: 'spot',
    streams: ['btcusdt@aggTrade'],
    baseUrl: side.urls.spot,
    time,
  });
  await stream.start();
  await stream.subscribe(['ethusdt@aggTrade']);
  assert.deepEqual(new Set(side.connections()[0]!.subscriptions), new Set(['btcusdt@aggTrade', 'ethusdt@aggTrade']));
  await waitFor('ETH trades', () => messages.some((m) => m.stream === 'ethusdt@aggTrade'));
  await stream.unsubscribe(['btcusdt@aggTrade']);
  assert.deepEqual(side.connections()[0]!.subscriptions, ['ethusdt@aggTrade']);
  // Frames come in order: whatever BTC trade was sent before the answer arrived before it.
  const cut = messages.length;
  await waitFor(
    'more ETH trades',
    () => messages.slice(cut).filter((m) => m.stream === 'ethusdt@aggTrade').length >= 20,
  );
  assert.equal(
    messages.slice(cut).filter((m) => m.stream === 'btcusdt@aggTrade').length,
    0,
    'no BTC trade after the UNSUBSCRIBE',
  );
  assert.equal(side.stats().connectionsOpened, 1);
});

test('streams changed while the connection is still being opened are taken up once it is in place', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { side } = await simulator(t, time);
  const { stream, messages } = client(t, {
    market: 'spot',
    streams: ['btcusdt@aggTrade', 'bnbusdt@aggTrade'],
    baseUrl: side.urls.spot,
    time,
  });
  const started = stream.start();
  // The socket is being opened with the two streams of the start; these changes come after.
  const changes = [stream.subscribe(['ethusdt@aggTrade']), stream.unsubscribe(['bnbusdt@aggTrade'])];
  await Promise.all([started, ...changes]);
  assert.deepEqual(new Set(side.connections()[0]!.subscriptions), new Set(['btcusdt@aggTrade', 'ethusdt@aggTrade']));
  await waitFor('ETH trades', () => messages.some((m) => m.stream === 'ethusdt@aggTrade'));
  assert.equal(stream.stats().streams, 2);
});

test('more than 1024 streams are spread over several connections', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { side } = await simulator(t, time);
  const streams = Array.from({ length: 1100 }, (_, i) => `x${i}usdt@aggTrade`);
  const { stream } = client(t, { market: 'usdm', streams, baseUrl: side.urls.usdm, time });
  await stream.start();
  assert.deepEqual(
    side
      .connections()
      .map((c) => c.subscriptions.length)
      .sort((a, b) => a - b),
    [76, 1024],
  );
  assert.equal(stream.stats().streams, 1100);
});

test('after a dropped connection the client reconnects and resubscribes; the gap in aggTrade ids is found and REST fills it exactly', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { sim, side } = await simulator(t, time);
  const events: string[] = [];
  const { stream, messages } = client(t, {
    market: 'usdm',
    streams: ['ethusdt@aggTrade'],
    baseUrl: side.urls.usdm,
    time,
    onEvent: (e) => events.push(e.type),
    backoff: { baseMs: 2_000 },
  });
  await stream.start();
  await waitFor('trades', () => messages.length >= 30);
  side.dropConnections();
  const afterDrop = messages.length;
  await waitFor('trades after the reconnect', () => messages.length >= afterDrop + 30);
  assert.deepEqual(events.slice(0, 3), ['connected', 'disconnected', 'connected']);
  assert.equal(stream.stats().reconnects, 1);
  const { ids, gaps } = tradeIds(messages, 'ethusdt@aggTrade');
  assert.equal(gaps.length, 1, 'trades made while disconnected are missing');
  const rest = new BinanceRestClient({ baseUrls: { usdm: sim.url }, time });
  t.after(() => rest.close());
  const missing = await rest.aggTrades({
    market: 'usdm',
    symbol: 'ETHUSDT',
    fromId: gaps[0]!.from,
    limit: gaps[0]!.to - gaps[0]!.from + 1,
  });
  const all = [...ids, ...missing.map((a) => a.a)].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: all.length }, (_, i) => all[0]! + i),
    'stream plus REST: every id once',
  );
});

test('the client answers pings, so a short pong deadline never ends its connection', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  // 10 s of exchange time to answer is half a second of real time: a busy machine still answers
  // in time, and a client that never answers is cut several times over in the minute below.
  const { side } = await simulator(t, time, {}, { limits: { spot: { pingIntervalMs: 500, pongTimeoutMs: 10_000 } } });
  const { stream, messages } = client(t, {
    market: 'spot',
    streams: ['btcusdt@aggTrade'],
    baseUrl: side.urls.spot,
    time,
    silenceTimeoutMs: 5_000,
  });
  await stream.start();
  const until = time.now() + 60_000;
  await waitFor('60 s of exchange time with a ping every 0.5 s', () => time.now() > until && messages.length > 100, {
    timeoutMs: 20_000,
  });
  assert.equal(side.stats().connectionsOpened, 1);
  assert.equal(side.stats().closeReasons['no pong received'], undefined);
});

test('a planned reconnect before the 24-hour cut-off moves to a new connection without losing a trade', async (t) => {
  const time = anchoredTime(60_000, START, Date.now()); // a day in 1.4 s
  const slow = { ...DEFAULT_SYMBOLS[1]!, symbol: 'SLOWUSDT', tradeGapMs: 600_000 };
  const hour = 3_600_000;
  const { side } = await simulator(
    t,
    time,
    { symbols: [slow] },
    { limits: { spot: { pingIntervalMs: hour, pongTimeoutMs: 2 * hour } } },
  );
  const options = {
    market: 'spot' as const,
    streams: ['slowusdt@aggTrade'],
    baseUrl: side.urls.spot,
    time,
    silenceTimeoutMs: 4 * hour,
  };
  assert.equal(
    client(t, options).stream.timing.plannedReconnectMs,
    24 * hour - 10 * 60_000,
    'by default ten minutes before the cut-off',
  );
  // At a day per 1.4 s those ten minutes are 10 ms of real time, which a busy machine overruns;
  // four hours (240 ms) keep the test about the switch, not about the scheduler.
  const { stream, messages } = client(t, { ...options, plannedReconnectMs: 20 * hour });
  await stream.start();
  await waitFor(
    'a planned reconnect and trades after it',
    () =>
      stream.stats().plannedReconnects >= 1 &&
      messages.filter((m) => m.connection === 1).length > 0 &&
      time.now() > START + 26 * hour,
    { timeoutMs: 10_000 },
  );
  const { ids, gaps } = tradeIds(messages, 'slowusdt@aggTrade');
  assert.deepEqual(gaps, [], 'no trade lost across the switch');
  assert.ok(ids.length > 100);
  assert.equal(
    side.stats().closeReasons['connection lifetime of 24 hours reached'],
    undefined,
    'the client left before the server cut it',
  );
  assert.equal(stream.stats().reconnects, 0, 'no unplanned reconnect');
});

test('serverShutdown moves the client to a new connection at once, without a gap', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { side } = await simulator(t, time);
  const events: string[] = [];
  const { stream, messages } = client(t, {
    market: 'spot',
    streams: ['bnbusdt@aggTrade'],
    baseUrl: side.urls.spot,
    time,
    onEvent: (e) => events.push(e.type),
  });
  await stream.start();
  await waitFor('trades', () => messages.length >= 10);
  side.announceShutdown();
  await waitFor(
    'a second connection',
    () => side.stats().connectionsOpened === 2 && side.stats().connectionsOpen === 1,
  );
  const count = messages.length;
  await waitFor('trades on the new connection', () => messages.length >= count + 10);
  assert.deepEqual(events.slice(0, 4), ['connected', 'server-shutdown', 'connected', 'disconnected']);
  assert.deepEqual(tradeIds(messages, 'bnbusdt@aggTrade').gaps, []);
});

test('a connection that goes silent is replaced', async (t) => {
  const time = anchoredTime(20, START, Date.now());
  const { side } = await simulator(t, time, {}, { limits: { usdm: { pingIntervalMs: 3_600_000 } } });
  const { stream } = client(t, {
    market: 'usdm',
    streams: ['nothingusdt@aggTrade'],
    baseUrl: side.urls.usdm,
    time,
    silenceTimeoutMs: 3_000,
  });
  await stream.start();
  await waitFor(
    'a silent drop and a new connection',
    () => stream.stats().silentDrops >= 1 && side.stats().connectionsOpened >= 2,
  );
});
