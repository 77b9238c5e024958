/**
 * Bounds on a request's `params`, checked before anything reads them. Params are settings
 * handed on to a target (spread into its start command, stored with the workflow, shown in
 * every listing), not data: the deepest any target reads is 2 levels (graph_correlation's
 * `edges`), and a graph over a thousand symbols with their collections is about 60 KiB.
 */
import type { FieldError } from '@streamforge/core/contracts';

/** Objects or arrays inside one another, `params` itself counted: 8 is four times what any target reads. */
export const PARAMS_MAX_DEPTH = 8;
/** As JSON: room for any real setting, and a start command stays far inside one Kafka record (1 MiB). */
export const PARAMS_MAX_BYTES = 256 * 1024;

/** How deep a JSON value nests, counting no further than `limit + 1` (without recursion: any depth is safe). */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth);
    if (depth > limit) return deepest;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** What is wrong with a request's params (field `params`), or undefined. */
export function paramsProblem(params: Record<string, unknown>): FieldError | undefined {
  if (depthOf(params, PARAMS_MAX_DEPTH) > PARAMS_MAX_DEPTH) {
    return {
      field: 'params',
      reason: `nests objects or arrays more than ${PARAMS_MAX_DEPTH} levels deep (no target reads more than 2)`,
    };
  }
  const bytes = Buffer.byteLength(JSON.stringify(params));
  if (bytes > PARAMS_MAX_BYTES) {
    return {
      field: 'params',
      reason: `is ${bytes} bytes as JSON, more than the ${PARAMS_MAX_BYTES} (${PARAMS_MAX_BYTES / 1024} KiB) a workflow's params may take`,
    };
  }
  return undefined;
}
