/**
 * A user's request for a workflow, checked field by field, and what it becomes: the stored
 * workflow (status `pending`) and the `start` command for its target.
 */
import { dataTopicOf, type EventInput } from '@streamforge/core/bus';
import {
  COLLECTION_NAME_PATTERN,
  EVENT_TYPES,
  controlCommandContract,
  controlCommandSchema,
  MARKETS,
  METRICS_ARCHIVES_FROM,
  SYMBOL_PATTERN,
  TIME_RANGE_PATTERN,
  newWorkflowIds,
  parseTimeRange,
  parseWorkflowType,
  sourceOf,
  telemetryId,
  topicKindOf,
  type Market,
  type StartCommand,
  type WorkflowType,
} from '@streamforge/core/contracts';
import { StreamForgeError, toStreamForgeError } from '@streamforge/core/errors';
import { checkStartCommand, jobEnvOf, jobSpecOf } from '@streamforge/core/requests';
import { RESERVED_COLLECTIONS, type WorkflowRecord } from '@streamforge/core/store';
import { paramsProblem } from './params-limits.ts';

const DAY_MS = 86_400_000;

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
    symbol: {
      type: 'string',
      pattern: '^[A-Za-z0-9]{2,20}(_[A-Za-z0-9]{1,12})?$',
      description: 'Binance symbol, e.g. BTCUSDT, or a COIN-M contract such as BTCUSD_PERP (case-insensitive).',
    },
    symbols: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: { type: 'string', pattern: '^[A-Za-z0-9]{2,20}(_[A-Za-z0-9]{1,12})?$' },
      description: 'Several symbols (live streams, graphs).',
    },
    type: {
      type: 'string',
      minLength: 3,
      maxLength: 64,
      description:
        'api_candles_<interval>, api_agg_trades, bulk_candles_<interval>, bulk_agg_trades, bulk_trades, futures only: {api,bulk}_{mark_price,index_price,premium_index}_candles_<interval>, api_funding_rate, bulk_funding_rate, bulk_metrics; ws_candles_<interval>, ws_trades, ws_agg_trades, ws_depth, ws_book_ticker, graph_correlation, gnn_train, dummy_*',
    },
    time_range: {
      type: 'string',
      pattern: TIME_RANGE_PATTERN,
      description: 'YYYY-MM-DD:YYYY-MM-DD, UTC, end day excluded.',
    },
    market: { type: 'string', enum: [...MARKETS], default: 'spot' },
    collection_name: { type: 'string', pattern: COLLECTION_NAME_PATTERN },
    params: { type: 'object', additionalProperties: true },
  },
} as const;

/**
 * The first day each market has data: Binance spot opened on 2017-07-14, USD-M futures on
 * 2019-09-08, COIN-M futures on 2020-08-10. A range before it has nothing to fetch, and the
 * exchange refuses such times.
 */
export const MARKET_OPENED: Record<Market, { ms: number; day: string }> = {
  spot: { ms: Date.UTC(2017, 6, 14), day: '2017-07-14' },
  usdm: { ms: Date.UTC(2019, 8, 8), day: '2019-09-08' },
  coinm: { ms: Date.UTC(2020, 7, 10), day: '2020-08-10' },
};

/**
 * A symbol the market cannot list, by its shape: COIN-M names contracts (`BTCUSD_PERP`,
 * `BTCUSD_250627`), spot names never have a `_`. Caught here, not by an exchangeInfo request later.
 */
function symbolMarketProblem(symbol: string, market: Market): string | undefined {
  if (market === 'coinm' && !symbol.includes('_'))
    return `"${symbol}" is not a COIN-M contract; COIN-M symbols name one, e.g. BTCUSD_PERP or BTCUSD_250627`;
  if (market === 'spot' && symbol.includes('_'))
    return `"${symbol}" is a futures contract name; spot symbols have no "_" (set market to usdm or coinm)`;
  return undefined;
}

/** Command fields a request's params would collide with (the manager sets them). */
const COMMAND_FIELDS = new Set(Object.keys(controlCommandSchema.properties));

/** Fields of a request; a start command's other fields are the request's params. */
const REQUEST_FIELDS = new Set(Object.keys(workflowRequestSchema.properties));

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, {
    details: { errors: [{ field, reason }] },
  });
}

/**
 * A target's refusal of the command, said of the request: its field, or `params.<field>`
 * (params are fields of the command); `renamed` maps what the target calls a field otherwise.
 */
