/**
 * Every workflow ends: one that no service takes up, or that stops moving, ends in `error`
 * saying where it stood. Its `deadline_at` is visible in its status from the start: the
 * pending timeout from its creation, then the type's no-progress timeout from its latest
 * change, renewed by every telemetry event that changes it.
 */
import { declareEnv, env } from '@streamforge/core/config';
import { StreamForgeError } from '@streamforge/core/errors';
import type { WorkflowRecord } from '@streamforge/core/store';

declareEnv({
  WORKFLOW_PENDING_TIMEOUT: {
    default: '5m',
    description: 'A workflow no service has taken up ends in error after this long (e.g. 90s, 5m).',
  },
  WORKFLOW_STALL_TIMEOUTS: {
    default: 'api_*=15m,bulk_*=30m,ws_*=10m,graph_*=30m,gnn_*=2h,dummy_*=10m',
    description:
      'No-progress timeout per workflow type (pattern=duration, `*` a wildcard, first match wins, unnamed types keep the default): a running workflow with no telemetry for that long ends in error.',
  },
  WORKFLOW_DEADLINE_CHECK_MS: {
    default: '10000',
    description: 'How often the manager looks for workflows past their deadline.',
  },
});

export interface DeadlinePolicy {
  pendingMs: number;
  /** No-progress timeouts, first match wins (the defaults follow what was set). */
  stall: Array<{ pattern: string; test: RegExp; ms: number }>;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0)
    throw new StreamForgeError('SF_CONFIG_INVALID', `${field}: "${value}" is not a duration such as 90s, 15m or 2h`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

const DEFAULT_STALL_TIMEOUTS = 'api_*=15m,bulk_*=30m,ws_*=10m,graph_*=30m,gnn_*=2h,dummy_*=10m';

export function parseDeadlinePolicy(pending: string, stall: string): DeadlinePolicy {
  // What the setting leaves out keeps its default: `api_*=1h` alone changes backfills only.
  const entries = `${stall},${DEFAULT_STALL_TIMEOUTS},*=15m`
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [pattern, duration] = entry.split('=');
      if (!pattern || duration === undefined)
        throw new StreamForgeError(
          'SF_CONFIG_INVALID',
          `WORKFLOW_STALL_TIMEOUTS: "${entry}" is not pattern=duration, e.g. api_*=15m`,
        );
      const test = new RegExp(
        `^${pattern
          .trim()
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')}$`,
      );
      return { pattern: pattern.trim(), test, ms: parseDuration(duration, `WORKFLOW_STALL_TIMEOUTS ${pattern}`) };
    });
  return { pendingMs: parseDuration(pending, 'WORKFLOW_PENDING_TIMEOUT'), stall: entries };
}

export function deadlinePolicyFromEnv(): DeadlinePolicy {
  return parseDeadlinePolicy(env('WORKFLOW_PENDING_TIMEOUT'), env('WORKFLOW_STALL_TIMEOUTS'));
}

/** The no-progress timeout of a workflow: its type's, or three of its own report intervals when longer (a quiet live stream is not stalled). */
export function stallOf(
  policy: DeadlinePolicy,
  workflow: Pick<WorkflowRecord, 'type' | 'params'>,
): { pattern: string; ms: number } {
  const entry = policy.stall.find((s) => s.test.test(workflow.type))!;
  const interval = workflow.params?.telemetry_interval_ms;
  return typeof interval === 'number' && 3 * interval > entry.ms
    ? { pattern: `${entry.pattern}, 3 × params.telemetry_interval_ms`, ms: 3 * interval }
    : entry;
}

/** The workflow with its deadline renewed as of `now` (its latest change); final workflows have none. */
export function withDeadline(workflow: WorkflowRecord, policy: DeadlinePolicy, now: number): WorkflowRecord {
  const { deadline_at: _old, ...rest } = workflow;
  if (workflow.status === 'pending') return { ...rest, deadline_at: workflow.created_at + policy.pendingMs };
  if (workflow.status === 'running') return { ...rest, deadline_at: now + stallOf(policy, workflow).ms };
  return rest;
}

const minutes = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`);

/** Where each service stood, in its own words: `loader-api loading 12/24 pages`. */
function whereItStood(workflow: WorkflowRecord): string {
  const services = workflow.services.map((service) => {
    const p = workflow.progress[service];
    if (!p) return `${service} never reported`;
    const count = p.progress
      ? ` ${p.progress.done}${p.progress.total === undefined ? '' : `/${p.progress.total}`} ${p.progress.unit}`
      : '';
    return `${service} ${p.status}${count}${p.message ? ` (${p.message})` : ''}`;
  });
  return services.join('; ');
}

/** Why the workflow ends now, or undefined while it is within its deadline. */
export function overdueReason(workflow: WorkflowRecord, policy: DeadlinePolicy, now: number): string | undefined {
  // A workflow stored before deadlines existed gets one from its latest change.
  const deadline = workflow.deadline_at ?? withDeadline(workflow, policy, workflow.updated_at).deadline_at;
  if (deadline === undefined || now <= deadline) return undefined;
  if (workflow.status === 'pending') {
    return `no service took it up within ${minutes(policy.pendingMs)} (WORKFLOW_PENDING_TIMEOUT): is ${workflow.services[0] ?? 'its service'} deployed with its KafkaSource ready? \`streamforge ps\` shows it`;
  }
  if (workflow.status === 'running') {
    const stall = stallOf(policy, workflow);
    return `no progress for ${minutes(stall.ms)} (WORKFLOW_STALL_TIMEOUTS ${stall.pattern}); it stood at: ${whereItStood(workflow)}`;
  }
  return undefined;
}
