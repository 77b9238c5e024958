import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlation, correlationEdges, pearson, ranks } from '../src/correlation-edges.ts';
import {
  FEATURE_NAMES,
  buildWindow,
  nextWindowLabel,
  planWindows,
  vertexFeatures,
  windowReturns,
  type AlignedSeries,
  type Bar,
  type Timeline,
} from '../src/window-features.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const timeline = (bars: number): Timeline => ({
  interval: '1h',
  openTimes: Array.from({ length: bars }, (_, i) => T0 + i * HOUR),
});
const bar = (close: number, high = close, low = close, quoteVolume = 1000): Bar => ({ close, high, low, quoteVolume });
const close = (a: number, b: number, digits = 12) => assert.ok(Math.abs(a - b) < 10 ** -digits, `${a} ≠ ${b}`);

test('windows of `window` bars every `step` bars, each whole', () => {
  assert.deepEqual(planWindows(10, 4, 3), [
    { index: 0, from: 0, to: 4 },
    { index: 1, from: 3, to: 7 },
    { index: 2, from: 6, to: 10 },
  ]);
  assert.deepEqual(planWindows(9, 4, 4), [
    { index: 0, from: 0, to: 4 },
    { index: 1, from: 4, to: 8 },
  ]);
  assert.deepEqual(planWindows(3, 4, 1), []);
});

test('a vertex’s features are, on a hand-computed window: mean and sample volatility of log returns, log volume, mean range, last return', () => {
  // Closes 100 → 110 → 99 → 99: returns ln 1.1, ln 0.9, 0.
  const series: AlignedSeries = {
    symbol: 'AAAUSDT',
    bars: [bar(100, 102, 98, 1000), bar(110, 111, 100, 3000), bar(99, 110, 99, 2000), bar(99, 99, 99, 0), bar(500)],
  };
  const span = { index: 0, from: 0, to: 4 };
  const returns = windowReturns(series, span);
  assert.ok(Number.isNaN(returns[0]!), 'the first bar has no return inside the window');
  const r = [Math.log(1.1), Math.log(0.9), 0];
  const mean = (r[0]! + r[1]! + r[2]!) / 3;
  const sd = Math.sqrt(((r[0]! - mean) ** 2 + (r[1]! - mean) ** 2 + (r[2]! - mean) ** 2) / 2);
  const features = vertexFeatures(series, span, returns, 3)!;
  assert.deepEqual(FEATURE_NAMES, ['mean_return', 'volatility', 'log_volume', 'mean_range', 'last_return']);
  close(features[0]!, mean);
  close(features[1]!, sd);
  close(features[2]!, Math.log(1 + (1000 + 3000 + 2000 + 0) / 4));
  close(features[3]!, (Math.log(102 / 98) + Math.log(111 / 100) + Math.log(110 / 99) + 0) / 4);
  assert.equal(features[4], 0);
  assert.equal(vertexFeatures(series, span, returns, 4), undefined, 'fewer returns than min_returns: no vertex');
});

test('a missing candle is a gap: the returns on either side of it are missing, not interpolated', () => {
  const series: AlignedSeries = { symbol: 'AAAUSDT', bars: [bar(100), bar(110), undefined, bar(121), bar(133.1)] };
  const returns = [...windowReturns(series, { index: 0, from: 0, to: 5 })];
  assert.deepEqual(
    returns.map((x) => (Number.isNaN(x) ? 'gap' : x.toFixed(6))),
    ['gap', Math.log(1.1).toFixed(6), 'gap', 'gap', Math.log(1.1).toFixed(6)],
  );
});

test('the label is the direction from the window’s last close to the close `horizon` bars later, known at that bar’s close; none past the data', () => {
  const series: AlignedSeries = { symbol: 'AAAUSDT', bars: [bar(100), bar(101), bar(102), bar(99), bar(98), bar(103)] };
  const t = timeline(6);
  assert.deepEqual(nextWindowLabel(series, { index: 0, from: 0, to: 3 }, t, 2), {
    class: 0,
    value: Math.log(98 / 102),
    known_at: T0 + 5 * HOUR,
  });
  assert.deepEqual(nextWindowLabel(series, { index: 0, from: 0, to: 3 }, t, 3), {
    class: 1,
    value: Math.log(103 / 102),
    known_at: T0 + 6 * HOUR,
  });
  assert.equal(nextWindowLabel(series, { index: 1, from: 3, to: 6 }, t, 1), null);
});

