/**
 * queue-manager: the REST API to start, stop and list workflows, and the consumer of
 * queue-events (telemetry) that moves each workflow's status and keeps its trail, and of the
 * dead-letter topics, which end the workflows whose work could not be processed, and of
 * the loader-ws Jobs' changes (an ApiServerSource's events), which end a live workflow whose
 * Job died; the operator console at /console, fed by the manager's changes as they happen.
 */
import type { CloudEvent } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { env, envInt } from '@streamforge/core/config';
import { EVENT_TYPES, PING_EVENT_TYPE } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { isJobEventType } from '@streamforge/core/jobs';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { openStore, type Store } from '@streamforge/core/store';
import { registerApi } from './api.ts';
import { createBacklogProbe } from './backlog.ts';
import { isDeadLetter } from './dead-letters.ts';
import { createWorkflowHub, type WorkflowHub } from './console/hub.ts';
import { registerConsole } from './console/routes.ts';
import { createLiveJobs, jobLauncherFromEnv, type LiveJobs } from './live-jobs.ts';
import { createManager, type Manager } from './manager.ts';

let bus: ServiceBus;
let store: Store;
let manager: Manager;
let hub: WorkflowHub;
let liveJobs: LiveJobs;
let deadlineCheck: NodeJS.Timeout | undefined;
let sweeping: Promise<number> | undefined;

/** One deadline sweep at a time: a ping that comes during one waits for it rather than running another. */
function endOverdueOnce(): Promise<number> {
  sweeping ??= manager.endOverdue().finally(() => {
    sweeping = undefined;
  });
  return sweeping;
}

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus('queue-manager', info.logger);
  hub = createWorkflowHub(info.metrics.registry);
  // Live (ws_*) workflows run as loader-ws Jobs: started and stopped with the workflow, failing it when they die.
  liveJobs = createLiveJobs({
    launcher: await jobLauncherFromEnv(info.logger),
    logger: info.logger,
    failWorkflow: (queueId, reason) => manager.failWorkflow(queueId, reason),
  });
  manager = createManager({
    store,
    producer: bus.producer,
    logger: info.logger,
    backlog: createBacklogProbe(bus.connection),
    onStarted: liveJobs.onStarted,
    onStopped: liveJobs.onStopped,
    onChange: (workflow, change) => {
      if (change.eventId) hub.markApplied(change.eventId);
      hub.publish(workflow);
    },
  });
  // Workflows past their deadline end while an instance runs; a read of one ends it too, and so
  // does a tick of the deadline PingSource, which starts an instance when none runs. One
  // check at a time: the next is scheduled when this one is done.
  const check = (): void => {
    deadlineCheck = setTimeout(() => {
      endOverdueOnce()
        .catch((error: unknown) => info.logger.warn({ err: error }, 'deadline check failed; trying again'))
        .finally(() => {
          if (deadlineCheck !== undefined) check();
        });
    }, envInt('WORKFLOW_DEADLINE_CHECK_MS'));
    deadlineCheck.unref();
  };
  check();
}

export async function routes(app: FastifyInstance, info: FunctionRuntimeInfo): Promise<void> {
  const token = env('STREAMFORGE_API_TOKEN');
  await registerApi(app, { manager, store, token });
  await registerConsole(app, {
    manager,
    store,
    hub,
    token,
    logger: info.logger,
    connection: bus.connection,
    registry: info.metrics.registry,
  });
}

export async function shutdown(): Promise<void> {
  clearTimeout(deadlineCheck);
  deadlineCheck = undefined;
  await liveJobs?.close();
  await bus?.close();
  await store?.close();
}

/**
 * queue-events and the dead-letter topics, delivered by their KafkaSources, the loader-ws
 * Jobs' changes, delivered by the ApiServerSource, and the deadline PingSource's ticks: one
 * event per call.
 */
export async function handle(_context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'queue-manager takes telemetry CloudEvents at /; the REST API is under /workflows',
    );
  if (isDeadLetter(event)) {
    await manager.recordDeadLetter(event);
    return undefined;
  }
  if (isJobEventType(event.type)) {
    await liveJobs.onJobEvent(event.type, event.data);
    return undefined;
  }
  // knative/deadline-ping.yaml: an instance woken (perhaps from zero) to record the workflows
  // whose deadline passed while none ran. Ending is idempotent: a workflow ends once.
  if (event.type === PING_EVENT_TYPE) {
    await endOverdueOnce();
    return undefined;
  }
  if (event.type !== EVENT_TYPES.telemetry)
    throw new StreamForgeError('SF_EVENT_UNKNOWN_TYPE', `queue-manager does not handle ${event.type}`);
  await manager.recordTelemetry(event.id, event.data);
  return undefined;
}
