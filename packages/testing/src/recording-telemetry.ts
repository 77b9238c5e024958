import type { TelemetryEmitter, TelemetryInput } from '@streamforge/core/bus';

/** A telemetry emitter that keeps every report it is given, in order, for tests of a function's logic. */
export function recordingTelemetry(): { telemetry: TelemetryEmitter; events: TelemetryInput[] } {
  const events: TelemetryInput[] = [];
  return {
    events,
    telemetry: {
      emit: async (event) => {
        events.push(event);
      },
      emitMany: async (batch) => {
        events.push(...batch);
      },
    },
  };
}
