import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type PlannedPart, planArchiveRange } from '../src/archive-plan.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const at = (iso: string): number => Date.parse(iso);

const shape = (parts: PlannedPart[]) =>
  parts.map((p) =>
    p.source === 'rest'
      ? `rest ${new Date(p.start).toISOString()}..${new Date(p.end).toISOString()}`
      : `${p.period} ${new Date(p.start).toISOString()}..${new Date(p.end).toISOString()}`,
  );

test('whole months come from monthly files, loose days from daily files, today from REST', () => {
  const parts = planArchiveRange({
    market: 'spot',
    kind: 'klines',
    interval: '1m',
    start: at('2024-01-30T00:00:00Z'),
    end: at('2024-04-03T12:00:00Z'),
    now: at('2024-04-03T12:00:00Z'),
  });
  assert.deepEqual(shape(parts), [
    'daily 2024-01-30T00:00:00.000Z..2024-01-31T00:00:00.000Z',
    'daily 2024-01-31T00:00:00.000Z..2024-02-01T00:00:00.000Z',
    'monthly 2024-02-01T00:00:00.000Z..2024-03-01T00:00:00.000Z',
    'monthly 2024-03-01T00:00:00.000Z..2024-04-01T00:00:00.000Z',
    'daily 2024-04-01T00:00:00.000Z..2024-04-02T00:00:00.000Z',
    'daily 2024-04-02T00:00:00.000Z..2024-04-03T00:00:00.000Z',
    // Today has no file yet.
    'rest 2024-04-03T00:00:00.000Z..2024-04-03T12:00:00.000Z',
  ]);
});

test("with the site's listing: a month without its file is read from its days, a day without one over REST", () => {
  const days = (from: string, count: number) =>
    Array.from({ length: count }, (_, i) => at(from) + i * DAY).filter((d) => d !== at('2024-03-05T00:00:00Z'));
  const parts = planArchiveRange({
    market: 'spot',
    kind: 'klines',
    interval: '1h',
    start: at('2024-02-01T00:00:00Z'),
    end: at('2024-04-01T00:00:00Z'),
    now: at('2024-06-01T00:00:00Z'),
    // February's monthly file is listed; March's is not, nor March 5th's daily file.
    listed: {
      monthly: new Map([[at('2024-02-01T00:00:00Z'), 2_000_000]]),
      daily: new Map(days('2024-02-01T00:00:00Z', 60).map((day) => [day, 70_000])),
    },
  });
  // Each file part carries its zip's listed size; a REST part has none.
  assert.deepEqual(
    parts.slice(0, 6).map((p) => (p.source === 'archive' ? p.bytes : p.source)),
    [2_000_000, 70_000, 70_000, 70_000, 70_000, 'rest'],
  );
  const shown = shape(parts);
  assert.equal(shown[0], 'monthly 2024-02-01T00:00:00.000Z..2024-03-01T00:00:00.000Z');
  assert.equal(shown.length, 1 + 31);
  assert.equal(shown[1], 'daily 2024-03-01T00:00:00.000Z..2024-03-02T00:00:00.000Z');
  assert.equal(shown[5], 'rest 2024-03-05T00:00:00.000Z..2024-03-06T00:00:00.000Z');
  assert.equal(shown[31], 'daily 2024-03-31T00:00:00.000Z..2024-04-01T00:00:00.000Z');
});

test('a range that starts or ends inside a day reads that day’s file for its part only', () => {
  const parts = planArchiveRange({
    market: 'usdm',
    kind: 'aggTrades',
    start: at('2023-03-05T06:30:00Z'),
    end: at('2023-03-06T01:00:00Z'),
    now: at('2024-01-01T00:00:00Z'),
  });
  assert.deepEqual(parts, [
    {
      source: 'archive',
      period: 'daily',
      periodStart: at('2023-03-05T00:00:00Z'),
      start: at('2023-03-05T06:30:00Z'),
      end: at('2023-03-06T00:00:00Z'),
    },
    {
      source: 'archive',
      period: 'daily',
      periodStart: at('2023-03-06T00:00:00Z'),
      start: at('2023-03-06T00:00:00Z'),
      end: at('2023-03-06T01:00:00Z'),
    },
  ]);
});

