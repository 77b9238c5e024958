import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@streamforge/core/telemetry';
import { jobNameOf, type JobEnded } from '@streamforge/core/jobs';
import type { LiveJobSpec } from '@streamforge/core/requests';
import { LocalJobLauncher } from '../src/local-job-launcher.ts';
import { isAlive, writeStackState } from '../src/stack-state.ts';
import { waitFor } from '@streamforge/testing';

const logger = createLogger({ service: 'local-job-test', level: 'silent' });

/**
 * A stand-in for the loader-ws program: it records its environment and pid, then does what
 * JOB_BEHAVIOUR says (exit with a code, or run until SIGTERM and exit 0 as loader-ws does).
 */
const PROGRAM = `
import { writeFileSync, appendFileSync } from 'node:fs';
const out = process.env.JOB_OUT;
appendFileSync(out + '.runs', process.pid + '\\n');
writeFileSync(out, JSON.stringify(process.env));
const behaviour = process.env.JOB_BEHAVIOUR;
if (behaviour.startsWith('exit:')) process.exit(Number(behaviour.slice(5)));
process.on('SIGTERM', () => { appendFileSync(out + '.runs', 'SIGTERM\\n'); process.exit(0); });
setInterval(() => {}, 1000);
`;

function setup(
  t: TestContext,
  behaviour: string,
  extraEnv: NodeJS.ProcessEnv = {},
): { launcher: LocalJobLauncher; dir: string; out: string; ended: JobEnded[]; make(): LocalJobLauncher } {
  const dir = mkdtempSync(join(tmpdir(), 'local-jobs-'));
  const entry = join(dir, 'program.mjs');
  writeFileSync(entry, PROGRAM);
  const out = join(dir, 'env.json');
  const ended: JobEnded[] = [];
  const make = () =>
    new LocalJobLauncher({
      stateDir: dir,
      entry,
      backoffBaseMs: 20,
      pollMs: 50,
      logger,
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: '127.0.0.1:1234',
        BINANCE_SPOT_URL: 'http://127.0.0.1:5555',
        JOB_OUT: out,
        JOB_BEHAVIOUR: behaviour,
        ...extraEnv,
      },
    });
  const launcher = make();
  void launcher.watch((e) => ended.push(e));
  t.after(async () => {
    await launcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { launcher, dir, out, ended, make };
}

const spec: LiveJobSpec = {
  queue_id: 'wf-btcusdt-ws_trades-20261128-a1b2c3',
  type: 'ws_trades',
  market: 'spot',
  symbols: ['BTCUSDT'],
  collection_name: 'btcusdt_ws_trades_2026_11_28',
  kafka_topic: 'data-trades',
  telemetry_id: 'loader-ws__a1b2c3',
};

const runs = (out: string): string[] => {
  try {
    return readFileSync(`${out}.runs`, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
};

test('a local Job runs with the template’s environment resolved against the platform’s values, plus the workflow’s own', async (t) => {
  const { launcher, out, ended, dir } = setup(t, 'exit:0');
  await launcher.launch(spec);
  await waitFor('the Job to end', () => ended.length === 1);
  assert.deepEqual(ended[0], {
    queueId: spec.queue_id,
    name: jobNameOf(spec.queue_id),
    outcome: 'succeeded',
    reason: 'the Job completed',
  });
  const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
  assert.equal(env.KAFKA_BROKERS, '127.0.0.1:1234', 'configMapKeyRef KAFKA_BROKERS from the platform');
  assert.equal(env.BINANCE_SPOT_URL, 'http://127.0.0.1:5555');
  assert.equal(env.POD_NAME, `${jobNameOf(spec.queue_id)}-0`, 'fieldRef metadata.name: the pod name');
  assert.equal(env.QUEUE_ID, spec.queue_id);
  assert.equal(env.SYMBOLS, 'BTCUSDT');
  assert.equal(env.TYPE, 'ws_trades');
  assert.equal(env.TELEMETRY_PRODUCER_ID, 'loader-ws__a1b2c3');
  assert.equal(env.LOADER_WS_METRICS_PORT, '0');
  assert.deepEqual(
    readdirSync(join(dir, 'logs')),
    [`${jobNameOf(spec.queue_id)}.log`],
    'one log file per Job in the logs folder',
  );
  assert.equal((await launcher.get(spec.queue_id))?.state, 'succeeded');
});

test('a failing Job runs again up to backoffLimit, then fails with BackoffLimitExceeded', async (t) => {
  const { launcher, out, ended } = setup(t, 'exit:1');
  await launcher.launch(spec);
  await waitFor('the Job to fail for good', () => ended.length === 1);
  assert.equal(runs(out).length, 4, 'the first run and backoffLimit (3) retries');
  assert.equal(ended[0]!.outcome, 'failed');
  assert.match(ended[0]!.reason, /^BackoffLimitExceeded: 4 failed runs \(last: exit code 1\)/);
});

test('exit code 2 fails the Job at once, as the template’s FailJob rule says', async (t) => {
  const { launcher, out, ended } = setup(t, 'exit:2');
  await launcher.launch(spec);
  await waitFor('the Job to fail', () => ended.length === 1);
  assert.equal(runs(out).length, 1);
  assert.match(ended[0]!.reason, /^PodFailurePolicy: container loader-ws exit code 2 matches a FailJob rule/);
});

test('stop sends SIGTERM and waits for the exit; a stopped Job is not reported as ended', async (t) => {
  const { launcher, out, ended } = setup(t, 'run');
  await launcher.launch(spec);
  await waitFor('the Job to run', () => runs(out).length === 1);
  assert.equal((await launcher.launch(spec)).state, 'running', 'launching again keeps the running Job');
  assert.equal(runs(out).length, 1);
  assert.equal(await launcher.stop(spec.queue_id), true);
  assert.deepEqual(runs(out).slice(1), ['SIGTERM']);
  assert.equal(await launcher.stop(spec.queue_id), false);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(ended, []);
});

/** A process that runs until SIGTERM, started outside any launcher, and the pid of a process that has ended. */
async function strayJob(entry: string, out: string): Promise<{ pid: number; deadPid: number }> {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, JOB_OUT: out, JOB_BEHAVIOUR: 'run' },
    stdio: 'ignore',
  });
  const gone = spawn(process.execPath, ['-e', '']);
  const deadPid = await new Promise<number>((resolve) => gone.once('exit', () => resolve(gone.pid!)));
  await waitFor('the stray Job to run', () => runs(out).length > 0);
  return { pid: child.pid!, deadPid };
}

