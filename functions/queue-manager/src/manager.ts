/**
 * The manager's work: register a workflow and publish its start command, stop it, and move
 * its status from telemetry. Storage and Kafka arrive as parameters.
 */
import type { CloudEvent } from 'cloudevents';
import { controlTopicOf, type EventProducer } from '@streamforge/core/bus';
import {
  EVENT_TYPES,
  parseWorkflowType,
  sourceOf,
  telemetryEventContract,
  type StopCommand,
  type TelemetryEvent,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Logger } from '@streamforge/core/telemetry';
import type {
  DeadLetter,
  EventPosition,
  ListWorkflowsOptions,
  Store,
  StoredEvent,
  WorkflowRecord,
  WorkflowStatus,
} from '@streamforge/core/store';
import { deadLetterOf, replayEventOf } from './dead-letters.ts';
import { deadlinePolicyFromEnv, overdueReason, stallOf, withDeadline, type DeadlinePolicy } from './deadlines.ts';
import { planWorkflow, type WorkflowRequest } from './workflow-request.ts';
import { applyStop, applyTelemetry, isFinal } from './workflow-state.ts';

export interface ManagerDeps {
  store: Store;
  producer: EventProducer;
  logger: Logger;
  clock?: () => number;
  /** Pending and no-progress timeouts (WORKFLOW_PENDING_TIMEOUT, WORKFLOW_STALL_TIMEOUTS by default). */
  deadlines?: DeadlinePolicy;
  /**
   * What is still queued in Kafka that could move this workflow (its telemetry, its work), or
   * undefined when nothing is: a workflow past its deadline is not ended while something is.
   */
  backlog?(workflow: WorkflowRecord): Promise<string | undefined>;
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
  kind: 'started' | 'stopped' | 'failed' | 'telemetry' | 'dead-letter' | 'replayed';
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
  /**
   * Takes a dead letter back from a dead-letter topic: keeps it, counts it on its workflow,
   * and ends that workflow in `error` naming the reason and how to list and replay it.
   */
  recordDeadLetter(event: CloudEvent<unknown>): Promise<DeadLetter>;
  /**
   * Publishes dead letters (by id, or all not yet replayed of one workflow) to their original
   * topics again, after reopening their workflows; records keep their keys, so what lands
   * twice is stored once.
   */
  replayDeadLetters(selection: { queueId?: string; ids?: string[] }): Promise<ReplayResult>;
  /** Ends every pending or running workflow past its deadline; returns how many it ended. */
  endOverdue(): Promise<number>;
  /** The workflow, ended first if it is past its deadline. */
  getWorkflow(queueId: string): Promise<WorkflowRecord>;
  listWorkflows(options: ListWorkflowsOptions): Promise<WorkflowRecord[]>;
  listEvents(queueId: string, limit: number, after?: EventPosition): Promise<StoredEvent[]>;
}

export interface ReplayResult {
  /** More letters wait than one replay takes (REPLAY_BATCH): replay again. */
  more: boolean;
  replayed: string[];
  /** Dead letters left where they are, each with why. */
  skipped: Array<{ id: string; reason: string }>;
  /** Workflows moved from `error` back to `running` to take the replayed work. */
  reopened: string[];
}

/** A replay may name at most this many letters at once; a larger backlog is replayed in turns. */
export const REPLAY_BATCH = 1000;

const DEAD_LETTER_ERROR = /^\d+ events? of this workflow could not be processed and went to a dead-letter topic/;

