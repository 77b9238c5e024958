/**
 * The operator console in a real browser: Debian's chromium, headless, driven by
 * playwright-core (no browser download; scripts/setup-chromium.sh installs it), against
 * stacks started with `streamforge up` and the exchange simulator (the stand-in for
 * Binance). Without /usr/bin/chromium the tests skip and say why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '@streamforge/platform';
import { TOPICS, createEventProducer } from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf } from '@streamforge/core/contracts';
import { startTestStack, testKafka, type TestStack } from '@streamforge/testing';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `no ${CHROMIUM}: Debian's chromium is not installed (run scripts/setup-chromium.sh as root)`;
if (skip) console.log(`# SKIP test/browser/console.test.ts: ${skip}`);
const RESULTS = join(PROJECT_ROOT, 'test-results');
const TOKEN = 'console-test-token-0f3a9c';

let open: TestStack;
let guarded: TestStack;
const contexts: Array<{ context: BrowserContext; dir: string }> = [];

before(async () => {
  if (skip) return;
  mkdirSync(RESULTS, { recursive: true });
  // Both stacks start together: two test cases, one wait.
  [open, guarded] = await Promise.all([
    startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity' }),
    startTestStack({ STREAMFORGE_API_TOKEN: TOKEN }),
  ]);
});

after(async () => {
  for (const { context, dir } of contexts) {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await Promise.all([open?.down(), guarded?.down()]);
});

/** A fresh browser profile per test, as a first-time user has. */
async function browser(): Promise<Page> {
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

/**
 * The page's document inside functions Playwright runs in the browser (passed as functions,
 * not strings: the console's CSP forbids eval). This file is type-checked without the DOM
 * library, hence the narrow type; the casts are erased, nothing outside the function is used.
 */
interface PageDocument {
  getElementById(id: string): { textContent: string | null; dataset: Record<string, string | undefined> } | null;
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
}
type InPage = { document: PageDocument };

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
  const page = await browser();
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
  const page = await browser();
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
  const page = await browser();
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

  const page = await browser();
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
