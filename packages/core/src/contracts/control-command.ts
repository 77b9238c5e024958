/**
 * Control commands, on one topic per service (`queue-control.<service>`): `start` (run a
 * workflow step on its target), `stop` (end a workflow), `ping` (diagnostics round trip).
 * Field names are those of the seed wire format, so services that speak it interoperate.
 * Unknown extra fields are kept: a start command carries the parameters of its target
 * (graph window, epochs, …).
 */
import { StreamForgeError } from '../errors.ts';
import { defineContract } from './validation.ts';
import { COLLECTION_NAME_PATTERN, QUEUE_ID_PATTERN, SYMBOL_PATTERN } from './ids.ts';
import { TIME_RANGE_PATTERN } from './time-range.ts';
import { MARKETS, serviceOf, type Market, type ServiceName } from './workflow-type.ts';

export interface StartCommand {
  command: 'start';
  queue_id: string;
  target: string;
  symbol: string;
  type: string;
  time_range?: string;
  kafka_topic?: string;
  collection_name?: string;
  telemetry_id?: string;
  image?: string;
  market?: Market;
  /** Several symbols (live streams of many symbols in one Job, graphs over a universe). */
  symbols?: string[];
  timestamp: number;
  [param: string]: unknown;
}

export interface StopCommand {
  command: 'stop';
  queue_id: string;
  target?: string;
  reason?: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface PingCommand {
  command: 'ping';
  queue_id: string;
  target?: string;
  /** Seed field: when the ping left, in epoch seconds. */
  sent_at?: number;
  timestamp: number;
  [field: string]: unknown;
}

export type ControlCommand = StartCommand | StopCommand | PingCommand;

const epochSeconds = {
  type: 'number',
  minimum: 0,
  description: 'Unix time in seconds, fractions allowed (seed format).',
};
const queueId = { type: 'string', pattern: QUEUE_ID_PATTERN };

export const controlCommandSchema = {
  $id: 'streamforge/control-command.json',
  title: 'queue-control command',
  type: 'object',
  required: ['command', 'queue_id'],
  properties: {
    command: { enum: ['start', 'stop', 'ping'] },
    queue_id: queueId,
    target: { type: 'string', minLength: 1, maxLength: 63 },
    symbol: { type: 'string', pattern: SYMBOL_PATTERN },
    symbols: { type: 'array', minItems: 1, maxItems: 1024, items: { type: 'string', pattern: SYMBOL_PATTERN } },
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]*[a-z0-9M]$' },
    time_range: { type: 'string', pattern: TIME_RANGE_PATTERN },
    kafka_topic: { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,249}$' },
    collection_name: { type: 'string', pattern: COLLECTION_NAME_PATTERN },
    telemetry_id: { type: 'string', minLength: 1, maxLength: 200 },
    image: { type: 'string' },
    market: { enum: MARKETS },
    reason: { type: 'string' },
    sent_at: epochSeconds,
    timestamp: epochSeconds,
  },
  allOf: [
    {
      if: { properties: { command: { const: 'start' } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
      then: { required: ['target', 'type', 'timestamp'], anyOf: [{ required: ['symbol'] }, { required: ['symbols'] }] },
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
    { if: { properties: { command: { const: 'stop' } } }, then: { required: ['timestamp'] } },
  ],
} as const;

export const controlCommandContract = defineContract<ControlCommand>('queue-control command', controlCommandSchema);

/**
 * A command as the service whose topic it came from takes it: valid, and addressed to that
 * service (or to nobody in particular). One for another service is a publisher's mistake:
 * refused, so the dispatcher dead-letters it instead of it vanishing.
 */
export function parseCommandFor(service: ServiceName, data: unknown): ControlCommand {
  const command = controlCommandContract.parse(data);
  if (command.target !== undefined && serviceOf(command.target) !== service) {
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `a command for ${command.target} reached ${service}: publish it on queue-control.${serviceOf(command.target) ?? command.target}`,
      { details: { queue_id: command.queue_id, target: command.target } },
    );
  }
  return command;
}
