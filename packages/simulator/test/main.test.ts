import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/binance/klines/', import.meta.url));

test('the simulator process prints its URL as one JSON line, serves, and exits cleanly on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [MAIN, '--port', '0', '--weight-limit', '1200'], {
    env: { ...process.env, SIM_KLINES_DIR: FIXTURES, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, 'line')) as [string];
  const { url } = JSON.parse(first) as { url: string };
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const info = (await (await fetch(`${url}/api/v3/exchangeInfo?symbol=BTCUSDT`)).json()) as {
    rateLimits: Array<{ limit: number }>;
  };
  assert.equal(info.rateLimits[0]!.limit, 1200, 'flags reach the simulator');
  const rows = (await (
    await fetch(`${url}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1662336000000&limit=1`)
  ).json()) as unknown[][];
  assert.equal(rows[0]![1], '19992.70', 'SIM_KLINES_DIR reaches the simulator');

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(stderr, /"msg":"exchange simulator listening"/, 'pino logs go to stderr');
});
