/** The header's connection badge; its data-state is what the browser tests wait on. */
import { byId } from './dom.ts';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export function setConnection(state: ConnectionState, label: string): void {
  const badge = byId('connection');
  badge.className = `conn conn-${state}`;
  badge.dataset.state = state;
  badge.textContent = label;
}
