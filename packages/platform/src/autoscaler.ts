/**
 * Scaling by Kafka lag, as KEDA does for a KafkaSource, driven by the same
 * manifests: each source's lag is read every polling interval; a function gets
 * ceil(lag / lag-threshold) instances, capped by the source's max-scale and its partition
 * count (a partition feeds one instance at a time) and by func.yaml's max, and placed on the
 * machine's cores (past one per core only while they have idle time: scale-placement.ts); after
 * cooldown-period without lag and without requests it goes back to its minimum (zero unless
 * func.yaml says otherwise). Every change is a decision kept with its reason.
 */
import { openAdmin, type BusAdmin } from '@streamforge/core/bus';
import type { BusConnection } from '@streamforge/core/bus';
import { topicName } from '@streamforge/core/bus';
import type { Logger } from '@streamforge/core/telemetry';
import { Counter, Gauge, type Registry } from '@streamforge/core/telemetry';
import type { FunctionPool } from './function-pool.ts';
import { machineCpus, type MachineCpus } from './machine-cpus.ts';
import type { KafkaSourceSpec } from './manifests.ts';
import { place } from './scale-placement.ts';

export interface ScalingDecision {
  at: string;
  function: string;
  from: number;
  to: number;
  reason: string;
}

export interface SourceStatus {
  name: string;
  function: string;
  consumer_group: string;
  topics: string[];
  lag: number;
  partitions: number;
  lag_threshold: number;
  max_scale: number;
  desired: number;
}

export interface AutoscalerOptions {
  connection: BusConnection;
  sources: KafkaSourceSpec[];
  pools: Map<string, FunctionPool>;
  prefix: string;
  logger: Logger;
  registry?: Registry;
  /** Local overrides of the manifests' polling-interval and cooldown-period (tests, demos). */
  pollingIntervalMs?: number;
  cooldownMs?: number;
  /** The machine instances are placed on (default: this one's cores and their idle time). */
  cpus?: MachineCpus;
}

export interface Autoscaler {
  start(): Promise<void>;
  stop(): Promise<void>;
  sources(): SourceStatus[];
  decisions(): ScalingDecision[];
  /** Runs one evaluation now (tests). */
  tick(): Promise<void>;
  /** Records a scaling the autoscaler did not decide (a request that found a function at zero). */
  note(functionName: string, from: number, to: number, reason: string): void;
}

const KEEP_DECISIONS = 100;

