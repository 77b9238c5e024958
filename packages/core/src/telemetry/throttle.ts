/**
 * Telemetry is cumulative (counts read from the store), so between two reports nothing is
 * lost by skipping the ones in between: a report per key at most every `intervalMs`, and
 * always the ones that must not be skipped (a final status).
 */
export interface ReportThrottle {
  /** Whether to report now for this key (and, if so, remember that it did). */
  due(key: string, force?: boolean): boolean;
}

export function createReportThrottle(intervalMs: number, clock: () => number = Date.now): ReportThrottle {
  const last = new Map<string, number>();
  return {
    due(key, force = false) {
      const now = clock();
      const previous = last.get(key);
      if (!force && previous !== undefined && now - previous < intervalMs) return false;
      last.set(key, now);
      // Keys are workflows: forget the ones that went quiet, so a long-lived instance stays small.
      if (last.size > 10_000) for (const [k, at] of last) if (now - at > 60_000) last.delete(k);
      return true;
    },
  };
}
