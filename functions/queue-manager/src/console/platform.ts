/**
 * The local platform's status for the console: instances per function, lag per KafkaSource
 * and recent scaling decisions, as the supervisor serves them at
 * `GET {STREAMFORGE_PLATFORM_URL}/status`. The manager proxies it (the page talks to one
 * origin) and, while browsers are connected, reads it every couple of seconds and pushes
 * it when it changed, so the page never polls. In a cluster the variable is unset and the
 * panel stays hidden (Knative and KEDA have their own views).
 */
import { declareEnv, env } from '@streamforge/core/config';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Logger } from '@streamforge/core/telemetry';

declareEnv({
  STREAMFORGE_PLATFORM_URL: {
    default: '',
    description:
      'Local platform supervisor whose GET /status (instances, lag, scaling decisions) the console shows; unset in a cluster.',
  },
});

export interface PlatformStatus {
  functions: Array<{
    name: string;
    min_scale?: number;
    max_scale?: number;
    instances: Array<{
      id: string;
      pid?: number;
      url?: string;
      state: string;
      started_at?: string;
      in_flight?: number;
    }>;
  }>;
  sources: Array<{
    name: string;
    function?: string;
    consumer_group?: string;
    topics?: string[];
    lag: number;
    partitions?: number;
    lag_threshold?: number;
    desired?: number;
  }>;
  decisions: Array<{ at: string | number; function: string; from: number; to: number; reason: string }>;
}

/** Response schema of GET /platform/status: the supervisor's document, passed through. */
export const platformStatusSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    functions: { type: 'array', items: { type: 'object', additionalProperties: true } },
    sources: { type: 'array', items: { type: 'object', additionalProperties: true } },
    decisions: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

export function platformUrl(): string {
  return env('STREAMFORGE_PLATFORM_URL').replace(/\/+$/, '');
}

/** The supervisor's status; SF_NOT_FOUND when no platform is configured, SF_DEPENDENCY_UNAVAILABLE when it does not answer. */
export async function fetchPlatformStatus(base = platformUrl(), timeoutMs = 2_000): Promise<PlatformStatus> {
  if (!base)
    throw new StreamForgeError(
      'SF_NOT_FOUND',
      'no local platform: STREAMFORGE_PLATFORM_URL is not set (the console hides this panel)',
    );
  let response: Response;
  try {
    response = await fetch(`${base}/status`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    throw new StreamForgeError(
      'SF_DEPENDENCY_UNAVAILABLE',
      `platform status at ${base}/status is unavailable: ${(error as Error).message}`,
    );
  }
  if (!response.ok)
    throw new StreamForgeError(
      'SF_DEPENDENCY_UNAVAILABLE',
      `platform status at ${base}/status answered ${response.status}`,
    );
  const body = (await response.json().catch(() => undefined)) as Partial<PlatformStatus> | undefined;
  if (!body || !Array.isArray(body.functions))
    throw new StreamForgeError(
      'SF_DEPENDENCY_UNAVAILABLE',
      `platform status at ${base}/status is not a status document`,
    );
  return { functions: body.functions, sources: body.sources ?? [], decisions: body.decisions ?? [] };
}

export interface PlatformWatch {
  /** The last status read, or undefined while the platform is unavailable. */
  current(): PlatformStatus | undefined;
  start(): void;
  stop(): void;
}

/** Reads the status every `intervalMs` while started and calls `onChange` when it differs from the last one. */
export function watchPlatform(
  onChange: (status: PlatformStatus | undefined) => void,
  logger: Logger,
  intervalMs = 2_000,
): PlatformWatch {
  let last: PlatformStatus | undefined;
  let lastJson = 'null';
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  const tick = async () => {
    let status: PlatformStatus | undefined;
    try {
      status = await fetchPlatformStatus();
    } catch (error) {
      logger.debug({ err: error }, 'platform status unavailable');
    }
    const json = JSON.stringify(status ?? null);
    if (json !== lastJson) {
      lastJson = json;
      last = status;
      onChange(status);
    }
    if (running) timer = setTimeout(() => void tick(), intervalMs);
  };

  return {
    current: () => last,
    start() {
      if (running || !platformUrl()) return;
      running = true;
      void tick();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
  };
}
