/**
 * The local platform's ApiServerSource for local Jobs: the launcher's Job files read as Job
 * objects, each change POSTed to a real HTTP sink as the binary-mode CloudEvent a cluster's
 * ApiServerSource sends. A Job process's exit decides the Job's status as the Job controller
 * would: exit 0 Complete, the FailJob exit code Failed at once (PodFailurePolicy), and a Job
 * whose manager is gone when it dies is run again, or failed, by the platform.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOB_EVENT_TYPES, jobNameOf, jobStatusOf, type JobObject } from '@streamforge/core/jobs';
import type { LiveJobSpec } from '@streamforge/core/requests';
import { createLogger } from '@streamforge/core/telemetry';
import { startRecordingSink, waitFor, type RecordedRequest, type RecordingSink } from '@streamforge/testing';
import { deliverTo } from '../src/api-server-source.ts';
import { startLocalJobSource } from '../src/local-job-events.ts';
import { LocalJobLauncher } from '../src/local-job-launcher.ts';

const logger = createLogger({ service: 'local-job-events-test', level: 'silent' });

/**
 * A stand-in for loader-ws: exits with JOB_BEHAVIOUR's code (`exit:N`), or with it once the
 * file `go` next to it exists (`exit-on-go:N`, so a test sees the Job run before it ends), or
 * runs until SIGTERM.
 */
const PROGRAM = `
import { existsSync } from 'node:fs';
const behaviour = process.env.JOB_BEHAVIOUR;
if (behaviour.startsWith('exit:')) process.exit(Number(behaviour.slice(5)));
if (behaviour.startsWith('exit-on-go:')) {
  const go = new URL('go', import.meta.url);
  setInterval(() => { if (existsSync(go)) process.exit(Number(behaviour.slice(11))); }, 20);
}
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
`;

const spec = (queueId: string): LiveJobSpec => ({
  queue_id: queueId,
  type: 'ws_trades',
  market: 'spot',
  symbols: ['BTCUSDT'],
  collection_name: 'btcusdt_ws_trades_2026_11_28',
  kafka_topic: 'data-trades',
  telemetry_id: 'loader-ws__a1b2c3',
});

interface Setup {
  dir: string;
  entry: string;
  sink: RecordingSink;
  launcher(behaviour: string): LocalJobLauncher;
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'local-job-events-'));
  const entry = join(dir, 'program.mjs');
  writeFileSync(entry, PROGRAM);
  const sink = await startRecordingSink();
  const source = startLocalJobSource({
    stateDir: dir,
    namespace: 'streamforge',
    source: 'http://127.0.0.1:1',
    deliver: deliverTo(sink.url, { logger, backoffBaseMs: 20 }),
    logger,
    pollMs: 50,
  });
  const launchers: LocalJobLauncher[] = [];
  t.after(async () => {
    await source.close();
    // No stack here: close() stops the Jobs, as when the stack goes down.
    for (const l of launchers) await l.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    entry,
    sink,
    launcher(behaviour) {
      const launcher = new LocalJobLauncher({
        stateDir: dir,
        entry,
        backoffBaseMs: 20,
        pollMs: 50,
        logger,
        env: { PATH: process.env.PATH, JOB_BEHAVIOUR: behaviour },
      });
      launchers.push(launcher);
      return launcher;
    },
  };
}

const of = (sink: RecordingSink, queueId: string): RecordedRequest[] =>
  sink.accepted.filter(
    (r) => r.headers['ce-subject'] === `/apis/batch/v1/namespaces/streamforge/jobs/${jobNameOf(queueId)}`,
  );
const jobOf = (r: RecordedRequest): JobObject => JSON.parse(r.body) as JobObject;
const ended = (sink: RecordingSink, queueId: string) =>
  of(sink, queueId).find((r) => jobStatusOf(jobOf(r)).state !== 'running');

