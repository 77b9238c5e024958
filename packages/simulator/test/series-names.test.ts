/**
 * The simulator's series names come from PAGE_KIND_NAMES: pinned here to the names Binance uses,
 * so a slip in the table fails a test instead of passing unnoticed on both sides of the archive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARCHIVE_KINDS, hasInterval, type ArchiveKind } from '../src/archive-paths.ts';
import { PRICE_SERIES, type PriceSeries } from '../src/futures-series.ts';

/** True only when A and B are the same type (not merely assignable), checked by the typecheck. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const PRICES = ['markPriceKlines', 'indexPriceKlines', 'premiumIndexKlines'] as const;
const KINDS = [
  'aggTrades',
  'fundingRate',
  'indexPriceKlines',
  'klines',
  'markPriceKlines',
  'metrics',
  'premiumIndexKlines',
  'trades',
] as const;

test('the price series are the three price-kline endpoints, in order, with their literal type', () => {
  const exact: Equal<PriceSeries, (typeof PRICES)[number]> = true;
  assert.equal(exact, true);
  assert.deepEqual(PRICE_SERIES, PRICES);
});

test('the archive kinds are every series the archive holds, sorted, with their literal type', () => {
  const exact: Equal<ArchiveKind, (typeof KINDS)[number]> = true;
  assert.equal(exact, true);
  assert.deepEqual(ARCHIVE_KINDS, KINDS);
});

test('klines and the price series are per interval, the other kinds not', () => {
  assert.deepEqual(
    KINDS.filter((kind) => hasInterval(kind)),
    ['indexPriceKlines', 'klines', 'markPriceKlines', 'premiumIndexKlines'],
  );
});
