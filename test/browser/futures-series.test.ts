/**
 * The futures-only series in the operator console, in a real browser (Debian's chromium,
 * headless, as test/browser/console.test.ts): short USD-M backfills from the exchange
 * simulator of mark price and premium index candles, funding rates and metrics, each opened
 * from the Collections list. Price candles open in the candle chart without a volume pane,
 * funding rates and metrics as lines; what each view drew is compared with the API's answer
 * for the same range and max_points. Without /usr/bin/chromium the tests skip and say why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { stackApi, startTestStack, type TestStack, type WorkflowView } from '@streamforge/testing';
import { RESULTS, chromiumMissing, closePages, openPage, zoomChartToMinutes, type InPage } from './console-browser.ts';

const skip = chromiumMissing('test/browser/futures-series.test.ts');

let stack: TestStack;
const api = stackApi(() => stack.state.api_url as string);
/** The backfills, started with the stack and awaited once. */
let loaded: Record<'mark' | 'premium' | 'funding' | 'metrics', WorkflowView>;

const usdm = { symbol: 'BTCUSDT', market: 'usdm' } as const;

before(async () => {
  if (skip) return;
  mkdirSync(RESULTS, { recursive: true });
  stack = await startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity' });
  // Short ranges, whole UTC days in the past (bulk_metrics loads archived days only).
  const [mark, premium, funding, metrics] = await Promise.all([
    api.start({ ...usdm, type: 'api_mark_price_candles_1m', time_range: '2024-08-01:2024-08-02' }),
    api.start({ ...usdm, type: 'api_premium_index_candles_1h', time_range: '2024-08-01:2024-08-03' }),
    api.start({ ...usdm, type: 'api_funding_rate', time_range: '2024-07-01:2024-08-01' }),
    api.start({ ...usdm, type: 'bulk_metrics', time_range: '2024-08-01:2024-08-03' }),
  ]);
  loaded = { mark: mark!, premium: premium!, funding: funding!, metrics: metrics! };
  for (const w of Object.values(loaded)) {
    const done = await api.final(w.queue_id);
    assert.equal(done.status, 'completed', `${done.type}: ${done.error}`);
  }
});

after(async () => {
  await closePages();
  await stack?.down();
});

type Drawn = Record<string, string | undefined>;

/** The element's data attributes once `ready` after `loads` reads of `collection`. */
async function drawnWhenReady(page: Page, id: string, collection: string, loads = 1): Promise<Drawn> {
  const handle = await page.waitForFunction(
    ([id, collection, loads]) => {
      const data = (globalThis as unknown as InPage).document.getElementById(id as string)?.dataset;
      return data?.state === 'ready' && data.collection === collection && Number(data.loads) >= (loads as number)
        ? { ...data }
        : undefined;
    },
    [id, collection, loads] as const,
    { timeout: 30_000 },
  );
  return (await handle.jsonValue()) as Drawn;
}

async function openFromList(page: Page, collection: string): Promise<void> {
  await page.click(`#collection-rows tr[data-collection="${collection}"] button[data-action=chart]`);
}

