/**
 * What is still queued in Kafka that could move a workflow: its telemetry on queue-events,
 * and for loaders its pages and data batches. A workflow past its deadline is not ended while
 * any of that waits (after a manager outage, or behind other workflows' work), only once its
 * path is drained or a second timeout has passed.
 */
import { TOPICS, dataTopicOf, topicName, withAdmin, type BusConnection } from '@streamforge/core/bus';
import { parseWorkflowType, topicKindOf } from '@streamforge/core/contracts';
import type { WorkflowRecord } from '@streamforge/core/store';

/** Consumer groups as kafka-sources/*.yaml names them, with the topics a workflow's path takes. */
export function pathOf(workflow: Pick<WorkflowRecord, 'type'>): Array<{ group: string; topic: string }> {
  const plan = parseWorkflowType(workflow.type);
  const path: Array<{ group: string; topic: string }> = [{ group: 'queue-manager-events', topic: TOPICS.events }];
  if (plan.source === 'api') path.push({ group: 'loader-api-work', topic: TOPICS.loaderWork });
  if (plan.source === 'bulk') path.push({ group: 'loader-producer-work', topic: TOPICS.producerWork });
  if (plan.source === 'api' || plan.source === 'bulk' || plan.source === 'ws')
    path.push({ group: 'arango-connector-data', topic: dataTopicOf(topicKindOf(plan.kind)) });
  return path;
}

export function createBacklogProbe(
  connection: BusConnection,
): (workflow: WorkflowRecord) => Promise<string | undefined> {
  return async (workflow) => {
    try {
      return await withAdmin(connection, async (admin) => {
        for (const { group, topic } of pathOf(workflow)) {
          const name = topicName(topic);
          const committed = (await admin.groupOffsets(topicName(group), [name])).get(name);
          const lag = (await admin.topicOffsets(name)).reduce(
            (n, p) => n + Number(p.high) - Number(committed?.get(p.partition) ?? p.low),
            0,
          );
          if (lag > 0) return `${lag} records wait on ${topic} for ${group}`;
        }
        return undefined;
      });
    } catch (error) {
      // Unknown is not empty: the workflow waits for the next check.
      return `Kafka could not be asked: ${(error as Error).message}`;
    }
  };
}
