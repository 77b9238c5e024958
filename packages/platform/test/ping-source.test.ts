/**
 * The local platform's PingSource: the schedules it runs (every N minutes, as cron fires them)
 * and refuses, and the CloudEvent it POSTs to a real HTTP sink on schedule: binary mode,
 * `dev.knative.sources.ping`, the PingSource's path as `source`, the manifest's data as the body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PING_EVENT_TYPE } from '@streamforge/core/contracts';
import { createLogger } from '@streamforge/core/telemetry';
import { startRecordingSink, waitFor } from '@streamforge/testing';
import { loadPingSources, PROJECT_ROOT } from '../src/index.ts';
import { nextTick, parseSchedule, startPingSource } from '../src/ping-source.ts';

const logger = createLogger({ service: 'ping-source-test', level: 'silent' });
const at = (iso: string) => Date.parse(iso);
const [deadlinePing] = loadPingSources(join(PROJECT_ROOT, 'knative'));

test('the deadline PingSource of knative/ is read as written', () => {
  assert.deepEqual(deadlinePing, {
    name: 'queue-manager-deadlines',
    namespace: 'streamforge',
    schedule: '*/5 * * * *',
    contentType: 'application/json',
    data: '{"check":"deadlines"}',
    sink: { kind: 'Service', name: 'queue-manager' },
  });
});

test('every N minutes fires at the minutes of the hour divisible by N, as cron does; other schedules are refused', () => {
  assert.equal(parseSchedule('*/5 * * * *', 'p'), 5);
  assert.equal(parseSchedule(' * * * * * ', 'p'), 1);
  assert.equal(nextTick(5, at('2026-12-07T10:03:20Z')), at('2026-12-07T10:05:00Z'));
  // On the boundary itself: the next one (that tick is being sent).
  assert.equal(nextTick(5, at('2026-12-07T10:05:00Z')), at('2026-12-07T10:10:00Z'));
  assert.equal(nextTick(5, at('2026-12-07T23:58:00Z')), at('2026-12-08T00:00:00Z'));
  // A step that does not divide the hour starts again at minute 0, as cron's does.
  assert.equal(nextTick(7, at('2026-12-07T10:56:30Z')), at('2026-12-07T11:00:00Z'));
  assert.equal(nextTick(1, at('2026-12-07T10:56:30Z')), at('2026-12-07T10:57:00Z'));
  for (const schedule of ['0 * * * *', '*/5 * * * 1', '*/0 * * * *', '*/60 * * * *', '@every 5m', '*/5 * * *'])
    assert.throws(
      () => parseSchedule(schedule, 'knative/x.yaml PingSource/p'),
      new RegExp(
        `^StreamForgeError: knative/x\\.yaml PingSource/p: schedule "${schedule.replace(/[*/]/g, '\\$&')}" is not one the local platform runs`,
      ),
      schedule,
    );
});

test('on its schedule it POSTs the PingSource event in binary mode, a new id each tick', async (t) => {
  const sink = await startRecordingSink();
  // A clock that is always 40 ms before a 5-minute boundary: each tick is due 40 ms later, not in minutes.
  let boundary = at('2026-12-07T10:05:00Z');
  const now = () => {
    boundary += 5 * 60_000;
    return boundary - 40;
  };
  const started = Date.now();
  const source = startPingSource({ spec: deadlinePing!, url: sink.url, logger, now });
  t.after(async () => {
    await source.close();
    await sink.close();
  });
  await waitFor('two ticks', () => sink.accepted.length >= 2, { timeoutMs: 10_000, intervalMs: 10 });
  assert.ok(sink.accepted[0]!.at - started < 5_000, 'the first tick came when the schedule said, not minutes later');
  const [first, second] = sink.accepted;
  for (const r of [first!, second!]) {
    assert.equal(r.headers['ce-specversion'], '1.0');
    assert.equal(r.headers['ce-type'], PING_EVENT_TYPE);
    assert.equal(r.headers['ce-type'], 'dev.knative.sources.ping');
    assert.equal(r.headers['ce-source'], '/apis/v1/namespaces/streamforge/pingsources/queue-manager-deadlines');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.body, '{"check":"deadlines"}');
  }
  assert.notEqual(first!.headers['ce-id'], second!.headers['ce-id']);
});

test('with a period set (STREAMFORGE_PING_PERIOD_MS) it ticks at that period; a tick the sink fails is sent again with the same id', async (t) => {
  // The first attempt of every tick answers 503 (a function not ready), the second 204.
  const sink = await startRecordingSink((_r, _n, attemptsForId) => (attemptsForId === 0 ? 503 : 204));
  const source = startPingSource({ spec: deadlinePing!, url: sink.url, logger, periodMs: 50 });
  t.after(async () => {
    await source.close();
    await sink.close();
  });
  await waitFor('three ticks delivered', () => sink.accepted.length >= 3, { timeoutMs: 10_000, intervalMs: 10 });
  for (const delivered of sink.accepted.slice(0, 3)) {
    const attempts = sink.requests.filter((r) => r.headers['ce-id'] === delivered.headers['ce-id']);
    assert.deepEqual(
      attempts.map((r) => r.body),
      ['{"check":"deadlines"}', '{"check":"deadlines"}'],
    );
  }
  assert.throws(
    () => startPingSource({ spec: deadlinePing!, url: sink.url, logger, periodMs: 0 }),
    /the ping period must be a positive number of ms/,
  );
  assert.throws(
    () => startPingSource({ spec: { ...deadlinePing!, timezone: 'Europe/Paris' }, url: sink.url, logger }),
    /runs schedules in UTC only/,
  );
});

test('while held (STREAMFORGE_PING_HOLD_FILE) its ticks are skipped; once released they are sent', async (t) => {
  const sink = await startRecordingSink();
  let asked = 0;
  let holding = true;
  const held = () => {
    asked += 1;
    return holding;
  };
  const source = startPingSource({ spec: deadlinePing!, url: sink.url, logger, periodMs: 20, held });
  t.after(async () => {
    await source.close();
    await sink.close();
  });
  await waitFor('three ticks held', () => asked >= 3, { timeoutMs: 10_000, intervalMs: 10 });
  assert.deepEqual(sink.requests, [], 'nothing sent while held');
  holding = false;
  await waitFor('a tick sent once released', () => sink.accepted.length >= 1, { timeoutMs: 10_000, intervalMs: 10 });
});
