/**
 * `streamforge backfill SYMBOL TYPE RANGE` starts a workflow and shows its progress until it
 * ends, then what was stored; `streamforge status [ID]` and `streamforge ls` read workflows.
 */
import { parseArgs } from 'node:util';
import { readStackState, stateDir } from '@streamforge/platform';
import { sleep } from '@streamforge/core/retry';
import { api } from './api-client.ts';
import { table } from './table.ts';

interface ServiceProgress {
  status: string;
  records_written?: number;
  progress?: { done: number; total?: number; unit: string; bytes?: { done: number; total?: number } };
  message?: string;
}

/** Bytes as decimal megabytes with one decimal, as download sizes are usually given. */
const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);

export interface WorkflowView {
  queue_id: string;
  symbol: string;
  type: string;
  market: string;
  time_range?: string;
  status: string;
  collection_name: string;
  services: string[];
  progress: Record<string, ServiceProgress>;
  error?: string;
  created_at: number;
  updated_at: number;
  stored?: { pages_done: number; pages_total?: number; records_written: number; rejected: number };
  dead_letters?: Record<string, { total: number; replayed: number; reason: string }>;
  deadline_at?: number;
}

const FINAL = new Set(['completed', 'error', 'stopped']);

function bar(fraction: number, width = 30): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** One line of progress: the bar follows what the store holds (the last step of a backfill). */
export function progressLine(w: WorkflowView, elapsedMs: number): string {
  const stored = w.stored;
  const total = stored?.pages_total;
  const fraction = total ? stored.pages_done / total : w.status === 'completed' ? 1 : 0;
  const [loaderName, loader] = Object.entries(w.progress).find(([name]) => name.startsWith('loader')) ?? [];
  // loader-producer's pages are archive files and REST pages: loaded, not only fetched.
  const verb = loaderName === 'loader-producer' ? 'loaded' : 'fetched';
  const bytes = loader?.progress?.bytes;
  const moved = bytes
    ? ` (${megabytes(bytes.done)}/${bytes.total === undefined ? '?' : megabytes(bytes.total)} MB)`
    : '';
  const fetched = loader?.progress ? ` ${verb} ${loader.progress.done}/${loader.progress.total ?? '?'}${moved}` : '';
  const pages = total ? ` stored ${stored.pages_done}/${total} pages` : '';
  const records = stored
    ? ` ${stored.records_written.toLocaleString('en-US')} records${stored.rejected > 0 ? `, ${stored.rejected.toLocaleString('en-US')} rejected` : ''}`
    : '';
  return `${bar(fraction)} ${(fraction * 100).toFixed(0).padStart(3)}%${pages}${fetched}${records}  ${w.status}  ${(elapsedMs / 1000).toFixed(1)}s`;
}

