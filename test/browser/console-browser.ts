/**
 * What the console's browser tests share: Debian's Chromium (the tests skip and say why
 * without it), a fresh profile per page as a first-time user has, where screenshots go, the
 * narrow type of the page's document, and zooming a chart in with the wheel.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '@streamforge/platform';

const CHROMIUM = '/usr/bin/chromium';
export const RESULTS = join(PROJECT_ROOT, 'test-results');

/** Why a browser test file skips (and says so once), or false when Chromium is there. */
export function chromiumMissing(file: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `no ${CHROMIUM}: Debian's chromium is not installed (run scripts/setup-chromium.sh as root)`;
  console.log(`# SKIP ${file}: ${reason}`);
  return reason;
}

const contexts: Array<{ context: BrowserContext; dir: string }> = [];

/** A fresh browser profile, its page failing the test on any script error. */
export async function openPage(): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  contexts.push({ context, dir });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => assert.fail(`script error in the console: ${error.message}`));
  return page;
}

/** Closes every page opened and removes its profile. */
export async function closePages(): Promise<void> {
  for (const { context, dir } of contexts.splice(0)) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The page's document inside functions Playwright runs in the browser (passed as functions,
 * not strings: the console's CSP forbids eval). These files are type-checked without the DOM
 * library, hence the narrow type; the casts are erased, nothing outside the function is used.
 */
interface PageDocument {
  getElementById(id: string): { textContent: string | null; dataset: Record<string, string | undefined> } | null;
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
}
export type InPage = { document: PageDocument };

/** Forty wheel steps in at (x, y): each widens the bars by a fraction, together well past a coarse bucket's share. */
export async function wheelIn(page: Page, x: number, y: number): Promise<void> {
  await page.mouse.move(x, y);
  for (let i = 0; i < 40; i++) await page.mouse.wheel(0, -600);
}

/** Zooms the candle chart in at (x, y) and waits until it has read the visible range again in 1m candles. */
export async function zoomChartToMinutes(page: Page, x: number, y: number): Promise<void> {
  await wheelIn(page, x, y);
  await page.waitForFunction(
    () => {
      const data = (globalThis as unknown as InPage).document.getElementById('chart')?.dataset;
      return data?.state === 'ready' && Number(data.loads) >= 2 && data.bucket === '1m';
    },
    undefined,
    { timeout: 30_000 },
  );
}