test('a launcher follows the Jobs another manager started: it stops them, and runs again one that dies after its owner is gone, as the Job controller would', async (t) => {
  const { launcher, dir, out, ended } = setup(t, 'run');
  const jobs = join(dir, 'jobs');
  mkdirSync(jobs, { recursive: true });
  const orphan = await strayJob(join(dir, 'program.mjs'), `${out}.1`);
  const stoppable = await strayJob(join(dir, 'program.mjs'), `${out}.2`);
  const other = { ...spec, queue_id: 'wf-ethusdt-ws_trades-20261128-b2c3d4' };
  writeFileSync(
    join(jobs, `${jobNameOf(spec.queue_id)}.json`),
    JSON.stringify({ pid: orphan.pid, owner: orphan.deadPid, spec, started_at: '' }),
  );
  writeFileSync(
    join(jobs, `${jobNameOf(other.queue_id)}.json`),
    JSON.stringify({ pid: stoppable.pid, owner: stoppable.deadPid, spec: other, started_at: '' }),
  );
  await waitFor('both Jobs followed', async () => (await launcher.list()).length === 2);
  assert.equal(await launcher.stop(other.queue_id), true, 'a Job this launcher did not start can be stopped');
  assert.ok(!isAlive(stoppable.pid));
  process.kill(orphan.pid, 'SIGKILL');
  await waitFor('the dead Job run again by this launcher', () => runs(out).length === 1, { timeoutMs: 10_000 });
  const adopted = JSON.parse(readFileSync(join(jobs, `${jobNameOf(spec.queue_id)}.json`), 'utf8')) as {
    pid: number;
    owner: number;
    failures: number;
  };
  assert.deepEqual([adopted.pid, adopted.owner, adopted.failures], [Number(runs(out)[0]), process.pid, 1]);
  assert.deepEqual(ended, [], 'a Job run again has not ended');
  assert.equal(await launcher.stop(spec.queue_id), true);
  assert.deepEqual(readdirSync(jobs), []);
});

test('a Job another instance stopped (its file deleted) whose run then dies by a signal is not run again', async (t) => {
  // This launcher is the Job's controller (as the platform's is for Jobs whose manager is
  // gone); another instance stops the Job, knowing it only by its file.
  const { launcher, dir, out, ended } = setup(t, 'run');
  await launcher.launch(spec);
  await waitFor('the Job to run', () => runs(out).length === 1);
  rmSync(join(dir, 'jobs', `${jobNameOf(spec.queue_id)}.json`));
  // The SIGKILL the stop sends once the grace period is over.
  process.kill(Number(runs(out)[0]), 'SIGKILL');
  await waitFor(
    'the Job forgotten, or run again',
    async () => (await launcher.get(spec.queue_id)) === undefined || runs(out).length > 1,
  );
  assert.equal(runs(out).length, 1, 'not run again');
  assert.deepEqual(readdirSync(join(dir, 'jobs')), [], 'no file for it again');
  assert.deepEqual(ended, []);
});

test('close leaves the Jobs to the other manager instances while the stack runs, and stops them when it goes down', async (t) => {
  const { launcher, dir, out, make } = setup(t, 'run');
  await launcher.launch(spec);
  await waitFor('the Job to run', () => runs(out).length === 1);
  const pid = Number(runs(out)[0]);
  writeStackState(dir, { status: 'ready', pid: process.pid, started_at: '', functions: {} });
  const second = make();
  await launcher.close(); // e.g. a manager instance scaled in
  assert.ok(isAlive(pid), 'the Job keeps running');
  assert.deepEqual(
    (await second.list()).map((j) => j.queueId),
    [spec.queue_id],
    'another instance follows it',
  );
  writeStackState(dir, { status: 'stopping', pid: process.pid, started_at: '', functions: {} });
  await second.close();
  assert.ok(!isAlive(pid), 'nothing outlives the stack');
});
