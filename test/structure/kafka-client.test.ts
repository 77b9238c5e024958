/**
 * The bus hides its Kafka client: outside packages/core/src/bus nothing imports one, so the client
 * can change behind the port without touching a function. The one exception is the benchmark
 * that keeps the record of the client choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { PROJECT_ROOT } from '@streamforge/platform';
import { importsOf, sourceFiles } from './import-graph.ts';

const KAFKA_CLIENTS = ['kafkajs', '@platformatic/kafka', '@confluentinc/kafka-javascript', 'node-rdkafka'];
const ALLOWED = new Set(['bench/kafka-clients.ts']);
test('no file outside the bus imports a Kafka client', () => {
  const offenders: string[] = [];
  for (const path of sourceFiles(PROJECT_ROOT)) {
    const file = relative(PROJECT_ROOT, path);
    if (file.startsWith('packages/core/src/bus/') || ALLOWED.has(file)) continue;
    const clients = importsOf(readFileSync(path, 'utf8')).filter((m) =>
      KAFKA_CLIENTS.some((c) => m === c || m.startsWith(`${c}/`)),
    );
    if (clients.length > 0) offenders.push(`${file}: ${clients.join(', ')}`);
  }
  assert.deepEqual(offenders, [], 'import the bus (@streamforge/core/bus) instead');
});

test('the check sees every import form it guards against', () => {
  // Built at run time, so this file does not import what it names.
  const [a, b, c] = KAFKA_CLIENTS as [string, string, string];
  const text = [
    `import { Kafka } from '${a}';`,
    `import type { Admin } from "${b}";`,
    `const k = await import('${c}');`,
    `import '${a}/side-effect';`,
  ].join('\n');
  assert.deepEqual(importsOf(text), [a, b, c, `${a}/side-effect`]);
});
