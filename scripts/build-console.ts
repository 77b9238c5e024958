/**
 * `make console`: bundles the console's browser code into functions/queue-manager/src/console/app.js
 * (see scripts/deploy/console-script.ts).
 *
 *   node scripts/build-console.ts            rebuild the file
 *   node scripts/build-console.ts --check    exit 1 if the file differs from its sources (CI)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { relativeToRoot } from './deploy/paths.ts';
import { CONSOLE_SCRIPT_FILE, renderConsoleScript } from './deploy/console-script.ts';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const expected = await renderConsoleScript();
const current = existsSync(CONSOLE_SCRIPT_FILE) ? readFileSync(CONSOLE_SCRIPT_FILE, 'utf8') : undefined;
const file = relativeToRoot(CONSOLE_SCRIPT_FILE);
if (values.check) {
  if (current !== expected) {
    console.error(`${file} is stale: its sources (client/*.ts) changed. Run \`make console\`.`);
    process.exit(1);
  }
  console.log(`${file} matches its sources`);
} else if (current === expected) {
  console.log(`${file} is up to date`);
} else {
  writeFileSync(CONSOLE_SCRIPT_FILE, expected);
  console.log(`wrote ${file}`);
}
