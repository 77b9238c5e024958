/** The line under the start form: what the last action did, or why it failed. */
import { byId } from './dom.ts';

export function showResult(text: string, isError: boolean): void {
  const line = byId('form-result');
  line.textContent = text;
  line.className = isError ? 'error' : 'ok';
}
