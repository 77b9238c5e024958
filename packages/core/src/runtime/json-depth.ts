/**
 * A bound on how deep a JSON body nests, checked on the text before anything walks the value.
 * JSON.parse takes any depth, but what walks a value recursively afterwards (JSON.stringify
 * into the store, schema checks, structuredClone) overflows the stack a few thousand levels
 * down: a 500, which a KafkaSource retries as if the event could succeed later.
 */

/** Far deeper than any StreamForge event or request (a data batch nests 4 levels, a dead letter one envelope more). */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text nests objects and arrays deeper than `limit`; one pass, strings skipped. */
export function jsonNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
