/**
 * Prometheus metrics (prom-client). One registry per process with the default process
 * metrics, plus the counters and histograms every function shares. Names follow the
 * Prometheus conventions: `streamforge_` prefix, base units, `_total` for counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface FunctionMetrics {
  registry: Registry;
  eventsHandled: Counter<'type' | 'outcome'>;
  handlerDuration: Histogram<'type'>;
  recordsWritten: Counter<'collection'>;
  deadLettered: Counter<'source' | 'reason'>;
}

export interface MetricsOptions {
  service: string;
  instance?: string;
  /** Process metrics (CPU, heap, event loop); off in tests that make many registries. */
  defaultMetrics?: boolean;
}

export function createRegistry(options: MetricsOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service, ...(options.instance ? { instance: options.instance } : {}) });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

export function createFunctionMetrics(options: MetricsOptions): FunctionMetrics {
  const registry = createRegistry(options);
  return {
    registry,
    eventsHandled: new Counter({
      name: 'streamforge_events_handled_total',
      help: 'CloudEvents handled, by type and outcome (ok, failed, rejected).',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    handlerDuration: new Histogram({
      name: 'streamforge_handler_duration_seconds',
      help: 'Time a handler took per event.',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    recordsWritten: new Counter({
      name: 'streamforge_records_written_total',
      help: 'Records made durable in the store.',
      labelNames: ['collection'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'streamforge_dead_lettered_total',
      help: 'Events or records set aside with a reason instead of being processed.',
      labelNames: ['source', 'reason'],
      registers: [registry],
    }),
  };
}

export { Counter, Gauge, Histogram, Registry };
