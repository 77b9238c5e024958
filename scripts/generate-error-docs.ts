/**
 * `make error-docs`: writes docs/errors.md from the error table (packages/core/src/errors.ts).
 *
 *   node scripts/generate-error-docs.ts            regenerate the file
 *   node scripts/generate-error-docs.ts --check    exit 1 if the file differs from the table (CI)
 */
import { ERRORS_DOC_FILE, renderErrorDocs } from './docs/error-docs.ts';
import { generateOrCheck } from './generated-file.ts';

generateOrCheck({
  file: ERRORS_DOC_FILE,
  source: 'the error table',
  makeTarget: 'error-docs',
  render: renderErrorDocs,
});