export function createAutoscaler(options: AutoscalerOptions): Autoscaler {
  const { connection, sources, pools, logger } = options;
  const cpus = options.cpus ?? machineCpus();
  const registers = options.registry ? [options.registry] : [];
  const lagGauge = new Gauge({
    name: 'streamforge_platform_source_lag_messages',
    help: "Kafka lag of a KafkaSource's consumer group over its topics.",
    labelNames: ['source'],
    registers,
  });
  const desiredGauge = new Gauge({
    name: 'streamforge_platform_desired_instances',
    help: 'Instances the autoscaler wants for a function.',
    labelNames: ['function'],
    registers,
  });
  const decisionsCounter = new Counter({
    name: 'streamforge_platform_scaling_decisions_total',
    help: 'Scaling decisions, by function and direction.',
    labelNames: ['function', 'direction'],
    registers,
  });

  const group = (source: KafkaSourceSpec) => topicName(source.consumerGroup, options.prefix);
  const pollMs =
    options.pollingIntervalMs ??
    Math.max(1_000, Math.min(...sources.map((s) => s.autoscaling.pollingIntervalS * 1000), 10_000));
  const status = new Map<string, SourceStatus>();
  const log: ScalingDecision[] = [];
  const belowSince = new Map<string, number>();
  let admin: BusAdmin | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function lagOf(source: KafkaSourceSpec): Promise<{ lag: number; partitions: number }> {
    const topics = source.topics.map((t) => topicName(t, options.prefix));
    const committed = await admin!.groupOffsets(group(source), topics);
    let lag = 0;
    let partitions = 0;
    for (const topic of topics) {
      const ends = await admin!.topicOffsets(topic);
      const mine = committed.get(topic);
      for (const end of ends) {
        partitions++;
        const at = mine?.get(end.partition);
        // No commit yet: everything from the start is lag for `earliest`, nothing for `latest` (pinned at start).
        const from =
          at === undefined ? (source.initialOffset === 'earliest' ? Number(end.low) : Number(end.high)) : Number(at);
        lag += Math.max(0, Number(end.high) - from);
      }
    }
    return { lag, partitions };
  }

  function record(name: string, from: number, to: number, reason: string): void {
    log.push({ at: new Date().toISOString(), function: name, from, to, reason });
    if (log.length > KEEP_DECISIONS) log.shift();
    decisionsCounter.inc({ function: name, direction: to > from ? 'up' : 'down' });
    logger.info({ function: name, from, to, reason }, 'scaling decision');
  }
  const decide = (pool: FunctionPool, from: number, to: number, reason: string) => record(pool.name, from, to, reason);

  async function evaluate(): Promise<void> {
    for (const source of sources) {
      const pool = pools.get(source.sink.name);
      if (!pool) continue;
      const { lag, partitions } = await lagOf(source);
      const { lagThreshold, maxScale, activationLagThreshold } = source.autoscaling;
      const desired =
        lag > activationLagThreshold
          ? Math.min(Math.ceil(lag / lagThreshold), maxScale > 0 ? maxScale : Infinity, Math.max(1, partitions))
          : 0;
      status.set(source.name, {
        name: source.name,
        function: pool.name,
        consumer_group: group(source),
        topics: source.topics,
        lag,
        partitions,
        lag_threshold: lagThreshold,
        max_scale: maxScale,
        desired,
      });
      lagGauge.set({ source: source.name }, lag);
    }
    const now = Date.now();
    const room = { cores: cpus.cores, idleShare: cpus.idleShare(), free: true };
    for (const pool of pools.values()) {
      const mine = sources.filter((s) => s.sink.name === pool.name);
      const cooldownMs = options.cooldownMs ?? Math.max(0, ...mine.map((s) => s.autoscaling.cooldownPeriodS * 1000));
      const byLag = Math.max(0, ...mine.map((s) => status.get(s.name)?.desired ?? 0));
      const worst = mine
        .map((s) => status.get(s.name))
        .filter((s) => s !== undefined)
        .sort((a, b) => b.desired - a.desired)[0];
      const busy = pool.idleMs(now) < cooldownMs;
      // Knative's KPA beside KEDA: instances for the requests in flight at the target concurrency.
      const byConcurrency = Math.ceil(pool.demand() / Math.max(1, pool.target));
      let desired = Math.max(byLag, byConcurrency, busy ? 1 : 0, pool.min);
      if (pool.max > 0) desired = Math.min(desired, pool.max);
      desiredGauge.set({ function: pool.name }, desired);
      const current = pool.instances().filter((i) => i.state !== 'draining').length;
      const wanted = desired;
      const placement = place(wanted, current, room);
      desired = placement.instances;
      if (desired > Math.max(current, cpus.cores)) room.free = false;
      if (desired > current) {
        belowSince.delete(pool.name);
        const reason =
          byLag >= wanted && worst
            ? `lag ${worst.lag} on ${worst.name} / lag-threshold ${worst.lag_threshold} → ${wanted}${wanted < Math.ceil(worst.lag / worst.lag_threshold) ? ` (capped by max-scale ${worst.max_scale}, ${worst.partitions} partitions${pool.max > 0 ? `, func.yaml max ${pool.max}` : ''})` : ''}`
            : byConcurrency >= wanted
              ? `${pool.demand()} requests in flight / target ${pool.target} per instance → ${wanted}`
              : wanted === pool.min
                ? `min-scale ${pool.min}`
                : `requests in the last ${Math.round(cooldownMs / 1000)} s`;
        decide(pool, current, desired, placement.held ? `${reason}; ${placement.held}` : reason);
        pool
          .scaleTo(desired)
          .catch((error: unknown) => logger.error({ function: pool.name, err: error }, 'scale up failed'));
      } else if (desired < current) {
        const since = belowSince.get(pool.name) ?? now;
        belowSince.set(pool.name, since);
        // Down only after a whole cooldown of needing fewer (KEDA's cooldown-period; HPA-like for n > 0).
        if (now - since >= cooldownMs) {
          belowSince.delete(pool.name);
          const reason =
            desired === pool.min && byLag === 0
              ? `no lag and no requests for ${Math.round(cooldownMs / 1000)} s (cooldown-period) → ${desired === 0 ? 'zero' : `min-scale ${desired}`}`
              : `lag needs ${desired} for ${Math.round(cooldownMs / 1000)} s`;
          decide(pool, current, desired, reason);
          pool
            .scaleTo(desired)
            .catch((error: unknown) => logger.error({ function: pool.name, err: error }, 'scale down failed'));
        }
      } else {
        belowSince.delete(pool.name);
      }
    }
  }

  async function loop(): Promise<void> {
    if (!running) return;
    try {
      await evaluate();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'autoscaler could not read lag; keeping the current scale');
    }
    if (running) timer = setTimeout(() => void loop(), pollMs);
  }

  return {
    async start() {
      admin = openAdmin(connection);
      running = true;
      void loop();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await admin?.close();
    },
    sources: () => [...status.values()],
    decisions: () => [...log],
    tick: evaluate,
    note: record,
  };
}
