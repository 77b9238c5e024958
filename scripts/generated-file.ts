/**
 * One generated file, written by a `make` target from its source of truth: regenerate it, or
 * with `--check` exit 1 when it differs (the CI step), naming the target that fixes it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { relativeToRoot } from './deploy/paths.ts';

export interface GeneratedFile {
  file: string;
  /** What the file is generated from, as the messages name it ("the topic plan"). */
  source: string;
  /** The `make` target that regenerates it. */
  makeTarget: string;
  render: () => string;
}

/** Writes the file when it differs from what `render` returns, or with `--check` only compares. */
export function generateOrCheck({ file, source, makeTarget, render }: GeneratedFile): void {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const expected = render();
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  const name = relativeToRoot(file);
  if (values.check) {
    if (current !== expected) {
      console.error(`${name} is stale: ${source} changed. Run \`make ${makeTarget}\` and commit the result.`);
      process.exit(1);
    }
    console.log(`${name} matches ${source}`);
  } else if (current === expected) {
    console.log(`${name} is up to date`);
  } else {
    writeFileSync(file, expected);
    console.log(`wrote ${name}`);
  }
}
