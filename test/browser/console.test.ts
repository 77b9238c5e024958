/**
 * The operator console in a real browser: Debian's chromium, headless, driven by
 * playwright-core (no browser download; scripts/setup-chromium.sh installs it), against
 * stacks started with `streamforge up` and the exchange simulator (the stand-in for
 * Binance). Without /usr/bin/chromium the tests skip and say why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PROJECT_ROOT } from '@streamforge/platform';
import { TOPICS, createEventProducer } from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf } from '@streamforge/core/contracts';
import { exchangeTimeOrigin } from '@streamforge/exchange';
import { stackApi, startTestStack, testKafka, waitFor, type TestStack } from '@streamforge/testing';
import {
  RESULTS,
  chromiumMissing,
  closePages,
  openPage,
  wheelIn,
  zoomChartToMinutes,
  type InPage,
} from './console-browser.ts';

const skip = chromiumMissing('test/browser/console.test.ts');
const TOKEN = 'console-test-token-0f3a9c';

let open: TestStack;
let guarded: TestStack;
let klinesDir: string | undefined;

/**
 * Real 1m candles of 2022-09-05/06 (test/fixtures, Binance USD-M), served by the simulator as
 * spot BTCUSDT 1m with 90 minutes cut out: a known gap in real data.
 */
const GAP = { from: Date.UTC(2022, 8, 5, 10, 0), to: Date.UTC(2022, 8, 5, 11, 30) };
function klinesWithGap(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-klines-'));
  mkdirSync(join(dir, 'spot'));
  for (const day of ['2022-09-05', '2022-09-06']) {
    const name = `BTCUSDT-1m-${day}.csv`;
    const rows = readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'binance', 'klines', 'usdm', name), 'utf8')
      .split('\n')
      .filter((line) => {
        const openTime = Number(line.split(',')[0]);
        return !(openTime >= GAP.from && openTime < GAP.to);
      });
    writeFileSync(join(dir, 'spot', name), rows.join('\n'));
  }
  return dir;
}

before(async () => {
  if (skip) return;
  mkdirSync(RESULTS, { recursive: true });
  klinesDir = klinesWithGap();
  // Both stacks start together: two test cases, one wait.
  [open, guarded] = await Promise.all([
    startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity', SIM_KLINES_DIR: klinesDir }),
    startTestStack({ STREAMFORGE_API_TOKEN: TOKEN }),
  ]);
});

after(async () => {
  await closePages();
  await Promise.all([open?.down(), guarded?.down()]);
  if (klinesDir) rmSync(klinesDir, { recursive: true, force: true });
});

async function startFromForm(
  page: Page,
  fields: { symbol: string; type: string; from?: string; to?: string; params?: string },
): Promise<string> {
  await page.fill('[name=symbol]', fields.symbol);
  await page.fill('[name=type]', fields.type);
  await page.fill('[name=from]', fields.from ?? '');
  await page.fill('[name=to]', fields.to ?? '');
  if (fields.params) {
    await page.click('#start-form details summary');
    await page.fill('[name=params]', fields.params);
  }
  const previous = await page.getAttribute('#form-result', 'data-queue-id');
  await page.click('#start-button');
  const handle = await page.waitForFunction((prev) => {
    const id = (globalThis as unknown as InPage).document.getElementById('form-result')?.dataset.queueId;
    return id && id !== prev ? id : undefined;
  }, previous);
  return (await handle.jsonValue()) as string;
}

const row = (id: string) => `tr[data-queue-id="${id}"]`;

