/**
 * `streamforge ps`: what the local platform runs right now: instances per function, each
 * KafkaSource's lag, and the recent scaling decisions with their reason.
 */
import { parseArgs } from 'node:util';
import type { PlatformStatusDocument } from '@streamforge/platform';
import { readStackState, stateDir } from '@streamforge/platform';
import { table } from './table.ts';

export async function psCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean' }, decisions: { type: 'string', default: '10' } },
  });
  const state = readStackState(stateDir());
  if (!state?.platform_url || state.status !== 'ready') {
    console.error('no stack is running; start one with `npx streamforge up`');
    return 1;
  }
  const status = (await (await fetch(`${state.platform_url}/status`)).json()) as PlatformStatusDocument;
  if (values.json) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  const fixed = [
    ['PROCESS', 'PID', 'ADDRESS'],
    ['kafka broker', String(state.broker?.pid ?? 'external'), state.kafka_brokers ?? ''],
    ['dispatcher', String(state.dispatcher?.pid ?? '-'), state.dispatcher?.url ?? ''],
  ];
  if (state.exchange_url)
    fixed.push(['exchange simulator', String(state.processes?.['exchange-simulator']?.pid ?? '-'), state.exchange_url]);
  console.log(table(fixed));
  console.log();
  console.log(
    table([
      ['FUNCTION', 'INSTANCES', 'SCALE', 'ADDRESS', 'DETAIL'],
      ...status.functions.map((f) => [
        f.name,
        String(f.instances.filter((i) => i.state !== 'draining').length),
        `${f.min_scale}..${f.max_scale || '∞'}`,
        f.url,
        f.instances
          .map(
            (i) =>
              `${i.id} pid ${i.pid} ${i.state}${i.in_flight ? ` ${i.in_flight} in flight` : ''}${i.cold_start_ms !== undefined ? ` (cold start ${i.cold_start_ms} ms)` : ''}`,
          )
          .join('; '),
      ]),
    ]),
  );
  console.log();
  console.log(
    table([
      ['KAFKASOURCE', 'FUNCTION', 'LAG', 'THRESHOLD', 'PARTITIONS', 'DESIRED'],
      ...status.sources.map((s) => [
        s.name,
        s.function,
        String(s.lag),
        String(s.lag_threshold),
        String(s.partitions),
        String(s.desired),
      ]),
    ]),
  );
  const recent = status.decisions.slice(-Number(values.decisions));
  if (recent.length > 0) {
    console.log();
    console.log('recent scaling decisions:');
    for (const d of recent)
      console.log(`  ${d.at.slice(11, 19)}  ${d.function.padEnd(18)} ${d.from} → ${d.to}  ${d.reason}`);
  }
  return 0;
}