test('Pearson and Spearman correlations on known samples; ties share their average rank', () => {
  assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.equal(pearson([1, 2, 3], [3, 2, 1]), -1);
  close(pearson([1, 2, 3, 4], [1, 3, 2, 4])!, 0.8);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), undefined, 'a constant series has no correlation');
  assert.deepEqual([...ranks([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
  const nan = Number.NaN;
  // Spearman: monotone but not linear is a perfect rank correlation; only bars both have count.
  assert.equal(correlation(Float64Array.of(nan, 1, 2, 3, 4), Float64Array.of(nan, 1, 8, 27, 64), 'spearman', 3), 1);
  assert.ok(correlation(Float64Array.of(nan, 1, 2, 3, 4), Float64Array.of(nan, 1, 8, 27, 64), 'pearson', 3)! < 1);
  assert.equal(
    correlation(Float64Array.of(nan, 1, nan, 3, 4), Float64Array.of(nan, 1, 2, nan, 4), 'pearson', 3),
    undefined,
    'two common returns are not enough',
  );
});

test('top-k keeps each vertex’s k strongest |ρ| (either end suffices), threshold keeps pairs at or above it; weight |ρ|, the sign on the edge', () => {
  const nan = Number.NaN;
  const returns = [
    Float64Array.of(nan, 1, 2, 3, 4), // A
    Float64Array.of(nan, 2, 4, 6, 8), // B: ρ(A,B) = 1
    Float64Array.of(nan, 4, 3, 1, 2), // C: ρ(A,C) = −0.8
    Float64Array.of(nan, 1, 3, 2, 4), // D: ρ(A,D) = 0.8
  ];
  const symbols = ['A', 'B', 'C', 'D'];
  const rho = (i: number, j: number) => pearson(returns[i]!.subarray(1), returns[j]!.subarray(1))!;
  const topOne = correlationEdges(symbols, returns, { method: 'top_k', k: 1 }, 'pearson', 3);
  // A and B pick each other; C's strongest is A or B (|−0.8|, tie broken by symbol: A); D likewise picks A (0.8 ties B, A first).
  assert.deepEqual(
    topOne.map((e) => `${e.from}-${e.to}`),
    ['A-B', 'A-C', 'A-D'],
  );
  assert.deepEqual(topOne[1], {
    from: 'A',
    to: 'C',
    weight: Math.abs(rho(0, 2)),
    attributes: { correlation: rho(0, 2) },
  });
  assert.ok(rho(0, 2) < 0);
  const threshold = correlationEdges(symbols, returns, { method: 'threshold', min_abs_correlation: 0.7 }, 'pearson', 3);
  assert.deepEqual(
    threshold.map((e) => `${e.from}-${e.to}`),
    ['A-B', 'A-C', 'A-D', 'B-C', 'B-D', 'C-D'].filter(
      (p) => Math.abs(rho(symbols.indexOf(p[0]!), symbols.indexOf(p[2]!))) >= 0.7,
    ),
  );
  assert.ok(threshold.every((e) => e.weight >= 0.7 && e.weight <= 1));
  assert.deepEqual(
    correlationEdges(symbols, returns, { method: 'threshold', min_abs_correlation: 1 }, 'pearson', 3).map(
      (e) => `${e.from}-${e.to}`,
    ),
    ['A-B'],
  );
});

test('a window’s graph has a vertex per symbol with enough data, bounds from its first open to its last close, edges among its vertices', () => {
  const t = timeline(8);
  const walk = (closes: number[]): AlignedSeries['bars'] => closes.map((c) => bar(c));
  const series: AlignedSeries[] = [
    { symbol: 'AAAUSDT', bars: walk([100, 101, 103, 102, 104, 106, 105, 107]) },
    { symbol: 'BBBUSDT', bars: walk([50, 50.6, 51.5, 51, 52.2, 53, 52.4, 53.6]) },
    { symbol: 'CCCUSDT', bars: [bar(10), undefined, undefined, undefined, bar(11), bar(12), bar(13), bar(12)] },
  ];
  const window = buildWindow(
    'g',
    t,
    series,
    { index: 0, from: 0, to: 4 },
    { edges: { method: 'top_k', k: 2 }, correlation: 'pearson', horizon: 4, minReturns: 3 },
  );
  assert.equal(window.start, T0);
  assert.equal(window.end, T0 + 4 * HOUR);
  assert.deepEqual(
    window.vertices.map((v) => v.symbol),
    ['AAAUSDT', 'BBBUSDT'],
    'CCCUSDT has no return in the window',
  );
  assert.deepEqual(window.vertices[0]!.label, { class: 1, value: Math.log(107 / 102), known_at: T0 + 8 * HOUR });
  assert.deepEqual(window.vertices[0]!.attributes, { bars: 4, returns: 3 });
  assert.deepEqual(
    window.edges.map((e) => [e.from, e.to]),
    [['AAAUSDT', 'BBBUSDT']],
  );
});
