/**
 * A user's request for a workflow, checked field by field, and what it becomes: the stored
 * workflow (status `pending`) and the `start` command for its target.
 */
import { dataTopicOf, type EventInput } from '@streamforge/shared/bus';
import {
  COLLECTION_NAME_PATTERN,
  EVENT_TYPES,
  controlCommandContract,
  controlCommandSchema,
  MARKETS,
  SYMBOL_PATTERN,
  TIME_RANGE_PATTERN,
  newWorkflowIds,
  parseTimeRange,
  parseWorkflowType,
  sourceOf,
  telemetryId,
  type Market,
  type StartCommand,
  type WorkflowType,
} from '@streamforge/shared/contracts';
import { StreamForgeError } from '@streamforge/shared/errors';
import { RESERVED_COLLECTIONS, type WorkflowRecord } from '@streamforge/shared/store';

export interface WorkflowRequest {
  symbol?: string;
  symbols?: string[];
  type: string;
  time_range?: string;
  market?: Market;
  collection_name?: string;
  /** Parameters for the target (graph window, epochs, simulated behaviour, …). */
  params?: Record<string, unknown>;
}

/** JSON Schema of POST /workflows (fastify validates the body with it before the handler runs). */
export const workflowRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    symbol: { type: 'string', pattern: '^[A-Za-z0-9]{2,20}$', description: 'Binance symbol, e.g. BTCUSDT (case-insensitive).' },
    symbols: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', pattern: '^[A-Za-z0-9]{2,20}$' }, description: 'Several symbols (live streams, graphs).' },
    type: { type: 'string', minLength: 3, maxLength: 64, description: 'api_candles_<interval>, api_agg_trades, ws_candles_<interval>, ws_trades, ws_agg_trades, ws_depth, ws_book_ticker, graph_correlation, gnn_train, dummy_*' },
    time_range: { type: 'string', pattern: TIME_RANGE_PATTERN, description: 'YYYY-MM-DD:YYYY-MM-DD, UTC, end day excluded.' },
    market: { type: 'string', enum: [...MARKETS], default: 'spot' },
    collection_name: { type: 'string', pattern: COLLECTION_NAME_PATTERN },
    params: { type: 'object', additionalProperties: true },
  },
} as const;

/**
 * The first day each market has data: Binance spot opened on 2017-07-14, USD-M futures on
 * 2019-09-08. A range before it has nothing to fetch, and the exchange refuses such times.
 */
export const MARKET_OPENED: Record<Market, { ms: number; day: string }> = {
  spot: { ms: Date.UTC(2017, 6, 14), day: '2017-07-14' },
  usdm: { ms: Date.UTC(2019, 8, 8), day: '2019-09-08' },
};

/** Command fields a request's params would collide with (the manager sets them). */
const COMMAND_FIELDS = new Set(Object.keys(controlCommandSchema.properties));

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, { details: { errors: [{ field, reason }] } });
}

export interface PlannedWorkflow {
  workflow: WorkflowRecord;
  start: EventInput<StartCommand>;
  plan: WorkflowType;
}

/** Checks what a schema cannot (real dates, known intervals, type-specific fields) and plans the workflow. */
export function planWorkflow(request: WorkflowRequest, now = Date.now()): PlannedWorkflow {
  const plan = parseWorkflowType(request.type);
  const symbols = (request.symbols ?? (request.symbol ? [request.symbol] : [])).map((s) => s.toUpperCase());
  const symbol = symbols[0];
  if (symbol === undefined) throw invalid('symbol', 'is required (or symbols)');
  for (const s of symbols) if (!new RegExp(SYMBOL_PATTERN).test(s)) throw invalid('symbol', `"${s}" is not a Binance symbol`);
  const market = request.market ?? 'spot';
  const needsRange = plan.source === 'api' || plan.source === 'graph';
  if (needsRange && request.time_range === undefined) throw invalid('time_range', `is required for ${request.type}`);
  const range = request.time_range === undefined ? undefined : parseTimeRange(request.time_range);
  if (plan.source === 'api' && range && range.startMs > now) throw invalid('time_range', `starts in the future (${range.startDate})`);
  if ((plan.source === 'api' || plan.source === 'graph') && range && range.startMs < MARKET_OPENED[market].ms) {
    throw invalid('time_range', `starts ${range.startDate}, before ${market} had data (${MARKET_OPENED[market].day}); start on or after it`);
  }
  for (const key of Object.keys(request.params ?? {})) {
    if (COMMAND_FIELDS.has(key)) throw invalid(`params.${key}`, `"${key}" is a field of the command the manager sends; choose another name`);
  }
  if (request.collection_name !== undefined && RESERVED_COLLECTIONS.has(request.collection_name)) {
    throw invalid('collection_name', `"${request.collection_name}" is reserved for the store's own use`);
  }
  if (market === 'usdm' && plan.source !== 'graph' && plan.source !== 'gnn' && 'interval' in plan && plan.interval === '1s') {
    throw invalid('type', 'USD-M futures have no 1s klines');
  }

  const ids = newWorkflowIds(symbol, request.type, range?.startDate, { market });
  const queueId = ids.queueId;
  const collectionName = request.collection_name ?? ids.collectionName;
  const kafkaTopic = plan.source === 'api' || plan.source === 'ws' ? dataTopicOf(plan.kind) : '';
  const workflow: WorkflowRecord = {
    queue_id: queueId,
    symbol,
    ...(symbols.length > 1 ? { symbols } : {}),
    type: request.type,
    market,
    ...(request.time_range ? { time_range: request.time_range } : {}),
    kafka_topic: kafkaTopic,
    collection_name: collectionName,
    status: 'pending',
    services: plan.services,
    progress: {},
    ...(request.params ? { params: request.params } : {}),
    created_at: now,
    updated_at: now,
    version: 1,
  };
  const command: StartCommand = {
    ...(request.params ?? {}),
    command: 'start',
    queue_id: queueId,
    target: plan.target,
    symbol,
    ...(symbols.length > 1 ? { symbols } : {}),
    type: request.type,
    market,
    ...(request.time_range ? { time_range: request.time_range } : {}),
    ...(kafkaTopic ? { kafka_topic: kafkaTopic } : {}),
    collection_name: collectionName,
    telemetry_id: telemetryId(plan.target, ids.shortId),
    timestamp: now / 1000,
  };
  // Whatever the target would refuse (and dead-letter) is refused here, before anything is stored.
  const problems = controlCommandContract.check(command);
  if (problems.length > 0) throw invalid(problems[0]!.field, problems[0]!.reason);
  return {
    workflow,
    plan,
    start: { id: `${queueId}:start`, type: EVENT_TYPES.controlStart, source: sourceOf('queue-manager'), subject: queueId, partitionKey: symbol, data: command },
  };
}
