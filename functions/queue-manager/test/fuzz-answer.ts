/** The rule both fuzz tests hold every answer to: never a 5xx, and a 4xx names its error and says why. */
import assert from 'node:assert/strict';

export interface Refusal {
  error?: string;
  message?: string;
}

/** Counts the status; returns the refusal of a 4xx, undefined for a 2xx/3xx. */
export function checkAnswer(status: number, text: string, statuses: Map<number, number>): Refusal | undefined {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  assert.ok(status < 500, `${status}: ${text.slice(0, 500)}`);
  if (status < 400) return undefined;
  const answer = JSON.parse(text) as Refusal;
  assert.match(answer.error ?? '', /^SF_[A-Z_]+$/, text.slice(0, 500));
  assert.ok((answer.message ?? '').length > 0, `a ${status} says why: ${text.slice(0, 500)}`);
  return answer;
}
