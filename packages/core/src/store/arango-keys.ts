/**
 * Deterministic ArangoDB `_key`s. A `_key` is 1–254 bytes of `A–Z a–z 0–9 _ - . @ ( ) + , = ;
 * $ ! * ' % :` (ArangoDB docs, concepts/data-structure/documents). Record keys follow the same
 * rule by contract (records.ts), so a record's `_key` is its key and `_key` order is key
 * order; anything else is hashed, so a redelivery still lands on the same document.
 */
import { createHash } from 'node:crypto';

// ASCII only, so the length in characters is the length in bytes.
const KEY = /^[A-Za-z0-9_\-.@()+,=;$!*'%:]{1,254}$/;

export function isValidArangoKey(key: string): boolean {
  return KEY.test(key);
}

function hashed(text: string): string {
  return `h_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}

/** The `_key` of a record key: itself when valid, else `h_` and 40 hex digits of its SHA-256. */
export function arangoKey(key: string): string {
  return isValidArangoKey(key) ? key : hashed(key);
}

/**
 * A `_key` made of several parts, readable (`queue:3:0`) when no part holds a `:` and the
 * result is valid, hashed otherwise; the two forms cannot meet (hashes hold no `:`).
 */
export function compositeKey(parts: ReadonlyArray<string | number>): string {
  const texts = parts.map(String);
  if (texts.every((t) => !t.includes(':'))) {
    const joined = texts.join(':');
    if (isValidArangoKey(joined)) return joined;
  }
  return hashed(JSON.stringify(texts));
}

/** A document as the port returns it: without the server's `_key`, `_id` and `_rev`. */
export function withoutMeta<T>(doc: Record<string, unknown>): T {
  const { _key: _k, _id: _i, _rev: _r, ...rest } = doc;
  return rest as T;
}
