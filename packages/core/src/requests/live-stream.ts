/**
 * What a live stream (`ws_*`) asks of its loader-ws Job: a stream the market has, and the
 * workflow's params, which reach the Job as LOADER_WS_PARAMS (job-launcher.ts):
 *
 *   depth_levels           levels per side in each published order book     default 100
 *   depth_interval_ms      how often a changed order book is published      default 1000
 *   depth_snapshot_limit   levels asked of the REST depth snapshot          default 1000
 *   telemetry_interval_ms  how often the Job reports its counts             default 5000
 *
 * The Job reads them with these functions at start, and queue-manager refuses at the door
 * what they refuse (one check, no drift).
 */
import { isFuturesKind, type Market, type WorkflowType } from '../contracts/index.ts';
import { invalidField, shown } from './field-refusal.ts';

export interface LiveStreamParams {
  /** Levels per side in each published order-book record. */
  depthLevels: number;
  /** How often a changed order book is published (exchange-clock ms). */
  depthIntervalMs: number;
  /** Levels asked of the REST depth snapshot (1000: weight 50 spot, 20 USD-M). */
  depthSnapshotLimit: number;
  telemetryIntervalMs: number;
}

/**
 * Why a market cannot serve a workflow type, or undefined. Binance USD-M futures have no 1s
 * klines and no raw `<symbol>@trade` stream, only `<symbol>@aggTrade` (docs/live-streams.md;
 * the USD-M capture in test/fixtures/binance/ws has aggTrade and no trade). COIN-M has no 1s
 * klines either; StreamForge loads only its history (REST and archives), and no raw trades:
 * their REST tail (historicalTrades) is not verified there (docs/bulk-history.md).
 */
export function marketRefusal(plan: WorkflowType, market: Market): string | undefined {
  const kind = 'kind' in plan ? plan.kind : undefined;
  if (kind !== undefined && isFuturesKind(kind)) {
    if (market === 'spot')
      return `${plan.type}: Binance spot has no mark price, index price, premium index, funding rate or metrics; these are futures series (set market to usdm or coinm)`;
    if (market === 'coinm' && kind === 'index_price_klines')
      return 'COIN-M index price candles are per pair (BTCUSD), not per contract, and not supported yet; use market usdm, or mark_price/premium_index candles';
    if (market === 'coinm' && kind === 'metrics')
      return 'metrics (open interest, long/short ratios) are loaded for USD-M only';
  }
  if (market === 'spot') return undefined;
  const name = market === 'usdm' ? 'USD-M futures' : 'COIN-M futures';
  if ((plan.source === 'api' || plan.source === 'bulk' || plan.source === 'ws') && plan.interval === '1s')
    return `${name} have no 1s klines`;
  if (market === 'coinm' && plan.source === 'ws')
    return 'COIN-M live streams (ws_*) are not supported yet; load COIN-M history with api_* or bulk_* types';
  if (market === 'coinm' && plan.source === 'bulk' && plan.kind === 'trades')
    return 'COIN-M raw trades (bulk_trades) are not supported yet; use bulk_agg_trades';
  if (plan.source === 'ws' && plan.kind === 'trades')
    return 'USD-M futures have no raw trade stream; use ws_agg_trades';
  return undefined;
}

function positiveInt(
  params: Record<string, unknown>,
  name: string,
  fallback: number,
  max: number,
  prefix: string,
): number {
  const value = params[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw invalidField(`${prefix}${name}`, `must be an integer from 1 to ${max}, got ${shown(value)}`);
  return value;
}

/**
 * A live stream's params, defaulted; other keys are ignored. `field` names where they came
 * from (the Job's LOADER_WS_PARAMS); without it the params are fields of a start command.
 */
export function parseLiveStreamParams(params: unknown, field?: string): LiveStreamParams {
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw invalidField(field ?? 'params', `must be a JSON object, got ${shown(params)}`);
  const prefix = field === undefined ? '' : `${field}.`;
  const given = params as Record<string, unknown>;
  return {
    depthLevels: positiveInt(given, 'depth_levels', 100, 5000, prefix),
    depthIntervalMs: positiveInt(given, 'depth_interval_ms', 1000, 3_600_000, prefix),
    depthSnapshotLimit: positiveInt(given, 'depth_snapshot_limit', 1000, 5000, prefix),
    telemetryIntervalMs: positiveInt(given, 'telemetry_interval_ms', 5000, 3_600_000, prefix),
  };
}
