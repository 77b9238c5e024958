/**
 * `make error-docs`: writes docs/errors.md from the error table (packages/core/src/errors.ts).
 *
 *   node scripts/generate-error-docs.ts            regenerate the file
 *   node scripts/generate-error-docs.ts --check    exit 1 if the file differs from the table (CI)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { relativeToRoot } from './deploy/paths.ts';
import { ERRORS_DOC_FILE, renderErrorDocs } from './docs/error-docs.ts';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const expected = renderErrorDocs();
const current = existsSync(ERRORS_DOC_FILE) ? readFileSync(ERRORS_DOC_FILE, 'utf8') : undefined;
if (values.check) {
  if (current !== expected) {
    console.error(
      `${relativeToRoot(ERRORS_DOC_FILE)} is stale: the error table changed. Run \`make error-docs\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`${relativeToRoot(ERRORS_DOC_FILE)} matches the error table`);
} else if (current === expected) {
  console.log(`${relativeToRoot(ERRORS_DOC_FILE)} is up to date`);
} else {
  writeFileSync(ERRORS_DOC_FILE, expected);
  console.log(`wrote ${relativeToRoot(ERRORS_DOC_FILE)}`);
}
