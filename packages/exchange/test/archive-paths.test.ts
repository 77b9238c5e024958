/** The per-interval archive kinds come from PAGE_KIND_NAMES: pinned here to Binance's folder names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INTERVAL_ARCHIVE_KINDS, isIntervalArchiveKind, type IntervalArchiveKind } from '../src/archive.ts';

/** True only when A and B are the same type (not merely assignable), checked by the typecheck. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const INTERVAL_KINDS = ['klines', 'markPriceKlines', 'indexPriceKlines', 'premiumIndexKlines'] as const;

test('the per-interval archive kinds are klines and the three price series, with their literal type', () => {
  const exact: Equal<IntervalArchiveKind, (typeof INTERVAL_KINDS)[number]> = true;
  assert.equal(exact, true);
  assert.deepEqual(INTERVAL_ARCHIVE_KINDS, INTERVAL_KINDS);
  for (const kind of ['aggTrades', 'trades', 'fundingRate', 'metrics', 'markPriceKline'])
    assert.equal(isIntervalArchiveKind(kind), false, kind);
});
