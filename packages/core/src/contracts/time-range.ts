/**
 * `time_range` is `YYYY-MM-DD:YYYY-MM-DD` in UTC: the start day included from 00:00, the end
 * day excluded from 00:00 (so one day of 5m candles is 288 candles).
 */
import { StreamForgeError } from '../errors.ts';

export const TIME_RANGE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}:\\d{4}-\\d{2}-\\d{2}$';

export interface TimeRange {
  startMs: number;
  endMs: number;
  startDate: string;
  endDate: string;
}

function invalid(value: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `time_range: "${value}" ${reason}`, {
    details: { errors: [{ field: 'time_range', reason }] },
  });
}

function dayStart(value: string, day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  // Date.parse rolls 2024-02-30 into March; a real date prints back the same.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day)
    throw invalid(value, `has a day that does not exist: ${day}`);
  return ms;
}

export function parseTimeRange(value: string): TimeRange {
  if (!new RegExp(TIME_RANGE_PATTERN).test(value))
    throw invalid(value, 'must look like YYYY-MM-DD:YYYY-MM-DD (UTC, end day excluded)');
  const [startDate, endDate] = value.split(':') as [string, string];
  const startMs = dayStart(value, startDate);
  const endMs = dayStart(value, endDate);
  if (endMs < startMs) throw invalid(value, `is reversed: end ${endDate} is before start ${startDate}`);
  if (endMs === startMs)
    throw invalid(value, `is empty: the end day ${endDate} is excluded, so it must be after the start day`);
  return { startMs, endMs, startDate, endDate };
}
