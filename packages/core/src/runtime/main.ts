/**
 * Starts one function: `node packages/core/src/runtime/main.ts <module.ts> [--name NAME]`. The local
 * platform runs every function this way; a function's bundle for the cluster has the same
 * start in its entry point.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../telemetry/logger.ts';
import type { FunctionModule } from './function-module.ts';
import { runUntilSignal } from './run.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { name: { type: 'string' } } });
const file = positionals[0];
if (file === undefined) {
  console.error('usage: node packages/core/src/runtime/main.ts <function module> [--name NAME]');
  process.exit(2);
}
const name = values.name ?? process.env.K_SERVICE ?? 'function';
const module = (await import(pathToFileURL(resolve(file)).href)) as FunctionModule;
await runUntilSignal(module, { name, logger: createLogger({ service: name }) });