export function createManager(deps: ManagerDeps): Manager {
  const { store, producer, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const deadlines = deps.deadlines ?? deadlinePolicyFromEnv();
  const notify = (workflow: WorkflowRecord | undefined, cause: WorkflowChange): void => {
    if (!workflow || !deps.onChange) return;
    try {
      deps.onChange(workflow, cause);
    } catch (error) {
      logger.warn({ queue_id: workflow.queue_id, err: error }, 'change listener failed');
    }
  };

  /** Read, change, compare-and-set; again when another instance wrote in between. */
  async function update(
    queueId: string,
    change: (w: WorkflowRecord) => WorkflowRecord | undefined | Promise<WorkflowRecord | undefined>,
  ): Promise<WorkflowRecord | undefined> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = await store.getWorkflow(queueId);
      if (!current) return undefined;
      const changed = await change(current);
      if (!changed) return current;
      // Every change renews the deadline: a workflow that moves is not stalled.
      const next = withDeadline(changed, deadlines, clock());
      if (await store.replaceWorkflow(next)) return next;
    }
    // Retried (a telemetry event comes again; an API caller gets 503): the other writers finish.
    throw new StreamForgeError('SF_BUSY', `workflow ${queueId} is updated too often concurrently; try again`);
  }

  /** To error with a reason, unless the workflow already ended. */
  const failed =
    (reason: string) =>
    (w: WorkflowRecord): WorkflowRecord | undefined =>
      isFinal(w.status)
        ? undefined
        : { ...w, status: 'error', error: reason, updated_at: clock(), version: w.version + 1 };

  /** Ends a workflow in error for a reason the manager saw (undefined: not now); a live one's Job is stopped too. */
  async function endWithError(
    queueId: string,
    reasonOf: (w: WorkflowRecord) => string | undefined | Promise<string | undefined>,
    kind: WorkflowChange['kind'] = 'failed',
  ): Promise<WorkflowRecord | undefined> {
    let from: WorkflowStatus | undefined;
    let reason: string | undefined;
    const workflow = await update(queueId, async (w) => {
      from = w.status;
      reason = await reasonOf(w);
      return reason === undefined ? undefined : failed(reason)(w);
    });
    notify(workflow, { kind });
    if (workflow?.status === 'error' && from !== 'error') {
      logger.warn({ queue_id: queueId, reason }, 'workflow ended in error');
      await deps
        .onStopped?.(workflow)
        .catch((error: unknown) =>
          logger.warn({ queue_id: queueId, err: error }, 'could not stop the work of a failed workflow'),
        );
    }
    return workflow;
  }

  /**
   * Past its deadline, and with nothing on its way that could move it (its telemetry or its
   * work still queued in Kafka after an outage or behind other work), a workflow ends.
   * Decided on the version the change replaces: telemetry that just renewed the deadline wins.
   */
  async function endIfOverdue(workflow: WorkflowRecord, onEnded?: () => void): Promise<WorkflowRecord> {
    if (overdueReason(workflow, deadlines, clock()) === undefined) return workflow;
    // The reason of the last attempt is what was written: undefined when another caller ended it first.
    let written: string | undefined;
    const result =
      (await endWithError(workflow.queue_id, async (w) => {
        written = await overdueNow(w);
        return written;
      })) ?? workflow;
    if (written !== undefined) onEnded?.();
    return result;
  }

  /** Why `w` ends now: past its deadline, and past its grace or with nothing queued that could move it. */
  async function overdueNow(w: WorkflowRecord): Promise<string | undefined> {
    const reason = overdueReason(w, deadlines, clock());
    if (reason === undefined) return undefined;
    // A backlog defers the end by one more timeout at most: a path never drained does not keep a workflow for ever.
    const grace = w.status === 'pending' ? deadlines.pendingMs : stallOf(deadlines, w).ms;
    if (clock() - (w.deadline_at ?? 0) > grace) return reason;
    const waiting = await deps.backlog?.(w);
    if (waiting !== undefined)
      logger.info(
        { queue_id: w.queue_id, waiting },
        'workflow past its deadline, but its work is still queued: it waits',
      );
    return waiting === undefined ? reason : undefined;
  }

  async function getWorkflow(queueId: string): Promise<WorkflowRecord> {
    const workflow = await store.getWorkflow(queueId);
    if (!workflow) throw new StreamForgeError('SF_NOT_FOUND', `no workflow ${queueId}`);
    return endIfOverdue(workflow);
  }

  /**
   * The counts on the workflow (read again on every attempt, so a slower writer never puts
   * back older ones), and `error` naming the reasons while any letter waits for a replay.
   */
  const withDeadLetters = async (w: WorkflowRecord): Promise<WorkflowRecord | undefined> => {
    const counts = await store.countDeadLetters(w.queue_id);
    const waiting = Object.entries(counts).filter(([, c]) => c.total > c.replayed);
    const total = waiting.reduce((n, [, c]) => n + c.total - c.replayed, 0);
    const error =
      `${total} event${total === 1 ? '' : 's'} of this workflow could not be processed and went to a dead-letter topic (${waiting.map(([service, c]) => `${service}: ${c.reason}`).join('; ')}); ` +
      `list them with \`streamforge dlq ls --workflow ${w.queue_id}\`, replay them after a fix with \`streamforge dlq replay --workflow ${w.queue_id}\``;
    // An error of this kind says the current count; any other end stays as it was.
    const ours = w.status === 'error' && DEAD_LETTER_ERROR.test(w.error ?? '');
    const ending = waiting.length > 0 && (!isFinal(w.status) || ours);
    if (!ending && JSON.stringify(w.dead_letters ?? {}) === JSON.stringify(counts)) return undefined;
    return {
      ...w,
      ...(ending ? { status: 'error' as const, error } : {}),
      dead_letters: counts,
      updated_at: clock(),
      version: w.version + 1,
    };
  };

  /** A replay is a retry: an ended workflow takes work again, and a service that failed is retrying. */
  const reopened =
    (count: number) =>
    (w: WorkflowRecord): WorkflowRecord | undefined => {
      if (w.status !== 'error') return undefined;
      const progress = Object.fromEntries(
        Object.entries(w.progress).map(([service, p]) => [
          service,
          p.status === 'error' ? { ...p, status: 'retrying' } : p,
        ]),
      );
      progress['queue-manager'] = {
        status: 'replaying',
        message: `replaying ${count} dead-lettered event${count === 1 ? '' : 's'}; was: ${w.error ?? 'error'}`,
        updated_at: clock(),
      };
      const { error: _error, ...rest } = w;
      return { ...rest, status: 'running', progress, updated_at: clock(), version: w.version + 1 };
    };

  async function lettersToReplay(selection: {
    queueId?: string;
    ids?: string[];
  }): Promise<{ letters: DeadLetter[]; more: boolean }> {
    if (selection.ids !== undefined) {
      if (selection.ids.length > REPLAY_BATCH)
        throw new StreamForgeError(
          'SF_CONTRACT_INVALID',
          `ids: at most ${REPLAY_BATCH} per replay, got ${selection.ids.length}`,
        );
      const letters = await Promise.all(
        selection.ids.map(async (id) => {
          const letter = await store.getDeadLetter(id);
          if (!letter) throw new StreamForgeError('SF_NOT_FOUND', `no dead letter ${id}`);
          return letter;
        }),
      );
      return { letters, more: false };
    }
    if (selection.queueId !== undefined) await getWorkflow(selection.queueId);
    const letters: DeadLetter[] = [];
    let after: EventPosition | undefined;
    while (letters.length <= REPLAY_BATCH) {
      const page = await store.listDeadLetters({
        ...(selection.queueId === undefined ? {} : { queue_id: selection.queueId }),
        limit: 500,
        ...(after ? { after } : {}),
      });
      letters.push(...page.filter((l) => l.replayed_at === undefined));
      const last = page.at(-1);
      if (!last || page.length < 500) break;
      after = { receivedAt: last.dead_lettered_at, eventId: last.id };
    }
    return { letters: letters.slice(0, REPLAY_BATCH), more: letters.length > REPLAY_BATCH };
  }

  return {
    async startWorkflow(request) {
      const planned = planWorkflow(request, clock());
      const { plan, start } = planned;
      const workflow = withDeadline(planned.workflow, deadlines, clock());
      await store.createWorkflow(workflow);
      notify(workflow, { kind: 'started' });
      try {
        if (workflow.collection_name && workflow.kafka_topic) await store.ensureCollection(workflow.collection_name);
      } catch (error) {
        // Never a workflow left pending behind a refusal: it ends with the reason.
        notify(
          await update(
            workflow.queue_id,
            failed(`collection ${workflow.collection_name} could not be created: ${(error as Error).message}`),
          ),
          { kind: 'failed' },
        );
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
      if (isFinal(workflow.status))
        throw new StreamForgeError('SF_CONFLICT', `workflow ${queueId} is already ${workflow.status}`);
      const stop: StopCommand = { command: 'stop', queue_id: queueId, reason, timestamp: clock() / 1000 };
      await producer.send(controlTopicOf(parseWorkflowType(workflow.type).target), [
        {
          id: `${queueId}:stop`,
          type: EVENT_TYPES.controlStop,
          source: sourceOf('queue-manager'),
          subject: queueId,
          partitionKey: workflow.symbol,
          data: stop,
        },
      ]);
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
      if (next.status !== from)
        logger.info({ queue_id: event.queue_id, from, to: next.status }, 'workflow status changed');
      return next;
    },

    async failWorkflow(queueId, reason) {
      const workflow = await update(queueId, failed(reason));
      notify(workflow, { kind: 'failed' });
      return workflow;
    },

    async recordDeadLetter(event) {
      const queueId = typeof event.subject === 'string' ? event.subject : '';
      const workflow = queueId === '' ? undefined : await store.getWorkflow(queueId);
      const letter = deadLetterOf(event, workflow, clock());
      // Stored first: a crash before the workflow is updated is repaired by the redelivery.
      if (await store.recordDeadLetter(letter))
        logger.warn(
          { queue_id: queueId, id: letter.id, service: letter.service, reason: letter.reason },
          'dead letter recorded',
        );
      if (!workflow) return letter;
      const next = await update(queueId, withDeadLetters);
      notify(next, { kind: 'dead-letter' });
      if (next?.status === 'error' && workflow.status !== 'error')
        await deps
          .onStopped?.(next)
          .catch((error: unknown) =>
            logger.warn({ queue_id: queueId, err: error }, 'could not stop the work of a failed workflow'),
          );
      return letter;
    },

    async replayDeadLetters(selection) {
      const { letters, more } = await lettersToReplay(selection);
      const result: ReplayResult = { more, replayed: [], skipped: [], reopened: [] };
      const byWorkflow = new Map<string, DeadLetter[]>();
      for (const letter of letters) {
        if (letter.replayed_at !== undefined) result.skipped.push({ id: letter.id, reason: 'already replayed' });
        else if (letter.topic === '')
          result.skipped.push({
            id: letter.id,
            reason: 'its destination is unknown (a command of no registered workflow)',
          });
        else byWorkflow.set(letter.queue_id, [...(byWorkflow.get(letter.queue_id) ?? []), letter]);
      }
      for (const [queueId, group] of byWorkflow) {
        const workflow = queueId === '' ? undefined : await store.getWorkflow(queueId);
        if (workflow?.status === 'stopped') {
          for (const letter of group)
            result.skipped.push({ id: letter.id, reason: `workflow ${queueId} was stopped; start a new one` });
          continue;
        }
        // Reopened before publishing: services skip the work of a workflow in error. A live
        // stream is not: its Job was stopped when it ended, and a new workflow streams again.
        if (workflow?.status === 'error' && parseWorkflowType(workflow.type).source !== 'ws') {
          const open = await update(queueId, reopened(group.length));
          if (open?.status === 'running') {
            result.reopened.push(queueId);
            notify(open, { kind: 'replayed' });
          }
        }
        try {
          // Sent, then marked: a replay cut short sends again, never loses one (keys make a second copy harmless).
          for (const letter of group) {
            await producer.send(letter.topic, [replayEventOf(letter)]);
            await store.markReplayed(letter.id, clock());
            result.replayed.push(letter.id);
          }
        } finally {
          // A replay that failed half-way puts the workflow back in error, naming what still waits.
          if (workflow) notify(await update(queueId, withDeadLetters), { kind: 'replayed' });
        }
      }
      logger.info(
        { replayed: result.replayed.length, skipped: result.skipped.length, reopened: result.reopened },
        'dead letters replayed',
      );
      return result;
    },

    async endOverdue() {
      let ended = 0;
      for (const status of ['pending', 'running'] as const) {
        let before: string | undefined;
        for (;;) {
          const page = await store.listWorkflows({ status, limit: 500, ...(before === undefined ? {} : { before }) });
          // Counted where this call wrote the end: a sweep beside it (a timer, another tick) ends nothing twice.
          for (const workflow of page)
            await endIfOverdue(workflow, () => {
              ended++;
            });
          if (page.length < 500) break;
          before = page.at(-1)!.queue_id;
        }
      }
      return ended;
    },

    getWorkflow,
    listWorkflows: (options) => store.listWorkflows(options),
    async listEvents(queueId, limit, after) {
      await getWorkflow(queueId);
      return store.listEvents(queueId, { limit, ...(after === undefined ? {} : { after }) });
    },
  };
}