test('a Job whose process exits with the FailJob code: an add, then an update whose Job has a Failed condition with the reason', async (t) => {
  const { dir, sink, launcher } = await setup(t);
  const id = 'wf-btcusdt-ws_trades-20261128-f2f2f2';
  await launcher('exit-on-go:2').launch(spec(id));
  // The process exits only once the source has sent the running Job: otherwise one read may
  // find the file already failed, and a single add carries the Failed condition.
  const added = await waitFor('the add', () => of(sink, id)[0]);
  assert.equal(added.headers['ce-type'], JOB_EVENT_TYPES.add);
  assert.equal(jobStatusOf(jobOf(added)).state, 'running');
  writeFileSync(join(dir, 'go'), '');
  const failed = await waitFor('the Failed Job', () => ended(sink, id));
  assert.equal(failed.headers['ce-type'], JOB_EVENT_TYPES.update);
  assert.equal(failed.headers['ce-specversion'], '1.0');
  assert.equal(failed.headers['ce-source'], 'http://127.0.0.1:1');
  assert.match(String(failed.headers['content-type']), /^application\/json/);
  const job = jobOf(failed);
  assert.equal(job.kind, 'Job');
  assert.equal(job.metadata?.labels?.['app.kubernetes.io/name'], 'loader-ws', 'the template’s labels');
  assert.equal(job.metadata?.annotations?.['streamforge.dev/queue-id'], id);
  const condition = job.status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(condition?.status, 'True');
  assert.equal(condition?.reason, 'PodFailurePolicy');
  assert.match(condition?.message ?? '', /^container loader-ws exit code 2 matches a FailJob rule/);
  assert.deepEqual(
    { ...jobStatusOf(job), reason: jobStatusOf(job).reason?.split(';')[0] },
    {
      name: jobNameOf(id),
      queueId: id,
      state: 'failed',
      reason: 'PodFailurePolicy: container loader-ws exit code 2 matches a FailJob rule',
    },
  );
});

test('a Job that exits 0 is Complete; a running Job stopped by the manager is a delete', async (t) => {
  const { sink, launcher } = await setup(t);
  const done = 'wf-btcusdt-ws_trades-20261128-c3c3c3';
  await launcher('exit:0').launch(spec(done));
  const complete = await waitFor('the Complete Job', () => ended(sink, done));
  assert.equal(jobStatusOf(jobOf(complete)).state, 'succeeded');

  const running = 'wf-ethusdt-ws_trades-20261128-d4d4d4';
  const manager = launcher('run');
  await manager.launch(spec(running));
  await waitFor('its add', () => of(sink, running).length >= 1);
  assert.equal(await manager.stop(running), true);
  const deleted = await waitFor('its delete', () =>
    of(sink, running).find((r) => r.headers['ce-type'] === JOB_EVENT_TYPES.delete),
  );
  assert.equal(jobStatusOf(jobOf(deleted)).state, 'running', 'deleted while it ran (after its workflow was stopped)');
});

test('a Job that dies after its manager instance is gone is taken over by the platform, and its failure is sent', async (t) => {
  const { dir, entry, sink, launcher } = await setup(t);
  const id = 'wf-btcusdt-ws_trades-20261128-e5e5e5';
  // The Job as a manager instance that has since scaled in left it: running, its owner gone.
  const job = spawn(process.execPath, [entry], { env: { ...process.env, JOB_BEHAVIOUR: 'run' }, stdio: 'ignore' });
  t.after(() => job.kill('SIGKILL'));
  const gone = spawn(process.execPath, ['-e', '']);
  const owner = await new Promise<number>((resolve) => gone.once('exit', () => resolve(gone.pid!)));
  mkdirSync(join(dir, 'jobs'), { recursive: true });
  writeFileSync(
    join(dir, 'jobs', `${jobNameOf(id)}.json`),
    JSON.stringify({ pid: job.pid, owner, spec: spec(id), started_at: new Date().toISOString() }),
  );
  // The platform's own launcher (job-event-sources.ts), whose runs exit with the FailJob code.
  launcher('exit:2');
  await waitFor('the add', () => of(sink, id).length >= 1);
  job.kill('SIGKILL');
  const failed = await waitFor('the failure after the takeover', () => ended(sink, id), { timeoutMs: 20_000 });
  assert.equal(jobStatusOf(jobOf(failed)).state, 'failed');
  assert.match(jobStatusOf(jobOf(failed)).reason ?? '', /^PodFailurePolicy: /);
});
