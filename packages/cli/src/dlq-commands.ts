/**
 * `streamforge dlq ls | show | replay`: what went to a dead-letter topic, why, and sending it
 * back to its original topic after a fix (records keep their keys: a replayed page is stored
 * once however often it lands).
 */
import { parseArgs } from 'node:util';
import type { DeadLetter } from '@streamforge/core/store';
import { api } from './api-client.ts';
import { table } from './table.ts';

/** A dead letter as the API gives it (a listing leaves the event's data out). */
type DeadLetterView = DeadLetter;

interface ReplayView {
  more: boolean;
  replayed: string[];
  skipped: Array<{ id: string; reason: string }>;
  reopened: string[];
}

const USAGE = [
  'usage: streamforge dlq ls [--workflow QUEUE_ID] [--limit N] [--json]',
  '       streamforge dlq show ID',
  '       streamforge dlq replay (--workflow QUEUE_ID | ID... | --all) [--json]',
].join('\n');

const when = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

async function ls(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { workflow: { type: 'string' }, limit: { type: 'string', default: '100' }, json: { type: 'boolean' } },
  });
  const limit = Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    console.error(`--limit: "${values.limit}" is not a positive whole number\n${USAGE}`);
    return 2;
  }
  const letters: DeadLetterView[] = [];
  let after: string | null = null;
  // Pages of at most 1000 until the limit: a long backlog is listed whole when asked.
  while (letters.length < limit) {
    const query = new URLSearchParams({
      limit: String(Math.min(1000, limit - letters.length)),
      ...(values.workflow ? { workflow: values.workflow } : {}),
      ...(after ? { after } : {}),
    });
    const page: { dead_letters: DeadLetterView[]; next: string | null } = await api('GET', `/dead-letters?${query}`);
    letters.push(...page.dead_letters);
    if (page.dead_letters.length === 0 || page.next === after) break;
    after = page.next;
  }
  if (values.json) {
    console.log(JSON.stringify(letters));
    return 0;
  }
  if (letters.length === 0) {
    console.log(values.workflow ? `no dead letters of ${values.workflow}` : 'no dead letters');
    return 0;
  }
  const rows = letters.map((l) => [
    l.id,
    l.queue_id || '-',
    l.service,
    String(l.event.type ?? ''),
    when(l.dead_lettered_at),
    l.replayed_at ? `replayed ${when(l.replayed_at)}` : 'waiting',
    l.reason,
  ]);
  console.log(table([['ID', 'QUEUE_ID', 'SERVICE', 'TYPE', 'DEAD-LETTERED', 'STATE', 'REASON'], ...rows]));
  return 0;
}

async function show(args: string[]): Promise<number> {
  const [id] = args;
  if (!id) {
    console.error(USAGE);
    return 2;
  }
  console.log(JSON.stringify(await api<DeadLetterView>('GET', `/dead-letters/${encodeURIComponent(id)}`), null, 2));
  return 0;
}

async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { workflow: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  // Replaying everything is never the default: it has to be asked for.
  if (!values.workflow && positionals.length === 0 && !values.all) {
    console.error(USAGE);
    return 2;
  }
  const result = await api<ReplayView>('POST', '/dead-letters/replay', {
    ...(values.workflow ? { workflow: values.workflow } : {}),
    ...(positionals.length > 0 ? { ids: positionals } : {}),
    ...(values.all && !values.workflow && positionals.length === 0 ? { all: true } : {}),
  });
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `replayed ${result.replayed.length} dead letter${result.replayed.length === 1 ? '' : 's'}${result.reopened.length > 0 ? `; running again: ${result.reopened.join(', ')}` : ''}`,
    );
    for (const s of result.skipped) console.log(`  skipped ${s.id}: ${s.reason}`);
    if (result.more) console.log('more dead letters wait than one replay takes: run it again');
  }
  return result.skipped.length > 0 && result.replayed.length === 0 ? 1 : 0;
}

export async function dlqCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'ls') return ls(rest);
  if (sub === 'show') return show(rest);
  if (sub === 'replay') return replay(rest);
  console.error(USAGE);
  return 2;
}
