import type { PingCommand } from '@streamforge/core/contracts';
import type { TelemetryEmitter } from '@streamforge/core/bus';

/** The seed's pong: `ping_ts` is when the ping left (epoch s), `ponged_at` when it was answered. */
export async function answerPing(
  telemetry: TelemetryEmitter,
  ping: PingCommand,
  producer: string,
  now = Date.now,
): Promise<void> {
  await telemetry.emit({
    queue_id: ping.queue_id,
    producer,
    status: 'pong',
    message: 'pong',
    ping_ts: ping.sent_at ?? ping.timestamp,
    ponged_at: now() / 1000,
  });
}
