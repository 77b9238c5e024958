/**
 * Deterministic randomness for the exchange simulator: counter-based hashes (the value for
 * candle i is computed from i alone, so any candle of any year costs the same) and a seeded
 * sequence for fault injection.
 */

/** FNV-1a of a string: the seed of a symbol's or a series' synthetic data. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of (seed, x, y); `x` may be any safe integer (e.g. a time in ms). */
export function hash32(seed: number, x: number, y = 0): number {
  let h = fmix32((seed ^ 0x9e3779b9) >>> 0);
  h = fmix32(h ^ (x >>> 0));
  h = fmix32((h ^ Math.floor(x / 4294967296) ^ 0x27d4eb2f) >>> 0);
  return fmix32((h ^ (y >>> 0)) >>> 0);
}

/** A uniform number in [0, 1) from (seed, x, y). */
export function unit(seed: number, x: number, y = 0): number {
  return hash32(seed, x, y) / 4294967296;
}

/** A seeded sequence of uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