test('the console starts a backfill from its form, sees it completed with 288 records, and stops a longer one with its button', {
  skip,
}, async () => {
  const page = await openPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await page.goto(`${open.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  // The local platform's panel: instances per function, lag per source, decisions.
  await page.waitForSelector('#platform:not([hidden]) #platform-functions tr');
  assert.match((await page.textContent('#platform-functions')) ?? '', /queue-manager/);
  assert.match((await page.textContent('#platform-sources')) ?? '', /loader-api-work/);

  const day = await startFromForm(page, {
    symbol: 'BTCUSDT',
    type: 'api_candles_5m',
    from: '2024-08-01',
    to: '2024-08-02',
  });
  await page.waitForSelector(`${row(day)} .status-completed`, { timeout: 90_000 });
  assert.equal((await page.textContent(`${row(day)} .records`))?.trim(), '288');
  // The new workflow is selected: its timeline shows the connector's final report.
  await page.waitForSelector('#timeline li[data-status=finished]');
  assert.match((await page.textContent('#detail-services')) ?? '', /arango-connector\s*finished/);

  const year = await startFromForm(page, {
    symbol: 'ETHUSDT',
    type: 'api_candles_1m',
    from: '2023-01-01',
    to: '2024-01-01',
  });
  await page.click(`${row(year)} button[data-action=stop]`);
  await page.waitForSelector(`${row(year)} .status-stopped`, { timeout: 30_000 });
  assert.equal(await page.isHidden(`${row(year)} button[data-action=stop]`), true);
  const stored = (await (await fetch(`${open.state.api_url}/workflows/${year}`)).json()) as { status: string };
  assert.equal(stored.status, 'stopped');

  // A bad request shows the API's reason next to the form.
  await page.fill('[name=type]', 'api_candles_7m');
  await page.click('#start-button');
  await page.waitForSelector('#form-result.error');
  assert.match((await page.textContent('#form-result')) ?? '', /unknown interval "7m"/);

  await page.screenshot({ path: join(RESULTS, 'console.png'), fullPage: true });
  // Pushed, not polled: one stream, never a list request; the page only reads what it was told changed.
  assert.equal(requests.filter((r) => r === 'GET /console/stream').length, 1, requests.join('\n'));
  assert.equal(requests.filter((r) => r === 'GET /workflows').length, 0);
});

test("rejected records show beside the records written, and a workflow's deadline and dead letters in its detail", {
  skip,
}, async () => {
  const page = await openPage();
  await page.goto(`${open.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  // Never completes by itself (it fails after 25 s): only what the test sends moves it.
  const id = await startFromForm(page, {
    symbol: 'XRPUSDT',
    type: 'dummy_long',
    params: '{"steps": 250, "interval_ms": 100, "fail_after_s": 25}',
  });
  await page.waitForSelector(`${row(id)} .status-running`, { timeout: 60_000 });
  await page.waitForSelector('#detail-deadline:not([hidden])');
  assert.match((await page.textContent('#detail-deadline')) ?? '', /^Ends in error at .* unless it moves first$/);

  const producer = await createEventProducer(testKafka(), { topicPrefix: open.prefix });
  try {
    // The connector's report of a page with impossible rows, as it sends them.
    await producer.send(TOPICS.events, [
      {
        id: `${id}:report`,
        type: EVENT_TYPES.telemetry,
        source: sourceOf('arango-connector'),
        subject: id,
        partitionKey: 'XRPUSDT',
        data: {
          queue_id: id,
          producer: 'arango-connector__console',
          status: 'loading',
          records_written: 997,
          rejected: 3,
          timestamp: Date.now() / 1000,
        },
      },
    ]);
    await page.waitForSelector(`${row(id)} .records .rejected`);
    // Beside the most records any service reports (the dummy's own count grows meanwhile).
    assert.equal((await page.textContent(`${row(id)} .records .rejected`))?.trim(), '(3 rejected)');
    // A batch the connector refuses: dead-lettered, counted on the workflow, named in its detail.
    await producer.send(TOPICS.dataKlines, [
      {
        id: `${id}:poison`,
        type: EVENT_TYPES.dataKlines,
        source: sourceOf('test'),
        subject: id,
        partitionKey: 'XRPUSDT',
        data: { queue_id: id, rows: 'not a batch' },
      },
    ]);
  } finally {
    await producer.disconnect();
  }
  await page.waitForSelector('#detail-dead-letters:not([hidden])', { timeout: 60_000 });
  assert.match(
    (await page.textContent('#detail-dead-letters')) ?? '',
    new RegExp(`^Dead letters: arango-connector 1 · streamforge dlq ls --workflow ${id}$`),
  );
  await page.screenshot({ path: join(RESULTS, 'console-dead-letters.png'), fullPage: true });
});

test('a Stop pressed while its row is redrawn by live updates still stops the workflow', { skip }, async () => {
  const page = await openPage();
  await page.goto(`${open.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  // A busy workflow: a telemetry event every 20 ms, each one redraws its row.
  const id = await startFromForm(page, {
    symbol: 'DUMMYUSDT',
    type: 'dummy_console',
    params: '{"steps": 1000, "records_per_step": 1, "interval_ms": 20}',
  });
  const records = `${row(id)} .records`;
  await page.waitForSelector(`${row(id)} .status-running`);
  await page.hover(`${row(id)} button[data-action=stop]`);
  await page.mouse.down();
  // Held as a person may hold it: until live updates have redrawn the row twice.
  const pressedAt = Number(((await page.textContent(records)) ?? '').replace(/\D/g, '') || 0);
  await page.waitForFunction(
    ([selector, wanted]) => {
      const text = (globalThis as unknown as InPage).document.querySelector(selector as string)?.textContent ?? '';
      return Number(text.replace(/\D/g, '') || 0) >= (wanted as number);
    },
    [records, pressedAt + 2] as const,
  );
  await page.mouse.up();
  await page.waitForSelector(`${row(id)} .status-stopped`, { timeout: 15_000 });
});

test('with STREAMFORGE_API_TOKEN set the console asks for the token once, refuses a wrong one, and then works', {
  skip,
}, async () => {
  const api = guarded.state.api_url as string;
  assert.equal((await fetch(`${api}/console/stream`)).status, 401, 'the stream wants the token');
  assert.equal((await fetch(`${api}/console`)).status, 200, 'the page itself is open: it holds no data');

  const page = await openPage();
  await page.goto(`${api}/console`);
  await page.waitForSelector('#token-dialog[open]');
  await page.fill('#token-input', 'not-the-token');
  await page.click('#token-form button[type=submit]');
  await page.waitForFunction(() =>
    /not accepted/.test((globalThis as unknown as InPage).document.getElementById('token-reason')?.textContent ?? ''),
  );
  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#connection[data-state=live]');

  const id = await startFromForm(page, {
    symbol: 'DUMMYUSDT',
    type: 'dummy_console',
    params: '{"steps": 3, "records_per_step": 100, "interval_ms": 50}',
  });
  await page.waitForSelector(`${row(id)} .status-completed`, { timeout: 30_000 });
  assert.equal((await page.textContent(`${row(id)} .records`))?.trim(), '300');
  await page.waitForFunction(
    () => (globalThis as unknown as InPage).document.querySelectorAll('#timeline li').length === 5,
  );
  assert.deepEqual(await page.$$eval('#timeline li', (items) => items.map((li) => li.getAttribute('data-status'))), [
    'started',
    'loading',
    'loading',
    'loading',
    'finished',
  ]);

  // Once per browser session: a reload connects without asking again.
  await page.reload();
  await page.waitForSelector('#connection[data-state=live]');
  assert.equal(await page.isVisible('#token-dialog'), false);
  await page.waitForSelector(`${row(id)} .status-completed`);
  await page.screenshot({ path: join(RESULTS, 'console-token.png'), fullPage: true });
});

/** What the chart element says it drew (candle-chart.ts sets these). */
interface Drawn {
  state?: string;
  source?: string;
  collection?: string;
  candles?: string;
  gaps?: string;
  gapRanges?: string;
  gapBars?: string;
  bucket?: string;
  from?: string;
  to?: string;
  maxPoints?: string;
  loads?: string;
}
const drawn = (page: Page): Promise<Drawn> =>
  page.evaluate(() => ({ ...(globalThis as unknown as InPage).document.getElementById('chart')?.dataset }) as Drawn);

interface CandlesBody {
  bucket: string;
  candles: unknown[];
  gaps: Array<{ from: number; to: number; missing: number }>;
  stored: number;
  expected: number;
}

test("a backfill with a hole in the exchange's data charts as candles with the hole shaded; zooming in reads finer candles of the visible range", {
  skip,
}, async () => {
  const page = await openPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const api = open.state.api_url as string;
  await page.goto(`${api}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  const id = await startFromForm(page, {
    symbol: 'BTCUSDT',
    type: 'api_candles_1m',
    from: '2022-09-05',
    to: '2022-09-07',
  });
  await page.waitForSelector(`${row(id)} .status-completed`, { timeout: 90_000 });
  assert.equal((await page.textContent(`${row(id)} .records`))?.trim(), '2 790');

  // From the workflow's detail: its collection over its range.
  await page.click('#detail-chart:not([hidden])');
  await page.waitForSelector('#chart[data-state=ready][data-loads="1"]');
  const first = await drawn(page);
  const collection = first.collection as string;
  const workflow = (await (await fetch(`${api}/workflows/${id}`)).json()) as { collection_name: string };
  assert.equal(collection, workflow.collection_name);
  assert.deepEqual([first.from, first.to], [String(Date.UTC(2022, 8, 5)), String(Date.UTC(2022, 8, 7))]);
  const answer = (await (
    await fetch(
      `${api}/collections/${collection}/candles?from=${first.from}&to=${first.to}&max_points=${first.maxPoints}`,
    )
  ).json()) as CandlesBody;
  assert.equal(Number(first.candles), answer.candles.length, 'the chart drew every candle the API answered');
  assert.deepEqual([answer.stored, answer.expected], [2_790, 2_880]);
  assert.deepEqual(answer.gaps, [{ ...GAP, missing: 90 }]);
  assert.deepEqual(JSON.parse(first.gapRanges as string), [[GAP.from, GAP.to]]);
  assert.ok(Number(first.gapBars) > 0, 'the gap is shaded');
  assert.match((await page.textContent('#chart-gaps')) ?? '', /2022-09-05 10:00 → 2022-09-05 11:30 UTC: 90 missing/);
  await page.screenshot({ path: join(RESULTS, 'console-chart.png'), fullPage: true });

  // Zoomed in at the gap (the wheel over the chart): the visible range is read again, finer.
  const box = await page.locator('#chart').boundingBox();
  assert.ok(box);
  const gapShare = (GAP.from - Date.UTC(2022, 8, 5)) / (2 * 86_400_000);
  await zoomChartToMinutes(page, box.x + 10 + (box.width - 80) * gapShare, box.y + box.height / 2);
  const zoomed = await drawn(page);
  assert.ok(Number(zoomed.from) > Number(first.from) || Number(zoomed.to) < Number(first.to), JSON.stringify(zoomed));
  const finer = (await (
    await fetch(
      `${api}/collections/${collection}/candles?from=${zoomed.from}&to=${zoomed.to}&max_points=${zoomed.maxPoints}`,
    )
  ).json()) as CandlesBody;
  assert.equal(Number(zoomed.candles), finer.candles.length);
  assert.ok(finer.candles.length < 2_790, 'never every record: only the visible range and its margins');
  await page.screenshot({ path: join(RESULTS, 'console-chart-zoomed.png'), fullPage: true });

  // From the collections list: the whole stored series, the same gap.
  await page.click('#collections summary');
  await page.click(`#collection-rows tr[data-collection="${collection}"] button[data-action=chart]`);
  await page.waitForFunction(
    (from) => {
      const data = (globalThis as unknown as InPage).document.getElementById('chart')?.dataset;
      return data?.state === 'ready' && data.loads === '1' && data.from === from;
    },
    String(Date.UTC(2022, 8, 5)),
  );
  assert.deepEqual(JSON.parse((await drawn(page)).gapRanges as string), [[GAP.from, GAP.to]]);
  await page.screenshot({ path: join(RESULTS, 'console-collections.png'), fullPage: true });

  const origin = new URL(api).origin;
  assert.deepEqual(
    requests.filter((url) => !url.startsWith(origin)),
    [],
    'everything the chart needs is bundled: no other host',
  );
  const reads = requests.filter((url) => url.includes(`/collections/${collection}/candles`));
  assert.ok(reads.length >= 3 && reads.length <= 8, reads.join('\n'));
});

test('the chart of a running ws_candles_1m stream extends as its candles arrive', { skip }, async (t) => {
  // A stack of its own on a fast exchange clock (a Binance minute a second, a day behind the
  // wall clock), so closed candles arrive within seconds.
  const live = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    EXCHANGE_TIME_FACTOR: '60',
    EXCHANGE_TIME_ORIGIN: exchangeTimeOrigin(Date.now() - 86_400_000),
    JOB_LAUNCHER: 'local',
  });
  t.after(() => live.down());
  const page = await openPage();
  const api = live.state.api_url as string;
  await page.goto(`${api}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  const id = await startFromForm(page, { symbol: 'BTCUSDT', type: 'ws_candles_1m' });
  const records = async (): Promise<number> =>
    Number(((await page.textContent(`${row(id)} .records`)) ?? '').replace(/\D/g, '') || 0);
  await page.waitForSelector(`${row(id)} .status-running`, { timeout: 60_000 });
  await page.waitForFunction(
    (selector) =>
      Number(
        ((globalThis as unknown as InPage).document.querySelector(selector)?.textContent ?? '').replace(/\D/g, '') || 0,
      ) > 0,
    `${row(id)} .records`,
    { timeout: 60_000 },
  );
  await page.click('#detail-chart:not([hidden])');
  await page.waitForSelector('#chart[data-state=ready][data-loads="1"]');
  const first = await drawn(page);
  assert.ok(Number(first.candles) >= 1, JSON.stringify(first));
  const storedAtOpen = await records();

  // More records arrive: the chart reads its newest candles again, up to a later end.
  await page.waitForFunction(
    (firstTo) => {
      const data = (globalThis as unknown as InPage).document.getElementById('chart')?.dataset;
      return data?.state === 'ready' && Number(data.loads) >= 3 && Number(data.to) > Number(firstTo);
    },
    first.to,
    { timeout: 60_000 },
  );
  assert.ok((await records()) > storedAtOpen, 'the stream stored more meanwhile');
  const now = await drawn(page);
  const answer = (await (
    await fetch(
      `${api}/collections/${now.collection}/candles?from=${now.from}&to=${now.to}&max_points=${now.maxPoints}`,
    )
  ).json()) as CandlesBody;
  assert.ok(answer.candles.length >= Number(now.candles), 'the chart drew what the store held when it read');
  await page.screenshot({ path: join(RESULTS, 'console-chart-live.png'), fullPage: true });

  await page.click(`${row(id)} button[data-action=stop]`);
  await page.waitForSelector(`${row(id)} .status-stopped`, { timeout: 30_000 });
});

test('a correlation graph set shows as a graph of its symbols, window by window, and the GCN trained on it as its training curves', {
  skip,
}, async () => {
  const client = stackApi(() => open.state.api_url as string);
  // A month of hourly bars: 61 windows of a day every 12 hours, enough for a walk-forward.
  const range = '2024-08-01:2024-09-01';
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
  const backfills = await Promise.all(
    symbols.map((symbol) => client.start({ symbol, type: 'api_candles_1h', time_range: range })),
  );
  for (const done of await Promise.all(backfills.map((w) => client.final(w.queue_id, 90_000))))
    assert.equal(done.status, 'completed', done.error);

  // The form starts one symbol's workflows; a graph of several is started through the API.
  const { queue_id: id } = await client.start({
    symbols,
    type: 'graph_correlation',
    time_range: range,
    params: { interval: '1h', window: 24, step: 12, edges: { method: 'top_k', k: 1 } },
  });
  const page = await openPage();
  await page.goto(`${open.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  await page.waitForSelector(`${row(id)} .status-completed`, { timeout: 90_000 });
  await page.click(`${row(id)} td.id`);
  await page.click('#detail-graph:not([hidden])');
  await page.waitForSelector('#graph[data-state=ready]');
  const graphId = (await page.getAttribute('#graph', 'data-graph')) as string;
  const answer = (await (await fetch(`${open.state.api_url}/graphs/${graphId}`)).json()) as {
    set: { windows: number };
    window: { window: number; vertices: unknown[]; edges: unknown[] };
  };
  assert.equal(answer.set.windows, 61);
  assert.deepEqual(
    [
      await page.getAttribute('#graph', 'data-window'),
      await page.getAttribute('#graph', 'data-nodes'),
      await page.getAttribute('#graph', 'data-edges'),
    ],
    [String(answer.window.window), '3', String(answer.window.edges.length)],
  );
  assert.ok(answer.window.edges.length >= 2, 'each of three symbols keeps its strongest edge');
  await page.screenshot({ path: join(RESULTS, 'console-graph.png'), fullPage: true });

  // The slider walks back to the first window: one read of it.
  await page.$eval('#graph-window', (input) => {
    (input as unknown as { value: string }).value = '0';
    input.dispatchEvent(new Event('change'));
  });
  await page.waitForSelector('#graph[data-state=ready][data-window="0"]');

  // A GCN trained on the graph set: its training curves, epoch by epoch.
  const { queue_id: training } = await client.start({
    symbol: 'BTCUSDT',
    type: 'gnn_train',
    params: { graph_id: graphId, epochs: 60, folds: 2, seed: 1 },
  });
  const trained = await client.final(training, 120_000);
  assert.equal(trained.status, 'completed', trained.error);
  await page.waitForSelector(`${row(training)} .status-completed`);
  await page.click(`${row(training)} td.id`);
  await page.click('#detail-training:not([hidden])');
  await page.waitForSelector('#training[data-state=ready]');
  const model = (await (
    await fetch(
      `${open.state.api_url}/models/${await page.getAttribute('#training', 'data-model')}?version=${await page.getAttribute('#training', 'data-version')}`,
    )
  ).json()) as { queue_id: string; metadata: { curves: { final: unknown[] } } };
  assert.equal(model.queue_id, training, 'the version this workflow trained');
  assert.equal(await page.getAttribute('#training', 'data-points'), String(model.metadata.curves.final.length));
  assert.ok(model.metadata.curves.final.length > 1);
  // Loss and accuracy of the training epochs (the final model keeps no validation split).
  assert.equal(await page.locator('#training polyline[data-curve="final:train"]').count(), 2);
  await page.locator('#training-view').screenshot({ path: join(RESULTS, 'console-training.png') });
});

test('an aggTrades backfill charts as price candles with volume, grouped in the store', { skip }, async () => {
  const client = stackApi(() => open.state.api_url as string);
  const { queue_id: id } = await client.start({
    symbol: 'LINKUSDT',
    type: 'api_agg_trades',
    time_range: '2024-08-01:2024-08-02',
  });
  const done = await client.final(id, 180_000);
  assert.equal(done.status, 'completed', done.error);
  const page = await openPage();
  await page.goto(`${open.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  await page.click(`${row(id)} td.id`);
  assert.equal((await page.textContent('#detail-chart'))?.trim(), 'Chart its trades');
  await page.click('#detail-chart:not([hidden])');
  await page.waitForSelector('#chart[data-state=ready][data-loads="1"][data-source=trades]');
  const shown = await drawn(page);
  const answer = (await (
    await fetch(
      `${open.state.api_url}/collections/${shown.collection}/trades?from=${shown.from}&to=${shown.to}&max_points=${shown.maxPoints}`,
    )
  ).json()) as { bucket: string; candles: Array<{ trades: number }> };
  assert.equal(Number(shown.candles), answer.candles.length);
  assert.equal(shown.bucket, answer.bucket);
  assert.equal(
    answer.candles.reduce((n, c) => n + c.trades, 0),
    done.stored?.records_written,
    'every stored trade is in a bucket',
  );
  assert.equal(shown.gaps, '0');
  await page.screenshot({ path: join(RESULTS, 'console-trades.png'), fullPage: true });
});

/** What the order-book view says it drew (book-view.ts sets these). */
interface DrawnBook {
  state?: string;
  kind?: string;
  axis?: string;
  collection?: string;
  points?: string;
  records?: string;
  bids?: string;
  asks?: string;
  book?: string;
  bucket?: string;
  bucketSize?: string;
  from?: string;
  to?: string;
  maxPoints?: string;
  loads?: string;
  read?: string;
  readRange?: string;
  live?: string;
}
const drawnBook = (page: Page): Promise<DrawnBook> =>
  page.evaluate(() => ({ ...(globalThis as unknown as InPage).document.getElementById('book')?.dataset }) as DrawnBook);
/** What the order-book view's data attributes must show: values, and numbers at least or below a bound. */
interface BookCondition {
  equals?: Partial<Record<keyof DrawnBook, string>>;
  atLeast?: Partial<Record<keyof DrawnBook, number>>;
  below?: Partial<Record<keyof DrawnBook, number>>;
}
/** Waits until the order-book view shows `condition` (checked in the page, on its own frames). */
async function untilBook(page: Page, condition: BookCondition, timeout = 60_000): Promise<DrawnBook> {
  await page.waitForFunction(
    (c) => {
      const d: Record<string, string | undefined> = {
        ...(globalThis as unknown as InPage).document.getElementById('book')?.dataset,
      };
      return (
        Object.entries(c.equals ?? {}).every(([k, v]) => d[k] === v) &&
        Object.entries(c.atLeast ?? {}).every(([k, v]) => Number(d[k]) >= Number(v)) &&
        Object.entries(c.below ?? {}).every(([k, v]) => Number(d[k]) < Number(v))
      );
    },
    condition,
    { timeout },
  );
  return drawnBook(page);
}

interface BookBody {
  axis: string;
  bucket: string;
  bucket_size: number;
  records: number;
  points: Array<{ bid: number; ask: number }>;
  book?: { bids: unknown[]; asks: unknown[] } | null;
}

/** The API's answer for the range a view drew, in the view's buckets (time buckets start at the epoch, id buckets at `from`). */
async function bookApiFor(api: string, drawn: DrawnBook): Promise<BookBody> {
  const [from, to, size] = [Number(drawn.from), Number(drawn.to), Number(drawn.bucketSize)];
  const buckets =
    drawn.axis === 'time' ? Math.floor((to - 1) / size) - Math.floor(from / size) + 1 : Math.ceil((to - from) / size);
  const route = drawn.kind === 'depth' ? 'depth' : 'book-ticker';
  const maxPoints = Math.min(10_000, Math.max(10, buckets));
  const answer = (await (
    await fetch(`${api}/collections/${drawn.collection}/${route}?from=${from}&to=${to}&max_points=${maxPoints}`)
  ).json()) as BookBody;
  assert.equal(answer.bucket, drawn.bucket, 'the API buckets the range as the view did');
  return answer;
}

test('a ws_depth stream opens from its detail as its latest book and best bid/ask, a ws_book_ticker stream from the Collections list as its bid, ask and spread; both extend live, stop with their workflow and re-read on zoom', {
  skip,
}, async (t) => {
  // A fast exchange clock (ten Binance seconds a second, a day behind the wall clock): the
  // streams store quickly enough for the views to grow within seconds and for the bookTicker's
  // update ids to need buckets of several ids, which a zoom reads finer.
  const live = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    JOB_LAUNCHER: 'local',
    EXCHANGE_TIME_FACTOR: '10',
    EXCHANGE_TIME_ORIGIN: exchangeTimeOrigin(Date.now() - 86_400_000),
  });
  t.after(() => live.down());
  const api = live.state.api_url as string;
  const client = stackApi(() => api);
  const depth = await client.start({ symbol: 'BTCUSDT', type: 'ws_depth' });
  const ticker = await client.start({ symbol: 'ETHUSDT', type: 'ws_book_ticker' });
  t.after(async () => {
    for (const id of [depth.queue_id, ticker.queue_id])
      await client.call('POST', `/workflows/${id}/stop`).catch(() => undefined);
  });
  // Enough stored for a line: the connector reported records of both streams (a live stream
  // counts them in its progress, not in pages).
  for (const id of [depth.queue_id, ticker.queue_id])
    await client.until(
      id,
      'to store 10 records',
      (w) => (w.progress?.['arango-connector']?.records_written ?? 0) >= 10,
      120_000,
    );

  const page = await openPage();
  const reads: string[] = [];
  page.on('request', (r) => {
    if (/\/collections\/[^/]+\/(depth|book-ticker)\?/.test(r.url())) reads.push(r.url());
  });
  await page.goto(`${api}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  await page.click(`${row(depth.queue_id)} td.id`);
  assert.equal((await page.textContent('#detail-book:not([hidden])'))?.trim(), 'Show its order book');
  await page.click('#detail-book');
  const book = await untilBook(page, { equals: { state: 'ready', kind: 'depth' }, atLeast: { loads: 1 } });
  // One read of the dataset: the range, points and ladder it names were drawn together.
  const depthAnswer = await bookApiFor(api, book);
  assert.equal(book.axis, 'time');
  assert.ok(depthAnswer.points.length >= 1, JSON.stringify(book));
  assert.equal(Number(book.points), depthAnswer.points.length);
  assert.equal(Number(book.records), depthAnswer.records);
  assert.ok(
    depthAnswer.points.every((p) => p.bid < p.ask),
    'the best bid is below the best ask',
  );
  assert.ok(Number(book.bids) >= 1 && Number(book.asks) >= 1, JSON.stringify(book));
  assert.equal(Number(book.bids), Math.min(20, depthAnswer.book?.bids.length ?? 0));
  assert.equal(Number(book.asks), Math.min(20, depthAnswer.book?.asks.length ?? 0));
  assert.equal(await page.locator('#book-bids tr').count(), Number(book.bids));
  await page.screenshot({ path: join(RESULTS, 'console-depth.png'), fullPage: true });

  // The stream goes on: the series grows and the ladder shows a newer book, without a reload.
  const opened = { points: Number(book.points), book: Number(book.book), to: Number(book.to) };
  const growing = await untilBook(page, {
    equals: { state: 'ready', read: 'live', live: 'running' },
    atLeast: { points: opened.points + 3, book: opened.book + 1 },
  });
  assert.ok(Number(growing.to) > opened.to && Number(growing.loads) >= 2, JSON.stringify(growing));
  assert.equal(growing.from, book.from, 'the range it opened on is kept, extended');
  await page.screenshot({ path: join(RESULTS, 'console-depth-live.png'), fullPage: true });

  // Its workflow stopped: one last read, then the view stops extending and holds what the API
  // answers for the same range.
  await client.call('POST', `/workflows/${depth.queue_id}/stop`);
  const ended = await untilBook(page, { equals: { state: 'ready', live: 'ended' } });
  const endedAnswer = await bookApiFor(api, ended);
  assert.equal(Number(ended.points), endedAnswer.points.length, JSON.stringify(ended));
  assert.equal(Number(ended.records), endedAnswer.records);
  assert.ok(Number(ended.points) >= opened.points + 3);
  // Each live read asked for what follows the last record read (its second again, at most), never the whole range.
  const depthReads = reads.filter((url) => url.includes('/depth?')).map((url) => new URL(url).searchParams);
  assert.equal(depthReads[0]?.has('from'), false, 'it opened on the newest records');
  const liveReads = depthReads.slice(1);
  assert.ok(liveReads.length >= 2, String(liveReads.length));
  let after = opened.to;
  for (const q of liveReads) {
    assert.ok(Number(q.get('from')) >= Math.floor((after - 1) / 1000) * 1000, `${q} after ${after}`);
    after = Math.max(after, Number(q.get('from')));
  }

  // The bookTicker stream ran meanwhile: enough update ids for buckets of several ids at the view's width.
  const width = Number(book.maxPoints);
  await waitFor(
    'the bookTicker series to need buckets of 4 ids or more',
    async () => {
      const body = (await (
        await fetch(`${api}/collections/${ticker.collection_name}/book-ticker?max_points=${width}`)
      ).json()) as BookBody;
      return body.bucket_size >= 4;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  await page.click('#collections summary');
  const chartButton = `#collection-rows tr[data-collection="${ticker.collection_name}"] button[data-action=chart]`;
  await page.click(chartButton);
  const quotes = await untilBook(page, {
    equals: { state: 'ready', kind: 'book_ticker', collection: ticker.collection_name },
    atLeast: { loads: 1 },
  });
  const tickerAnswer = await bookApiFor(api, quotes);
  // Spot's bookTicker stream carries no time: the chart runs over update ids.
  assert.equal(quotes.axis, 'update_id');
  assert.ok(Number(quotes.bucketSize) >= 4, JSON.stringify(quotes));
  assert.ok(tickerAnswer.points.length >= 1, JSON.stringify(quotes));
  assert.equal(Number(quotes.points), tickerAnswer.points.length);
  assert.equal(await page.isVisible('#book-ladder'), false, 'no ladder for best bid/ask alone');
  await page.screenshot({ path: join(RESULTS, 'console-book-ticker.png'), fullPage: true });

  // It grows while the stream runs, and stops with it, as what the API answers for its range.
  await untilBook(page, {
    equals: { state: 'ready', read: 'live', live: 'running' },
    atLeast: { points: Number(quotes.points) + 1 },
  });
  await page.screenshot({ path: join(RESULTS, 'console-book-ticker-live.png'), fullPage: true });
  await client.call('POST', `/workflows/${ticker.queue_id}/stop`);
  const tickerEnded = await untilBook(page, { equals: { state: 'ready', live: 'ended' } });
  const tickerEndedAnswer = await bookApiFor(api, tickerEnded);
  assert.ok(Number(tickerEnded.points) > Number(quotes.points), JSON.stringify(tickerEnded));
  assert.equal(Number(tickerEnded.points), tickerEndedAnswer.points.length);
  assert.equal(Number(tickerEnded.records), tickerEndedAnswer.records);
  assert.equal(tickerEnded.from, quotes.from);

  // Zoomed in (the wheel over the middle of the chart): the visible part is read again, finer.
  const area = await page.locator('#book-chart').boundingBox();
  assert.ok(area);
  await wheelIn(page, area.x + area.width * 0.4, area.y + area.height / 2);
  const zoomed = await untilBook(
    page,
    { equals: { state: 'ready', read: 'zoom' }, below: { bucketSize: Number(quotes.bucketSize) } },
    30_000,
  );
  const [readFrom, readTo] = JSON.parse(zoomed.readRange ?? '[]') as [number | null, number | null];
  assert.ok(readFrom !== null && readTo !== null, `a part of the range was read: ${zoomed.readRange}`);
  assert.ok(readFrom > Number(tickerEnded.from) && readTo < Number(tickerEnded.to), JSON.stringify(zoomed));
  const zoomedAnswer = await bookApiFor(api, zoomed);
  assert.equal(Number(zoomed.points), zoomedAnswer.points.length);
  assert.ok(zoomedAnswer.records < Number(tickerEnded.records), 'only the visible part and its margins');
  await page.screenshot({ path: join(RESULTS, 'console-book-ticker-zoomed.png'), fullPage: true });

  // The address names the view: a reload opens it again.
  assert.match(page.url(), /#collection=.*&view=book_ticker$/);
  await page.reload();
  await page.waitForSelector(
    `#book[data-state=ready][data-loads="1"][data-kind=book_ticker][data-collection="${ticker.collection_name}"]`,
    { timeout: 60_000 },
  );
});
