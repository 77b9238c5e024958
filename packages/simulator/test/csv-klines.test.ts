import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KlineRow } from '@streamforge/core/contracts';
import { startExchangeSimulator, type ExchangeSimulator } from '../src/index.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/binance/klines/', import.meta.url));
const NOW = Date.UTC(2025, 0, 10);

async function simulator(t: TestContext, klinesDir: string): Promise<ExchangeSimulator> {
  const sim = await startExchangeSimulator({ clock: () => NOW, klinesDir });
  t.after(() => sim.close());
  return sim;
}

async function klines(sim: ExchangeSimulator, path: string): Promise<{ rows: KlineRow[]; text: string }> {
  const response = await fetch(`${sim.url}${path}`);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return { rows: JSON.parse(text) as KlineRow[], text };
}

/** The data rows of a CSV file as cells. */
async function csvRows(file: string): Promise<string[][]> {
  const lines = (await readFile(join(FIXTURES, file), 'utf8')).split('\n').map((l) => l.replace(/\r$/, ''));
  return lines.filter((l) => /^\d/.test(l)).map((l) => l.split(','));
}

/** Binance's JSON row for CSV cells: times and count as numbers, the other cells as the same characters in strings. */
function expectedJson(cells: string[]): string {
  return `[${cells.map((cell, i) => (i === 0 || i === 6 || i === 8 ? cell : `"${cell}"`)).join(',')}]`;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-klines-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a headerless spot file is served byte for byte as the exchange published it', async (t) => {
  const sim = await simulator(t, FIXTURES);
  const cells = await csvRows('spot/BTCUSDT-1h-2022-09-07.csv');
  const start = Number(cells[0]![0]);
  const { rows, text } = await klines(
    sim,
    `/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${start}&endTime=${start + 86_400_000 - 1}`,
  );
  assert.equal(rows.length, 24);
  assert.equal(text, `[${cells.map(expectedJson).join(',')}]`);
  assert.equal(rows[0]![1], '18790.61000000', 'string cells keep every written digit');
});

test('files with a header row are served from the first data row, across month files', async (t) => {
  const sim = await simulator(t, FIXTURES);
  const january = await csvRows('spot/BTCUSDT-1h-2023-01.csv');
  const february = await csvRows('spot/BTCUSDT-1h-2023-02.csv');
  const { rows, text } = await klines(
    sim,
    `/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${january.at(-2)![0]}&limit=4`,
  );
  assert.deepEqual(
    rows.map((r) => r[0]),
    [...january.slice(-2), ...february.slice(0, 2)].map((c) => Number(c[0])),
  );
  assert.equal(text, `[${[...january.slice(-2), ...february.slice(0, 2)].map(expectedJson).join(',')}]`);
});

test('the usdm folder serves /fapi/v1/klines and only the file range, never synthetic candles beside it', async (t) => {
  const sim = await simulator(t, FIXTURES);
  const day = await csvRows('usdm/BTCUSDT-1m-2022-09-05.csv');
  const start = Number(day[0]![0]);
  const { rows, text } = await klines(sim, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${start}&limit=1500`);
  assert.equal(rows.length, 1500, 'the next day file continues the series');
  assert.equal(text.slice(0, text.indexOf(']') + 1), `[${expectedJson(day[0]!)}`);
  assert.equal(rows[0]![1], '19992.70');
  const before = await klines(sim, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&endTime=${start - 1}`);
  assert.deepEqual(before.rows, [], 'nothing before the files');
  const latest = await klines(sim, '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1');
  assert.equal(latest.rows[0]![0], Date.UTC(2022, 8, 6, 23, 59), 'the most recent candle is the last one in the files');
  const spotSynthetic = await klines(sim, `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${start}&limit=1`);
  assert.notEqual(spotSynthetic.rows[0]![1], '19992.70', 'the usdm folder does not feed spot');
});

test('a row missing from a file stays missing, and files outside spot/ and usdm/ serve both markets', async (t) => {
  const dir = await tempDir(t);
  const cells = await csvRows('spot/BTCUSDT-1h-2022-09-08.csv');
  const missing = cells.splice(13, 1)[0]!;
  await writeFile(join(dir, 'SOLUSDT-1h-2022-09-08.csv'), `${cells.map((c) => c.join(',')).join('\r\n')}\r\n`);
  const sim = await simulator(t, dir);
  for (const prefix of ['/api/v3', '/fapi/v1']) {
    const { rows } = await klines(
      sim,
      `${prefix}/klines?symbol=SOLUSDT&interval=1h&startTime=${cells[0]![0]}&limit=100`,
    );
    assert.equal(rows.length, 23);
    assert.ok(!rows.some((r) => r[0] === Number(missing[0])), 'the gap is not filled');
    assert.equal(rows[13]![0], Number(missing[0]) + 3_600_000);
  }
});

test('microsecond timestamps of 2025 spot files are served in milliseconds', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'data', 'spot', 'daily'), { recursive: true });
  const open = Date.UTC(2025, 0, 1);
  const row = (i: number): string =>
    `${(open + i * 60_000) * 1000},93576.00000000,93610.93000000,93537.50000000,93610.93000000,8.21827000,${(open + (i + 1) * 60_000) * 1000 - 1},768978.46021630,1745,5.43011000,508093.59558560,0`;
  await writeFile(join(dir, 'data', 'spot', 'daily', 'ETHBTC-1m-2025-01-01.csv'), `${row(0)}\n${row(1)}\n`);
  const sim = await simulator(t, dir);
  const { rows } = await klines(sim, `/api/v3/klines?symbol=ETHBTC&interval=1m&startTime=${open}`);
  assert.deepEqual(
    rows.map((r) => [r[0], r[6]]),
    [
      [open, open + 59_999],
      [open + 60_000, open + 119_999],
    ],
  );
  assert.equal(rows[0]![7], '768978.46021630');
  const info = (await (await fetch(`${sim.url}/api/v3/exchangeInfo?symbol=ETHBTC`)).json()) as {
    symbols: Array<{ baseAsset: string; quoteAsset: string }>;
  };
  assert.deepEqual(
    [info.symbols[0]!.baseAsset, info.symbols[0]!.quoteAsset],
    ['ETH', 'BTC'],
    'a symbol known only from CSV files is listed',
  );
  const usdm = await fetch(`${sim.url}/fapi/v1/klines?symbol=ETHBTC&interval=1m`);
  assert.deepEqual(
    await usdm.json(),
    { code: -1121, msg: 'Invalid symbol.' },
    'a spot/ file does not list the symbol on USD-M',
  );
});