async function apiAnswer<T>(path: string): Promise<T> {
  const { status, body } = await api.call<T>('GET', path);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

test('mark price and premium index candles open from the Collections list in the candle chart, without volumes; zooming in reads finer candles', {
  skip,
}, async () => {
  const page = await openPage();
  await page.goto(`${stack.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  await page.click('#collections summary');
  const mark = loaded.mark.collection_name!;
  await page.waitForSelector(`#collection-rows tr[data-collection="${mark}"]`);
  await openFromList(page, mark);
  const first = await drawnWhenReady(page, 'chart', mark);
  assert.deepEqual([first.kind, first.volume, first.source], ['mark_price_klines', 'none', 'candles']);
  const answer = await apiAnswer<{ kind: string; candles: Array<{ volume: number }>; stored: number; gaps: unknown[] }>(
    `/collections/${mark}/candles?from=${first.from}&to=${first.to}&max_points=${first.maxPoints}`,
  );
  assert.equal(Number(first.candles), answer.candles.length, 'the chart drew every bucket the API answered');
  assert.deepEqual([answer.kind, answer.stored, answer.gaps.length], ['mark_price_klines', 1_440, 0]);
  assert.ok(answer.candles.every((c) => c.volume === 0));
  assert.match(
    (await page.textContent('#chart-summary')) ?? '',
    /^BTCUSDT · mark price 1m candles · .* · 1 440 of 1 440 stored · no gaps$/,
  );
  await page.screenshot({ path: join(RESULTS, 'console-mark-price.png'), fullPage: true });

  // Zoomed in with the wheel: the visible range is read again in 1m candles, as for klines.
  assert.notEqual(first.bucket, '1m', 'a day opens in buckets coarser than 1m, so zooming in can read finer ones');
  const box = await page.locator('#chart').boundingBox();
  assert.ok(box);
  await zoomChartToMinutes(page, box.x + box.width / 2, box.y + box.height / 2);
  const zoomed = await drawnWhenReady(page, 'chart', mark, 2);
  const finer = await apiAnswer<{ candles: unknown[] }>(
    `/collections/${mark}/candles?from=${zoomed.from}&to=${zoomed.to}&max_points=${zoomed.maxPoints}`,
  );
  assert.equal(Number(zoomed.candles), finer.candles.length);
  assert.ok(finer.candles.length < 1_440, 'only the visible range and its margins');

  // The premium index: small signed numbers, a price scale with the decimals to show them.
  const premium = loaded.premium.collection_name!;
  await page.click('#collections-refresh');
  await page.waitForSelector(`#collection-rows tr[data-collection="${premium}"]`);
  await openFromList(page, premium);
  const small = await drawnWhenReady(page, 'chart', premium);
  assert.deepEqual([small.kind, small.volume, small.candles], ['premium_index_klines', 'none', '48']);
  assert.ok(Number(small.precision) >= 6, `a premium index of about 1e-4 shows 6+ decimals, not ${small.precision}`);
  await page.locator('#collection-view').screenshot({ path: join(RESULTS, 'console-premium-index.png') });
});

test('funding rates and metrics open from the Collections list as lines, as many points as the API answers', {
  skip,
}, async () => {
  const page = await openPage();
  await page.goto(`${stack.state.api_url}/console`);
  await page.waitForSelector('#connection[data-state=live]');
  await page.click('#collections summary');

  const funding = loaded.funding.collection_name!;
  await page.waitForSelector(`#collection-rows tr[data-collection="${funding}"]`);
  await openFromList(page, funding);
  const rates = await drawnWhenReady(page, 'series', funding);
  assert.equal(await page.isHidden('#collection-view'), true, 'not the candle chart');
  const rateAnswer = await apiAnswer<{ points: unknown[]; records: number; kind: string }>(
    `/collections/${funding}/series?from=${rates.from}&to=${rates.to}&max_points=${rates.maxPoints}`,
  );
  assert.deepEqual([rates.kind, rates.lines], ['funding_rate', '1']);
  assert.equal(Number(rates.points), rateAnswer.points.length, 'the view drew every point the API answered');
  assert.deepEqual([rateAnswer.records, Number(rates.records)], [93, 93], '31 days of 8-hour settlements');
  assert.match((await page.textContent('#series-title')) ?? '', /^Funding rate$/);
  await page.screenshot({ path: join(RESULTS, 'console-funding.png'), fullPage: true });

  const metrics = loaded.metrics.collection_name!;
  await openFromList(page, metrics);
  const drawn = await drawnWhenReady(page, 'series', metrics);
  const metricsAnswer = await apiAnswer<{ points: unknown[]; records: number }>(
    `/collections/${metrics}/series?from=${drawn.from}&to=${drawn.to}&max_points=${drawn.maxPoints}`,
  );
  assert.deepEqual([drawn.kind, drawn.lines], ['metrics', '6']);
  assert.equal(Number(drawn.points), metricsAnswer.points.length);
  assert.deepEqual([metricsAnswer.records, Number(drawn.records)], [576, 576], 'two days of 5-minute rows');
  assert.match((await page.textContent('#series-legend')) ?? '', /open interest.*all accounts L\/S/);
  await page.screenshot({ path: join(RESULTS, 'console-metrics.png'), fullPage: true });

  // From the funding workflow's detail: the same view of its collection.
  await page.click(`tr[data-queue-id="${loaded.funding.queue_id}"]`);
  await page.waitForSelector('#detail-chart:not([hidden])');
  assert.equal((await page.textContent('#detail-chart'))?.trim(), 'Chart its funding rate');
  await page.click('#detail-chart');
  const again = await drawnWhenReady(page, 'series', funding);
  assert.deepEqual([again.kind, again.points], ['funding_rate', rates.points]);
});
