/**
 * Isolation (one workflow's failures do not slow another), measured in one run and printed
 * as JSON: a normal backfill
 * (`make demo`'s week of BTCUSDT 1m candles) timed alone and beside a poison workflow whose
 * 132 pages fail at the exchange (the simulator's SIM_FAILING_SYMBOLS) and are retried by the
 * dispatcher for minutes, in paired rounds on the same stack: the baseline (alone) is
 * measured in the same run, between the beside runs. The procedure is the one
 * test/integration/isolation.test.ts asserts (packages/testing/src/isolation-run.ts).
 *
 *   node bench/isolation.ts [--rounds 6] [--max-scale N] [--real-budget]
 *
 * `--max-scale` caps every function's instances (STREAMFORGE_MAX_SCALE); by default the
 * platform scales as configured, as `make demo` runs it. `--real-budget` keeps Binance's
 * REQUEST_WEIGHT budget (6000 a minute) instead of lifting it, as the test does: the poison's
 * failed requests count against the budget every workflow shares.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { startLocalBroker, PROJECT_ROOT } from '@streamforge/platform';
import { ISOLATION_STACK_ENV, measureIsolation, median, startTestStack } from '@streamforge/testing';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    'max-scale': { type: 'string' },
    'real-budget': { type: 'boolean', default: false },
  },
});

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** Whether the working tree differs from the commit (the figures are then of uncommitted code). */
function gitDirty(): boolean | null {
  try {
    return (
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      }).trim() !== ''
    );
  } catch {
    return null;
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

const scratch = mkdtempSync(join(tmpdir(), 'sf-bench-'));
const broker = await startLocalBroker({ dataDir: join(scratch, 'kafka') });
try {
  process.env.KAFKA_BROKERS = broker.brokers;
  await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));
  const { SIM_WEIGHT_LIMIT, ...realBudget } = ISOLATION_STACK_ENV;
  const env = values['real-budget'] ? realBudget : ISOLATION_STACK_ENV;
  const stack = await startTestStack({
    ...env,
    LOG_LEVEL: 'warn',
    ...(values['max-scale'] === undefined ? {} : { STREAMFORGE_MAX_SCALE: values['max-scale'] }),
  });
  try {
    // With the real budget a normal run may wait for the next budget minute: give it three.
    const result = await measureIsolation(stack, {
      rounds: Number(values.rounds),
      timeoutMs: values['real-budget'] ? 180_000 : 60_000,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    console.log(
      JSON.stringify(
        {
          bench: 'isolation',
          normal: result.normal,
          poison: result.poison,
          scaling:
            values['max-scale'] === undefined
              ? 'as configured (func.yaml, KafkaSource annotations)'
              : `STREAMFORGE_MAX_SCALE=${values['max-scale']}`,
          exchange_budget: values['real-budget']
            ? "Binance's 6000 REQUEST_WEIGHT a minute, shared"
            : 'lifted (SIM_WEIGHT_LIMIT=Infinity), as in the test',
          rounds: result.pair_ratios.length / 2,
          alone_s: result.alone_s,
          beside_poison_s: result.beside_s,
          alone_median_s: round(median(result.alone_s)),
          beside_poison_median_s: round(median(result.beside_s)),
          pair_ratios: result.pair_ratios,
          ratio_beside_vs_alone: result.ratio,
          goal: { ratio_at_most: 1.5 },
          node: process.version,
          cores: availableParallelism(),
          cpu: cpus()[0]?.model.trim(),
          project: PROJECT_ROOT.split('/').at(-1),
          commit: gitCommit(),
          uncommitted_changes: gitDirty(),
        },
        null,
        2,
      ),
    );
  } finally {
    await stack.down();
  }
} finally {
  await broker.stop();
  rmSync(scratch, { recursive: true, force: true });
}
