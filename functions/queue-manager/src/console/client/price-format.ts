/**
 * How many decimals a price scale shows, from the values it draws: a few significant digits
 * of the largest one. The chart library's default (2) shows a premium index (about ±0.0005)
 * as 0.00; BTC's mark price (60,000) keeps 2.
 */
export interface PriceFormat {
  type: 'price';
  precision: number;
  minMove: number;
}

/** Decimals for values up to `largest` in size: 4 significant digits, between 2 and 10. */
export function priceFormatFor(values: Iterable<number>): PriceFormat {
  let largest = 0;
  for (const v of values) if (Number.isFinite(v)) largest = Math.max(largest, Math.abs(v));
  const digits = largest > 0 ? Math.ceil(-Math.log10(largest)) + 3 : 2;
  const precision = Math.min(10, Math.max(2, digits));
  return { type: 'price', precision, minMove: 10 ** -precision };
}
