/**
 * Edges of a window's graph: symbols joined by the correlation of their log returns over the
 * window (Mantegna 1999; THGNN uses a rolling 20-day window), Pearson or Spearman (rank
 * correlation, more robust to crypto's outliers: Millington & Niranjan 2020). Only bars where
 * both symbols have a return count, and a pair needs `minReturns` of them.
 *
 * The graph is undirected with weight |ρ| (the GCN's Â needs positive weights); the signed ρ
 * stays on the edge as an attribute. Two ways to choose edges:
 * - top_k: each vertex keeps its k strongest |ρ| (ties by symbol), and a pair is an edge when
 *   either end keeps it, so every vertex has degree ≥ k (when it has k partners);
 * - threshold: every pair with |ρ| ≥ min_abs_correlation.
 */
import type { CorrelationMethod, EdgePolicy } from '@streamforge/core/requests';
import type { GraphEdge } from '@streamforge/core/store';

export type { CorrelationMethod, EdgePolicy };

/** Pearson's ρ of two equally long samples; undefined when either is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number | undefined {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return undefined;
  // Rounding can push |ρ| of (anti)proportional series a hair past 1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Ranks 1…n, ties sharing their average rank (the usual Spearman convention). */
export function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = rank;
    i = j + 1;
  }
  return out;
}

/**
 * ρ of two return series aligned by bar (NaN = no return at that bar), over the bars where
 * both have one; undefined with fewer than `minReturns` such bars or a constant series.
 */
export function correlation(
  a: Float64Array,
  b: Float64Array,
  method: CorrelationMethod,
  minReturns: number,
): number | undefined {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!Number.isNaN(a[i]!) && !Number.isNaN(b[i]!)) {
      x.push(a[i]!);
      y.push(b[i]!);
    }
  }
  if (x.length < Math.max(3, minReturns)) return undefined;
  return method === 'spearman' ? pearson(ranks(x), ranks(y)) : pearson(x, y);
}

/** Edges among `symbols` (whose returns are `returns[i]`), chosen by `policy`, each pair once with from < to. */
export function correlationEdges(
  symbols: readonly string[],
  returns: readonly Float64Array[],
  policy: EdgePolicy,
  method: CorrelationMethod,
  minReturns: number,
): GraphEdge[] {
  const n = symbols.length;
  const rho: Array<Array<number | undefined>> = Array.from({ length: n }, () => new Array<number | undefined>(n));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const r = correlation(returns[i]!, returns[j]!, method, minReturns);
      rho[i]![j] = r;
      rho[j]![i] = r;
    }
  }
  const chosen = new Set<string>();
  const pair = (i: number, j: number): string => (symbols[i]! < symbols[j]! ? `${i},${j}` : `${j},${i}`);
  for (let i = 0; i < n; i++) {
    const candidates: number[] = [];
    for (let j = 0; j < n; j++) {
      const r = rho[i]![j];
      if (j !== i && r !== undefined && r !== 0) candidates.push(j);
    }
    if (policy.method === 'threshold') {
      for (const j of candidates) if (Math.abs(rho[i]![j]!) >= policy.min_abs_correlation) chosen.add(pair(i, j));
      continue;
    }
    candidates.sort((p, q) => Math.abs(rho[i]![q]!) - Math.abs(rho[i]![p]!) || (symbols[p]! < symbols[q]! ? -1 : 1));
    for (const j of candidates.slice(0, policy.k)) chosen.add(pair(i, j));
  }
  return [...chosen]
    .map((key) => key.split(',').map(Number) as [number, number])
    .map(
      ([i, j]): GraphEdge => ({
        from: symbols[i]!,
        to: symbols[j]!,
        weight: Math.abs(rho[i]![j]!),
        attributes: { correlation: rho[i]![j]! },
      }),
    )
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
}
