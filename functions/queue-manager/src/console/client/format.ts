/** How the page writes times, counts and statuses. */
import type { Progress } from './wire.ts';

const FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'error', 'stopped']);

export function isFinal(status: string): boolean {
  return FINAL_STATUSES.has(status);
}

/** Wall-clock time of a moment in ms, 24-hour; '' for none. */
export function time(ms: number | null | undefined): string {
  return ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) : '';
}

/** A count with thin groups (1 234 567); '' for none. */
export function fmt(n: number | null | undefined): string {
  return n == null ? '' : Number(n).toLocaleString('en-US').replace(/,/g, ' ');
}

/** `done/total unit`, or `done unit` when the total is unknown; then the bytes, where the work moves files. */
export function progressText(p: Progress): string {
  const bytes = p.bytes
    ? `, ${megabytes(p.bytes.done)}${p.bytes.total != null ? `/${megabytes(p.bytes.total)}` : ''} MB`
    : '';
  return `${p.done + (p.total != null ? `/${p.total}` : '')} ${p.unit}${bytes}`;
}

/** Bytes as decimal megabytes with one decimal, as download sizes are usually given. */
const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);
