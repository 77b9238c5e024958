/**
 * What a `graph_correlation` start command asks for: graph-builder takes it with this
 * function, and queue-manager refuses at the door what it refuses (one check, no drift).
 * The manager passes the workflow's `params` through as fields of the command
 * (control-command.ts), beside `symbols`, `time_range` and `collection_name` (the graph id):
 *
 *   interval     kline interval of the stored candles                       default 1h
 *   window       bars per window                                           default 24
 *   step         bars between window starts                                default = window
 *   horizon      bars after a window whose close its label compares with   default = step
 *   edges        {method: "top_k", k} | {method: "threshold", min_abs_correlation}
 *                                                                           default top_k, k = 3
 *   correlation  "pearson" | "spearman"                                     default pearson
 *   min_returns  returns a vertex or a pair needs in a window              default half the window
 *   collections  where each symbol's candles are: {SYMBOL: collection} or a list in symbol
 *                order; default the collection a backfill of the same range names,
 *                `<symbol>_api_candles_<interval>_<start day>` (newWorkflowIds)
 */
import {
  COLLECTION_NAME_PATTERN,
  INTERVALS,
  defineContract,
  newWorkflowIds,
  parseTimeRange,
  type Interval,
  type Market,
  type StartCommand,
  type TimeRange,
} from '../contracts/index.ts';
import { invalidField } from './field-refusal.ts';
import { GRAPH_ID_MAX_LENGTH } from '../store/graph-checks.ts';

export type EdgePolicy = { method: 'top_k'; k: number } | { method: 'threshold'; min_abs_correlation: number };
export type CorrelationMethod = 'pearson' | 'spearman';

/** Where one symbol's candles are read from. */
export interface CandleSource {
  symbol: string;
  collection: string;
}

export interface GraphRequest {
  queueId: string;
  graphId: string;
  symbols: string[];
  market: Market;
  range: TimeRange;
  interval: Interval;
  window: number;
  step: number;
  horizon: number;
  edges: EdgePolicy;
  correlation: CorrelationMethod;
  minReturns: number;
  sources: CandleSource[];
}

interface GraphParams {
  interval?: Interval;
  window?: number;
  step?: number;
  horizon?: number;
  edges?: EdgePolicy;
  correlation?: CorrelationMethod;
  min_returns?: number;
  collections?: Record<string, string> | string[];
}

const bars = { type: 'integer', minimum: 1, maximum: 100_000 };
const collection = { type: 'string', pattern: COLLECTION_NAME_PATTERN };

const paramsContract = defineContract<GraphParams>('graph_correlation params', {
  type: 'object',
  additionalProperties: false,
  properties: {
    interval: { enum: INTERVALS },
    // Four bars give three returns, the fewest a correlation is computed from (correlation-edges.ts).
    window: { ...bars, minimum: 4 },
    step: bars,
    horizon: bars,
    edges: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['method', 'k'],
          properties: { method: { const: 'top_k' }, k: { type: 'integer', minimum: 1, maximum: 100 } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['method', 'min_abs_correlation'],
          properties: {
            method: { const: 'threshold' },
            min_abs_correlation: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
          },
        },
      ],
    },
    correlation: { enum: ['pearson', 'spearman'] },
    min_returns: { type: 'integer', minimum: 2, maximum: 100_000 },
    collections: {
      anyOf: [
        { type: 'object', additionalProperties: collection },
        { type: 'array', items: collection },
      ],
    },
  },
});

const PARAM_NAMES = [
  'interval',
  'window',
  'step',
  'horizon',
  'edges',
  'correlation',
  'min_returns',
  'collections',
] as const;

export function parseGraphRequest(command: StartCommand): GraphRequest {
  const params = paramsContract.parse(
    Object.fromEntries(PARAM_NAMES.filter((name) => command[name] !== undefined).map((name) => [name, command[name]])),
  );
  const symbols = command.symbols ?? [command.symbol];
  if (symbols.length < 2)
    throw invalidField('symbols', `a correlation graph needs at least 2 symbols, got ${symbols.length}`);
  if (new Set(symbols).size !== symbols.length) throw invalidField('symbols', 'lists a symbol twice');
  if (command.time_range === undefined) throw invalidField('time_range', 'is required for graph_correlation');
  const range = parseTimeRange(command.time_range);
  const market = command.market ?? 'spot';
  const interval = params.interval ?? '1h';
  const window = params.window ?? 24;
  const step = params.step ?? window;
  const horizon = params.horizon ?? step;
  const minReturns = params.min_returns ?? Math.max(3, Math.ceil((window - 1) / 2));
  if (minReturns > window - 1)
    throw invalidField(
      'min_returns',
      `${minReturns} is more than the ${window - 1} returns a window of ${window} bars has`,
    );
  const graphId =
    command.collection_name ?? newWorkflowIds(symbols[0]!, command.type, range.startDate, { market }).collectionName;
  if (graphId.length > GRAPH_ID_MAX_LENGTH)
    throw invalidField('collection_name', `the graph id is at most ${GRAPH_ID_MAX_LENGTH} characters`);

  const named = params.collections;
  if (Array.isArray(named) && named.length !== symbols.length)
    throw invalidField('collections', `lists ${named.length} collections for ${symbols.length} symbols`);
  if (named && !Array.isArray(named)) {
    for (const key of Object.keys(named))
      if (!symbols.includes(key)) throw invalidField(`collections.${key}`, 'is not one of the symbols');
  }
  const sources = symbols.map(
    (symbol, i): CandleSource => ({
      symbol,
      collection:
        (Array.isArray(named) ? named[i] : named?.[symbol]) ??
        newWorkflowIds(symbol, `api_candles_${interval}`, range.startDate, { market }).collectionName,
    }),
  );
  return {
    queueId: command.queue_id,
    graphId,
    symbols,
    market,
    range,
    interval,
    window,
    step,
    horizon,
    edges: params.edges ?? { method: 'top_k', k: 3 },
    correlation: params.correlation ?? 'pearson',
    minReturns,
    sources,
  };
}

/** What the graph set records about how it was built (and the trainer reads back). */
export function describeRequest(request: GraphRequest): Record<string, unknown> {
  return {
    type: 'graph_correlation',
    queue_id: request.queueId,
    market: request.market,
    time_range: `${request.range.startDate}:${request.range.endDate}`,
    interval: request.interval,
    window: request.window,
    step: request.step,
    horizon: request.horizon,
    edges: request.edges,
    correlation: request.correlation,
    min_returns: request.minReturns,
    collections: Object.fromEntries(request.sources.map((s) => [s.symbol, s.collection])),
  };
}
