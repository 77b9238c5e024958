/**
 * The console's fan-out: every browser connected to `/console/stream` is a client; a
 * workflow change is pushed to all of them as a Server-Sent Event, once per version (the
 * store bumps `version` on every change, so a version already pushed, whichever path it
 * came by, is not pushed again). Changes come from this instance's manager (at once) and
 * from the event tail (changes other instances made; see event-tail.ts).
 */
import type { WorkflowRecord } from '@streamforge/core/store';
import { Gauge, Counter, type Registry } from '@streamforge/core/telemetry';

export interface ConsoleClient {
  /** Writes one SSE message; false when the client is gone. */
  send(event: string, data: unknown): boolean;
  close(): void;
}

export interface WorkflowHub {
  subscribe(client: ConsoleClient): () => void;
  clients(): number;
  /** Pushes the workflow unless this version (or a later one) was pushed already. */
  publish(workflow: WorkflowRecord): void;
  /** Pushes a message that is not a workflow (platform status, resync) to every client. */
  broadcast(event: string, data: unknown): void;
  lastVersion(queueId: string): number | undefined;
  /** Telemetry this instance applied itself: the tail need not look it up. */
  markApplied(eventId: string): void;
  wasApplied(eventId: string): boolean;
  /** Listeners run when the first client arrives (the tail and platform watch start lazily). */
  onFirstClient(listener: () => void): void;
  onLastClientGone(listener: () => void): void;
  closeAll(): void;
}

/** A Set that forgets its oldest entries beyond `max` (ids and versions of recent workflows). */
function boundedMap<V>(max: number): Map<string, V> & { remember(key: string, value: V): void } {
  const map = new Map<string, V>() as Map<string, V> & { remember(key: string, value: V): void };
  map.remember = (key, value) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > max) map.delete(map.keys().next().value as string);
  };
  return map;
}

export function createWorkflowHub(registry?: Registry): WorkflowHub {
  const clients = new Set<ConsoleClient>();
  const versions = boundedMap<number>(20_000);
  const applied = boundedMap<true>(20_000);
  const firstListeners: Array<() => void> = [];
  const goneListeners: Array<() => void> = [];
  const registers = registry ? [registry] : [];
  const connected = new Gauge({
    name: 'streamforge_console_clients',
    help: 'Browsers connected to the console stream.',
    registers,
  });
  const pushes = new Counter({
    name: 'streamforge_console_pushes_total',
    help: 'Messages pushed to console clients, by event.',
    labelNames: ['event'],
    registers,
  });

  const sendAll = (event: string, data: unknown) => {
    for (const client of clients) if (!client.send(event, data)) clients.delete(client);
    pushes.inc({ event });
    connected.set(clients.size);
  };

  return {
    subscribe(client) {
      clients.add(client);
      connected.set(clients.size);
      if (clients.size === 1) for (const l of firstListeners) l();
      return () => {
        if (!clients.delete(client)) return;
        connected.set(clients.size);
        if (clients.size === 0) for (const l of goneListeners) l();
      };
    },
    clients: () => clients.size,
    publish(workflow) {
      const last = versions.get(workflow.queue_id);
      if (last !== undefined && last >= workflow.version) return;
      versions.remember(workflow.queue_id, workflow.version);
      if (clients.size > 0) sendAll('workflow', workflow);
    },
    broadcast(event, data) {
      if (clients.size > 0) sendAll(event, data);
    },
    lastVersion: (queueId) => versions.get(queueId),
    markApplied: (eventId) => applied.remember(eventId, true),
    wasApplied: (eventId) => applied.has(eventId),
    onFirstClient: (listener) => {
      firstListeners.push(listener);
    },
    onLastClientGone: (listener) => {
      goneListeners.push(listener);
    },
    closeAll() {
      for (const client of clients) client.close();
      clients.clear();
      connected.set(0);
    },
  };
}
