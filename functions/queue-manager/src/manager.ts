/**
 * The manager's work: register a workflow and publish its start command, stop it, and move
 * its status from telemetry. Storage and Kafka arrive as parameters.
 */
import { controlTopicOf, type EventProducer } from '@streamforge/shared/bus';
import { EVENT_TYPES, parseWorkflowType, sourceOf, telemetryEventContract, type StopCommand, type TelemetryEvent } from '@streamforge/shared/contracts';
import { StreamForgeError } from '@streamforge/shared/errors';
import type { Logger } from '@streamforge/shared/telemetry';
import type { EventPosition, ListWorkflowsOptions, Store, StoredEvent, WorkflowRecord } from '@streamforge/shared/store';
import { planWorkflow, type WorkflowRequest } from './workflow-request.ts';
import { applyStop, applyTelemetry, isFinal } from './workflow-state.ts';

export interface ManagerDeps {
  store: Store;
  producer: EventProducer;
  logger: Logger;
  clock?: () => number;
  /** Called after a workflow is registered and its start published (live streams start their Job here). */
  onStarted?(workflow: WorkflowRecord): Promise<void>;
  onStopped?(workflow: WorkflowRecord): Promise<void>;
  /**
   * Called once a change this instance made is durable: a workflow registered, stopped,
   * failed, or moved by telemetry (also when an event only joined the trail). The console
   * pushes it to browsers. Synchronous and must not block; what it throws is logged.
   */
  onChange?(workflow: WorkflowRecord, cause: WorkflowChange): void;
}

export interface WorkflowChange {
  kind: 'started' | 'stopped' | 'failed' | 'telemetry';
  /** The telemetry event's CloudEvent id. */
  eventId?: string;
}

export interface Manager {
  startWorkflow(request: WorkflowRequest): Promise<WorkflowRecord>;
  stopWorkflow(queueId: string, reason?: string): Promise<WorkflowRecord>;
  /** Applies one telemetry event (by CloudEvent id, so a redelivery is a no-op). */
  recordTelemetry(eventId: string, data: unknown): Promise<WorkflowRecord | undefined>;
  /** Marks a workflow failed for a reason the manager itself saw (a Job that died). */
  failWorkflow(queueId: string, reason: string): Promise<WorkflowRecord | undefined>;
  getWorkflow(queueId: string): Promise<WorkflowRecord>;
  listWorkflows(options: ListWorkflowsOptions): Promise<WorkflowRecord[]>;
  listEvents(queueId: string, limit: number, after?: EventPosition): Promise<StoredEvent[]>;
}

export function createManager(deps: ManagerDeps): Manager {
  const { store, producer, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const notify = (workflow: WorkflowRecord | undefined, cause: WorkflowChange): void => {
    if (!workflow || !deps.onChange) return;
    try {
      deps.onChange(workflow, cause);
    } catch (error) {
      logger.warn({ queue_id: workflow.queue_id, err: error }, 'change listener failed');
    }
  };

  /** Read, change, compare-and-set; again when another instance wrote in between. */
  async function update(queueId: string, change: (w: WorkflowRecord) => WorkflowRecord | undefined): Promise<WorkflowRecord | undefined> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = await store.getWorkflow(queueId);
      if (!current) return undefined;
      const next = change(current);
      if (!next) return current;
      if (await store.replaceWorkflow(next)) return next;
    }
    throw new StreamForgeError('SF_CONFLICT', `workflow ${queueId} is updated too often concurrently; try again`);
  }

  /** To error with a reason, unless the workflow already ended. */
  const failed = (reason: string) => (w: WorkflowRecord): WorkflowRecord | undefined =>
    isFinal(w.status) ? undefined : { ...w, status: 'error', error: reason, updated_at: clock(), version: w.version + 1 };

  async function getWorkflow(queueId: string): Promise<WorkflowRecord> {
    const workflow = await store.getWorkflow(queueId);
    if (!workflow) throw new StreamForgeError('SF_NOT_FOUND', `no workflow ${queueId}`);
    return workflow;
  }

  return {
    async startWorkflow(request) {
      const { workflow, plan, start } = planWorkflow(request, clock());
      await store.createWorkflow(workflow);
      notify(workflow, { kind: 'started' });
      try {
        if (workflow.collection_name && workflow.kafka_topic) await store.ensureCollection(workflow.collection_name);
      } catch (error) {
        // Never a workflow left pending behind a refusal: it ends with the reason.
        notify(await update(workflow.queue_id, failed(`collection ${workflow.collection_name} could not be created: ${(error as Error).message}`)), { kind: 'failed' });
        throw error;
      }
      try {
        await producer.send(controlTopicOf(plan.target), [start]);
      } catch (error) {
        const reason = `start command could not be published: ${(error as Error).message}`;
        // The send may have been written after all, and the workflow may already have ended.
        notify(await update(workflow.queue_id, failed(reason)), { kind: 'failed' });
        throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', reason, { cause: error });
      }
      logger.info({ queue_id: workflow.queue_id, type: workflow.type, symbol: workflow.symbol }, 'workflow started');
      await deps.onStarted?.(workflow);
      return workflow;
    },

    async stopWorkflow(queueId, reason = 'stopped by request') {
      const workflow = await getWorkflow(queueId);
      if (isFinal(workflow.status)) throw new StreamForgeError('SF_CONFLICT', `workflow ${queueId} is already ${workflow.status}`);
      const stop: StopCommand = { command: 'stop', queue_id: queueId, reason, timestamp: clock() / 1000 };
      await producer.send(controlTopicOf(parseWorkflowType(workflow.type).target), [{ id: `${queueId}:stop`, type: EVENT_TYPES.controlStop, source: sourceOf('queue-manager'), subject: queueId, partitionKey: workflow.symbol, data: stop }]);
      const stopped = (await update(queueId, (w) => applyStop(w, reason, clock()))) ?? workflow;
      notify(stopped, { kind: 'stopped' });
      logger.info({ queue_id: queueId, status: stopped.status }, 'workflow stop requested');
      await deps.onStopped?.(stopped);
      return stopped;
    },

    async recordTelemetry(eventId, data) {
      const event: TelemetryEvent = telemetryEventContract.parse(data);
      // Status first, trail second: applying an event twice changes nothing, so a crash in
      // between is repaired by the redelivery instead of losing the status change.
      let from: WorkflowRecord['status'] | undefined;
      const next = await update(event.queue_id, (w) => {
        from = w.status;
        return applyTelemetry(w, event, clock());
      });
      if (!next) {
        logger.debug({ queue_id: event.queue_id, status: event.status }, 'telemetry for no registered workflow');
        return undefined;
      }
      await store.appendEvent({ queue_id: event.queue_id, event_id: eventId, received_at: clock(), event });
      notify(next, { kind: 'telemetry', eventId });
      if (next.status !== from) logger.info({ queue_id: event.queue_id, from, to: next.status }, 'workflow status changed');
      return next;
    },

    async failWorkflow(queueId, reason) {
      const workflow = await update(queueId, failed(reason));
      notify(workflow, { kind: 'failed' });
      return workflow;
    },

    getWorkflow,
    listWorkflows: (options) => store.listWorkflows(options),
    async listEvents(queueId, limit, after) {
      await getWorkflow(queueId);
      return store.listEvents(queueId, { limit, ...(after === undefined ? {} : { after }) });
    },
  };
}
