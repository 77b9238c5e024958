/**
 * A small seeded PRNG, so that one seed gives one training run (weights, dropout masks,
 * splits) on every machine. xoshiro128** (Blackman & Vigna 2018) seeded through
 * splitmix32: 32-bit integer arithmetic only, which V8 keeps in registers, and fast enough
 * to draw one number per nonzero of CiteSeer's feature matrix every epoch.
 */

import { MAX_SEED } from '@streamforge/core/requests';

export { MAX_SEED };

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads any seed (even 0) into four well-mixed nonzero words.
      x = (x + 0x9e37_79b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    const t = s1 << 9;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    this.s2 = s2 ^ t;
    this.s3 = rotl(s3, 11);
    return r >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextU32() / 4_294_967_296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fills `out` with uniform unsigned 32-bit integers (dropout draws one per entry). */
  fillU32(out: Uint32Array, count: number = out.length): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < count; i++) {
      s2 ^= s0;
      s3 ^= s1;
      const t = s1 << 9;
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Shuffles `values` in place (Fisher–Yates). */
  shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function createRng(seed: number): Rng {
  return new Rng(seed);
}

/**
 * The integer threshold under which a uniform 32-bit draw means "keep" for dropout rate
 * `rate`: comparing integers avoids a division per draw.
 */
export function keepThreshold(rate: number): number {
  return Math.round((1 - rate) * 4_294_967_296);
}