function refusedAtTheDoor(error: unknown, renamed: Record<string, string> = {}): StreamForgeError {
  if (!StreamForgeError.is(error) || error.code !== 'SF_CONTRACT_INVALID') return toStreamForgeError(error);
  const details = error.details as { errors?: Array<{ field: string; reason: string }>; field?: string } | undefined;
  const first = details?.errors?.[0];
  const field = first?.field ?? details?.field ?? '(root)';
  const reason = first?.reason ?? error.message.replace(`${field}: `, '');
  const named = renamed[field] ?? field;
  const head = /^[^.[]*/.exec(named)![0];
  return invalid(REQUEST_FIELDS.has(head) || named === '(root)' ? named : `params.${named}`, reason);
}

export interface PlannedWorkflow {
  workflow: WorkflowRecord;
  start: EventInput<StartCommand>;
  plan: WorkflowType;
}

/** Checks what a schema cannot (real dates, known intervals, type-specific fields) and plans the workflow. */
export function planWorkflow(request: WorkflowRequest, now = Date.now()): PlannedWorkflow {
  const plan = parseWorkflowType(request.type);
  // First: nothing below may walk a params tree of any depth or size.
  const tooMuch = request.params === undefined ? undefined : paramsProblem(request.params);
  if (tooMuch) throw invalid(tooMuch.field, tooMuch.reason);
  const symbols = (request.symbols ?? (request.symbol ? [request.symbol] : [])).map((s) => s.toUpperCase());
  const symbol = symbols[0];
  if (symbol === undefined) throw invalid('symbol', 'is required (or symbols)');
  for (const s of symbols)
    if (!new RegExp(SYMBOL_PATTERN).test(s)) throw invalid('symbol', `"${s}" is not a Binance symbol`);
  const market = request.market ?? 'spot';
  const backfill = plan.source === 'api' || plan.source === 'bulk';
  // Only the loaders ask the exchange for a symbol; graphs read whatever the store holds.
  if (backfill || plan.source === 'ws')
    for (const s of symbols) {
      const problem = symbolMarketProblem(s, market);
      if (problem) throw invalid('symbol', problem);
    }
  const needsRange = backfill || plan.source === 'graph';
  if (needsRange && request.time_range === undefined) throw invalid('time_range', `is required for ${request.type}`);
  const range = request.time_range === undefined ? undefined : parseTimeRange(request.time_range);
  if (needsRange && range && range.startMs > now)
    throw invalid('time_range', `starts in the future (${range.startDate})`);
  // A bulk range may take today so far (its end day tomorrow): loader-producer reads it over REST up to now.
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  // Metrics come from daily archives only (docs/bulk-history.md): today has none yet.
  const latestEnd = plan.source === 'bulk' ? (plan.kind === 'metrics' ? today : today + DAY_MS) : now;
  if (needsRange && range && range.endMs > latestEnd) {
    // History ends now: loader-api would quietly cut the range there, a graph would miss its last windows.
    const day = new Date(latestEnd).toISOString().slice(0, 10);
    const latest =
      plan.source === 'bulk' && plan.kind === 'metrics'
        ? `metrics come from daily archive files only, so a bulk_metrics range can end today (${day}, end day excluded) at the latest`
        : plan.source === 'bulk'
          ? `the end day is excluded, so a bulk range can end tomorrow (${day}, taking today up to now) at the latest`
          : `the end day is excluded, so a range can end today (${day}) at the latest`;
    throw invalid(
      'time_range',
      `ends ${range.endDate}, after now; ${latest}${backfill ? '; a live ws_* workflow streams what comes next' : ''}`,
    );
  }
  if (needsRange && range && range.startMs < MARKET_OPENED[market].ms) {
    throw invalid(
      'time_range',
      `starts ${range.startDate}, before ${market} had data (${MARKET_OPENED[market].day}); start on or after it`,
    );
  }
  // Metrics come from archives only, which begin later than the market: an earlier day would end in error after listing.
  if (plan.source === 'bulk' && plan.kind === 'metrics' && range && range.startMs < METRICS_ARCHIVES_FROM) {
    const first = new Date(METRICS_ARCHIVES_FROM).toISOString().slice(0, 10);
    throw invalid(
      'time_range',
      `starts ${range.startDate}, before Binance's metrics archive files begin (${first}); a bulk_metrics range can start on ${first} at the earliest`,
    );
  }
  for (const key of Object.keys(request.params ?? {})) {
    if (COMMAND_FIELDS.has(key))
      throw invalid(`params.${key}`, `"${key}" is a field of the command the manager sends; choose another name`);
  }
  if (request.collection_name !== undefined && RESERVED_COLLECTIONS.has(request.collection_name)) {
    throw invalid('collection_name', `"${request.collection_name}" is reserved for the store's own use`);
  }

  const ids = newWorkflowIds(symbol, request.type, range?.startDate, { market });
  const queueId = ids.queueId;
  const collectionName = request.collection_name ?? ids.collectionName;
  const kafkaTopic = backfill || plan.source === 'ws' ? dataTopicOf(topicKindOf(plan.kind)) : '';
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
  // Whatever the target would refuse (and dead-letter) is refused here, before anything is
  // stored: the command contract, then the target's own reading of the command.
  const problems = controlCommandContract.check(command);
  if (problems.length > 0) throw invalid(problems[0]!.field, problems[0]!.reason);
  try {
    checkStartCommand(command);
  } catch (error) {
    throw refusedAtTheDoor(error);
  }
  // A live stream's params reach its Job as LOADER_WS_PARAMS: the Job's environment must hold them.
  try {
    if (plan.source === 'ws') jobEnvOf(jobSpecOf(workflow));
  } catch (error) {
    throw refusedAtTheDoor(error, { LOADER_WS_PARAMS: 'params', SYMBOLS: 'symbols', SYMBOL: 'symbol' });
  }
  return {
    workflow,
    plan,
    start: {
      id: `${queueId}:start`,
      type: EVENT_TYPES.controlStart,
      source: sourceOf('queue-manager'),
      subject: queueId,
      partitionKey: symbol,
      data: command,
    },
  };
}