function summary(w: WorkflowView, elapsedMs?: number): string {
  const lines = [`${w.queue_id}  ${w.status}${w.error ? `: ${w.error}` : ''}`];
  lines.push(
    `  type ${w.type}  symbol ${w.symbol}  market ${w.market}${w.time_range ? `  range ${w.time_range}` : ''}`,
  );
  lines.push(`  collection ${w.collection_name}`);
  if (w.stored)
    lines.push(
      `  stored ${w.stored.records_written.toLocaleString('en-US')} records, ${w.stored.pages_done}/${w.stored.pages_total ?? '?'} pages, ${w.stored.rejected} rejected`,
    );
  for (const name of w.services) {
    const p = w.progress[name];
    lines.push(
      `  ${name.padEnd(18)} ${p ? `${p.status}${p.progress ? ` ${p.progress.done}/${p.progress.total ?? '?'} ${p.progress.unit}` : ''}${p.message ? `  ${p.message}` : ''}` : 'no telemetry yet'}`,
    );
  }
  for (const [service, d] of Object.entries(w.dead_letters ?? {})) {
    lines.push(
      `  dead letters       ${service}: ${d.total}${d.replayed > 0 ? ` (${d.replayed} replayed)` : ''}, latest: ${d.reason}  → streamforge dlq ls --workflow ${w.queue_id}`,
    );
  }
  if (!FINAL.has(w.status) && w.deadline_at !== undefined)
    lines.push(
      `  ends in error at  ${new Date(w.deadline_at).toISOString().slice(0, 19).replace('T', ' ')} UTC unless it moves first`,
    );
  if (elapsedMs !== undefined) lines.push(`  took ${(elapsedMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

/** `--bulk`: the archive loader's type for a backfill type, `candles_1m` or `api_candles_1m` → `bulk_candles_1m`. */
export function bulkTypeOf(type: string): string {
  return type.startsWith('bulk_') ? type : `bulk_${type.replace(/^api_/, '')}`;
}

export async function backfillCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      market: { type: 'string' },
      collection: { type: 'string' },
      'no-wait': { type: 'boolean' },
      json: { type: 'boolean' },
      bulk: { type: 'boolean' },
    },
  });
  const [symbol, given, timeRange] = positionals;
  if (!symbol || !given || !timeRange) {
    console.error(
      'usage: streamforge backfill SYMBOL TYPE YYYY-MM-DD:YYYY-MM-DD [--bulk] [--market spot|usdm|coinm] [--collection NAME] [--no-wait] [--json]\n  e.g. streamforge backfill BTCUSDT api_candles_1m 2024-08-01:2024-08-08\n       streamforge backfill BTCUSDT candles_1m 2023-01-01:2024-01-01 --bulk   (from the public archives: bulk_candles_1m)\n       streamforge backfill BTCUSDT funding_rate 2024-01-01:2024-07-01 --bulk --market usdm   (futures series: mark_price_candles_<interval>, index_price_candles_<interval>, premium_index_candles_<interval>, funding_rate, metrics)',
    );
    return 2;
  }
  const type = values.bulk ? bulkTypeOf(given) : given;
  const started = Date.now();
  const created = await api<WorkflowView>('POST', '/workflows', {
    symbol,
    type,
    time_range: timeRange,
    ...(values.market ? { market: values.market } : {}),
    ...(values.collection ? { collection_name: values.collection } : {}),
  });
  if (!values.json) console.log(`started ${created.queue_id} → collection ${created.collection_name}`);
  if (values['no-wait']) {
    if (values.json) console.log(JSON.stringify(created));
    return 0;
  }
  const tty = process.stdout.isTTY === true;
  let last = '';
  let workflow = created;
  for (;;) {
    workflow = await api<WorkflowView>('GET', `/workflows/${created.queue_id}`);
    const line = progressLine(workflow, Date.now() - started);
    if (!values.json) {
      if (tty) process.stdout.write(`\r${line}`);
      else if (line.replace(/\s+\S+s$/, '') !== last.replace(/\s+\S+s$/, '')) console.log(line);
    }
    last = line;
    if (FINAL.has(workflow.status)) break;
    await sleep(250);
  }
  if (tty && !values.json) process.stdout.write('\n');
  if (values.json) console.log(JSON.stringify({ ...workflow, seconds: (Date.now() - started) / 1000 }));
  else console.log(summary(workflow, Date.now() - started));
  return workflow.status === 'completed' ? 0 : 1;
}

export async function statusCommand(args: string[]): Promise<number> {
  const [id] = args;
  if (id) {
    console.log(summary(await api<WorkflowView>('GET', `/workflows/${id}`)));
    return 0;
  }
  const state = readStackState(stateDir());
  if (state?.status !== 'ready') {
    console.log(
      `no stack is running${state ? ` (state: ${state.status}${state.error ? `, ${state.error}` : ''})` : ''}; start one with \`npx streamforge up\``,
    );
    return state ? 1 : 0;
  }
  console.log(
    `StreamForge ${state.status}: api ${state.api_url}, kafka ${state.kafka_brokers}${state.exchange_url ? `, exchange simulator ${state.exchange_url}` : ''}`,
  );
  const { workflows } = await api<{ workflows: WorkflowView[] }>('GET', '/workflows?limit=1000');
  const counts = new Map<string, number>();
  for (const w of workflows) counts.set(w.status, (counts.get(w.status) ?? 0) + 1);
  console.log(`workflows: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'none yet'}`);
  return 0;
}

export async function lsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { status: { type: 'string' }, limit: { type: 'string', default: '50' } },
  });
  const query = new URLSearchParams({ limit: values.limit, ...(values.status ? { status: values.status } : {}) });
  const { workflows } = await api<{ workflows: WorkflowView[] }>('GET', `/workflows?${query}`);
  if (workflows.length === 0) {
    console.log('no workflows');
    return 0;
  }
  const rows = workflows.map((w) => [
    w.queue_id,
    w.type,
    w.status,
    new Date(w.created_at).toISOString().slice(0, 19).replace('T', ' '),
    w.collection_name,
  ]);
  console.log(table([['QUEUE_ID', 'TYPE', 'STATUS', 'CREATED', 'COLLECTION'], ...rows]));
  return 0;
}
