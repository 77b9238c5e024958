/**
 * The console's browser script is bundled from functions/queue-manager/src/console/client/
 * by scripts/build-console.ts at set-up (the manager's image has no esbuild): this test
 * rebuilds it in memory and fails on a diff, and checks that the image carries it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { projectFilesReadAtRunTime } from '../../scripts/deploy/bundle.ts';
import {
  CONSOLE_DIR,
  CONSOLE_SCRIPT_BANNER,
  CONSOLE_SCRIPT_FILE,
  renderConsoleScript,
} from '../../scripts/deploy/console-script.ts';
import { ROOT, relativeToRoot } from '../../scripts/deploy/paths.ts';

test('console/app.js is what esbuild makes of client/*.ts today (run `make console` when this fails)', async () => {
  const current = readFileSync(CONSOLE_SCRIPT_FILE, 'utf8');
  assert.ok(current.startsWith(CONSOLE_SCRIPT_BANNER), 'the file says it is generated');
  assert.equal(
    current,
    await renderConsoleScript(),
    `${relativeToRoot(CONSOLE_SCRIPT_FILE)} is stale: run \`make console\``,
  );
  assert.equal(current.includes(ROOT), false, 'no path of this machine in the script');
});

test("the manager's image carries the script: routes.ts reads it next to itself, which the image bundler copies", () => {
  const routes = relativeToRoot(`${CONSOLE_DIR}/routes.ts`);
  assert.deepEqual(projectFilesReadAtRunTime([routes]), [relativeToRoot(CONSOLE_SCRIPT_FILE)]);
});