test('a month not yet published is read day by day, and days within the publication lag over REST', () => {
  const parts = planArchiveRange({
    market: 'spot',
    kind: 'klines',
    interval: '1h',
    start: at('2024-03-01T00:00:00Z'),
    end: at('2024-04-01T00:00:00Z'),
    // The month ended 30 minutes ago: its monthly file and its last day's file are not out yet.
    now: at('2024-04-01T00:30:00Z'),
    publishLagMs: HOUR,
  });
  assert.equal(parts.length, 31);
  assert.ok(parts.slice(0, 30).every((p) => p.source === 'archive' && p.period === 'daily'));
  assert.deepEqual(shape(parts.slice(30)), ['rest 2024-03-31T00:00:00.000Z..2024-04-01T00:00:00.000Z']);
});

test('intervals longer than a day have monthly files only: the rest of the range goes over REST', () => {
  const parts = planArchiveRange({
    market: 'spot',
    kind: 'klines',
    interval: '1w',
    start: at('2024-01-15T00:00:00Z'),
    end: at('2024-03-10T00:00:00Z'),
    now: at('2024-03-10T00:00:00Z'),
  });
  assert.deepEqual(shape(parts), [
    'monthly 2024-01-15T00:00:00.000Z..2024-02-01T00:00:00.000Z',
    'monthly 2024-02-01T00:00:00.000Z..2024-03-01T00:00:00.000Z',
    'rest 2024-03-01T00:00:00.000Z..2024-03-10T00:00:00.000Z',
  ]);
});

test('an empty or reversed range plans nothing', () => {
  const base = { market: 'spot', kind: 'klines', interval: '1m', now: at('2024-01-01T00:00:00Z') } as const;
  assert.deepEqual(planArchiveRange({ ...base, start: 5, end: 5 }), []);
  assert.deepEqual(planArchiveRange({ ...base, start: 6, end: 5 }), []);
});

test('for any range and clock, the parts cover the range exactly, in order, and only published files are read', () => {
  const from = at('2019-01-01T00:00:00Z');
  const span = 4 * 365 * DAY;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: span }),
      fc.integer({ min: 1, max: 400 * DAY }),
      fc.integer({ min: -30 * DAY, max: 500 * DAY }),
      fc.constantFrom('1s', '1m', '1h', '1d', '3d', '1w', '1M'),
      fc.integer({ min: 0, max: 2 * DAY }),
      (offset, length, nowAfterStart, interval, lag) => {
        const start = from + offset;
        const end = start + length;
        const now = start + nowAfterStart;
        const parts = planArchiveRange({
          market: 'spot',
          kind: 'klines',
          interval,
          start,
          end,
          now,
          publishLagMs: lag,
        });
        assert.equal(parts[0]?.start, start);
        assert.equal(parts.at(-1)?.end, end);
        for (const [i, part] of parts.entries()) {
          assert.ok(part.start < part.end, 'no empty part');
          if (i > 0) assert.equal(part.start, parts[i - 1]!.end, 'no gap, no overlap');
          if (i > 0 && part.source === 'rest') assert.notEqual(parts[i - 1]!.source, 'rest', 'REST parts are merged');
          if (part.source !== 'archive') continue;
          const periodEnd =
            part.period === 'daily'
              ? part.periodStart + DAY
              : Date.UTC(new Date(part.periodStart).getUTCFullYear(), new Date(part.periodStart).getUTCMonth() + 1, 1);
          assert.ok(part.periodStart <= part.start && part.end <= periodEnd, 'a part lies in its file');
          assert.ok(periodEnd + lag <= now, 'a file is read only once published');
        }
      },
    ),
    { seed: 20261207, numRuns: 500 },
  );
});
