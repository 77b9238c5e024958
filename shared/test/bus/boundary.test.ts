/**
 * The bus hides its Kafka client: outside shared/src/bus nothing imports one, so the client
 * can change behind the port without touching a function. The one exception is the benchmark
 * that keeps the record of the client choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../src/platform/kafka-broker.ts';

const KAFKA_CLIENTS = ['kafkajs', '@platformatic/kafka', '@confluentinc/kafka-javascript', 'node-rdkafka'];
const ALLOWED = new Set(['bench/kafka-clients.ts']);
const SKIP = new Set(['node_modules', '.git', '.cache', '.tools', '.streamforge', 'build']);

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) yield path;
  }
}

/** The modules a file imports (static and dynamic). */
export function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
}

test('no file outside the bus imports a Kafka client', () => {
  const offenders: string[] = [];
  for (const path of sources(PROJECT_ROOT)) {
    const file = relative(PROJECT_ROOT, path);
    if (file.startsWith('shared/src/bus/') || ALLOWED.has(file)) continue;
    const clients = importsOf(readFileSync(path, 'utf8')).filter((m) => KAFKA_CLIENTS.some((c) => m === c || m.startsWith(`${c}/`)));
    if (clients.length > 0) offenders.push(`${file}: ${clients.join(', ')}`);
  }
  assert.deepEqual(offenders, [], 'import the bus (@streamforge/shared/bus) instead');
});

test('the check sees every import form it guards against', () => {
  // Built at run time, so this file does not import what it names.
  const [a, b, c] = KAFKA_CLIENTS as [string, string, string];
  const text = [`import { Kafka } from '${a}';`, `import type { Admin } from "${b}";`, `const k = await import('${c}');`, `import '${a}/side-effect';`].join('\n');
  assert.deepEqual(importsOf(text), [a, b, c, `${a}/side-effect`]);
});
