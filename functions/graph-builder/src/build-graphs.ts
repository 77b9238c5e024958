/**
 * graph-builder's work for one start command: read the symbols' stored candles, build every
 * window's graph, write it through the store (each window replaced atomically, so running
 * the same request again rewrites the same graph set), and report telemetry: `started`,
 * `loading` with windows done of total (cumulative, throttled), `finished` with the counts.
 *
 * The set is saved `building` first (dropping windows a larger earlier build left), then
 * `complete` once every window is written: a trainer only takes complete sets.
 */
import type { StartCommand } from '@streamforge/core/contracts';
import { describeRequest, parseGraphRequest, type GraphRequest } from '@streamforge/core/requests';
import type { Store } from '@streamforge/core/store';
import { createReportThrottle, type Logger } from '@streamforge/core/telemetry';
import { commandTelemetryBase, reportFinalFailure, type TelemetryEmitter } from '@streamforge/core/bus';
import { alignedCandles } from './candles.ts';
import { FEATURE_NAMES, buildWindow, planWindows } from './window-features.ts';

export const SERVICE = 'graph-builder';
const reports = createReportThrottle(500);

export interface BuilderDeps {
  store: Store;
  telemetry: TelemetryEmitter;
  logger: Logger;
  clock?: () => number;
}

export interface BuildSummary {
  graphId: string;
  windows: number;
  vertices: number;
  edges: number;
  labelled: number;
}

/** Builds and stores the graph set a request describes (no telemetry: buildGraphs reports). */
export async function buildGraphSet(
  deps: Pick<BuilderDeps, 'store' | 'clock'>,
  request: GraphRequest,
  onWindow?: (done: number, total: number) => Promise<void>,
): Promise<BuildSummary> {
  const now = (deps.clock ?? Date.now)();
  const { timeline, series } = await alignedCandles(
    deps.store,
    request.sources,
    request.interval,
    request.range.startMs,
    request.range.endMs,
  );
  const spans = planWindows(timeline.openTimes.length, request.window, request.step);
  const existing = await deps.store.getGraphSet(request.graphId);
  const set = {
    graph_id: request.graphId,
    status: 'building' as const,
    windows: spans.length,
    feature_names: [...FEATURE_NAMES],
    symbols: request.symbols,
    params: describeRequest(request),
    created_at: existing?.created_at ?? now,
    updated_at: now,
  };
  await deps.store.saveGraphSet(set);
  const summary: BuildSummary = { graphId: request.graphId, windows: spans.length, vertices: 0, edges: 0, labelled: 0 };
  for (const span of spans) {
    const window = buildWindow(request.graphId, timeline, series, span, request);
    await deps.store.writeGraphWindow(window);
    summary.vertices += window.vertices.length;
    summary.edges += window.edges.length;
    summary.labelled += window.vertices.filter((v) => v.label !== null).length;
    await onWindow?.(span.index + 1, spans.length);
  }
  await deps.store.saveGraphSet({
    ...set,
    status: 'complete',
    params: { ...set.params, vertices: summary.vertices, edges: summary.edges, labelled: summary.labelled },
    updated_at: (deps.clock ?? Date.now)(),
  });
  return summary;
}

/** Handles a start command addressed to graph-builder, from first to last telemetry. */
export async function buildGraphs(deps: BuilderDeps, command: StartCommand): Promise<BuildSummary | undefined> {
  const base = commandTelemetryBase(command, SERVICE);
  const workflow = await deps.store.getWorkflow(command.queue_id);
  // A stopped or failed workflow builds nothing (a redelivered start after a stop).
  if (workflow && (workflow.status === 'stopped' || workflow.status === 'error')) return undefined;
  let request: GraphRequest;
  try {
    request = parseGraphRequest(command);
  } catch (error) {
    await deps.telemetry.emit({
      ...base,
      status: 'error',
      message: (error as Error).message,
      error: { code: 'SF_CONTRACT_INVALID', message: (error as Error).message, retryable: false },
    });
    throw error;
  }
  await deps.telemetry.emit({
    ...base,
    status: 'started',
    message: `building ${request.graphId}: ${request.symbols.length} symbols, ${request.interval} bars, window ${request.window}, step ${request.step}`,
    graph_id: request.graphId,
  });
  let summary: BuildSummary;
  try {
    summary = await buildGraphSet(deps, request, async (done, total) => {
      if (done === total || !reports.due(command.queue_id)) return;
      await deps.telemetry.emit({
        ...base,
        status: 'loading',
        message: `window ${done}/${total}`,
        progress: { done, total, unit: 'windows' },
        graph_id: request.graphId,
      });
    });
  } catch (error) {
    // What trying again cannot fix (its code's disposition: no candles stored) fails the workflow;
    // the rest is retried.
    await reportFinalFailure(deps.telemetry, base, error);
    throw error;
  }
  await deps.telemetry.emit({
    ...base,
    status: 'finished',
    message: `graph ${summary.graphId}: ${summary.windows} windows, ${summary.vertices} vertices, ${summary.edges} edges, ${summary.labelled} labelled`,
    progress: { done: summary.windows, total: summary.windows, unit: 'windows' },
    records_written: summary.vertices + summary.edges,
    graph_id: summary.graphId,
    windows: summary.windows,
    vertices: summary.vertices,
    edges: summary.edges,
  });
  deps.logger.info({ queue_id: command.queue_id, ...summary }, 'graph set built');
  return summary;
}
