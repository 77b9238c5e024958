/**
 * The main job, end to end on this machine (`make demo`): start the stack with the exchange
 * simulator, backfill a week of BTCUSDT 1m candles through Kafka into the store, and show
 * what was stored and where. The stack stays up for exploring; `make down` stops it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { api } from '@streamforge/cli';
import type { WorkflowView } from '@streamforge/cli';
import { PROJECT_ROOT } from '@streamforge/platform';
import { readStackState, stateDir } from '@streamforge/platform';

const CLI = join(PROJECT_ROOT, 'packages', 'cli', 'bin', 'streamforge.js');
const SYMBOL = process.env.DEMO_SYMBOL ?? 'BTCUSDT';
const RANGE = process.env.DEMO_RANGE ?? '2024-08-01:2024-08-08';

function streamforge(...args: string[]): number {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    stdio: 'inherit',
    env: { ...process.env, EXCHANGE: 'simulator' },
  });
  return result.status ?? 1;
}

console.log('== 1. the stack: Kafka broker, topics, functions, KafkaSource dispatcher, exchange simulator');
const running = readStackState(stateDir());
if (running?.status === 'ready' && !running.exchange_url) {
  console.error(
    'a stack without the exchange simulator is running; stop it with `make down` and run `make demo` again',
  );
  process.exit(1);
}
if (streamforge('up', '--simulator') !== 0) process.exit(1);

console.log(
  `\n== 2. backfill ${SYMBOL} api_candles_1m ${RANGE} (queue-manager → loader-api pages → Kafka → arango-connector → store)`,
);
const code = streamforge('backfill', SYMBOL, 'api_candles_1m', RANGE);

console.log('\n== 3. what was stored, and where');
const { workflows } = await api<{ workflows: WorkflowView[] }>('GET', '/workflows?limit=1');
const workflow = workflows[0];
if (!workflow) process.exit(1);
const { count } = await api<{ count: number }>('GET', `/collections/${workflow.collection_name}`);
const { records } = await api<{ records: Array<Record<string, unknown>> }>(
  'GET',
  `/collections/${workflow.collection_name}/records?limit=2`,
);
const state = readStackState(stateDir());
console.log(`workflow     ${workflow.queue_id}: ${workflow.status}`);
console.log(`collection   ${workflow.collection_name}: ${count} records (a week of 1m candles is ${7 * 1440})`);
console.log(`store        ${state?.store_url}`);
console.log(`first record ${JSON.stringify(records[0])}`);
console.log(`\nAPI          ${state?.api_url}/workflows/${workflow.queue_id}`);
console.log(`             ${state?.api_url}/collections/${workflow.collection_name}/records?limit=10`);
console.log(`             ${state?.api_url}/openapi.json`);
console.log('stop it all  make down');
process.exit(code);
