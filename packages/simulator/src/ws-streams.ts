/**
 * Stream names of Binance's WebSocket market streams (docs/binance.md), as the
 * simulator (a stand-in for Binance) understands them. Names use lowercase symbols; a name
 * that does not parse is still accepted by SUBSCRIBE and simply never sends anything, as
 * Binance does for streams that do not exist.
 */
import { isInterval, type Interval } from '@streamforge/core/contracts';
import { marketIntervals, type Market } from '@streamforge/core/contracts';

export type StreamKind = 'kline' | 'trade' | 'aggTrade' | 'depth' | 'bookTicker';

export interface StreamSpec {
  /** The name as subscribed (`btcusdt@kline_1m`). */
  name: string;
  /** Upper-case symbol, as the REST API and payloads name it. */
  symbol: string;
  kind: StreamKind;
  interval?: Interval;
  /** Diff-depth update speed in ms (spot 1000/100, USD-M 250/500/100). */
  speedMs?: number;
}

/** Kline update speed: spot every 2 s (1 s for `1s` klines), USD-M every 250 ms. */
export function klineUpdateMs(market: Market, interval: Interval): number {
  if (market === 'usdm') return 250;
  return interval === '1s' ? 1000 : 2000;
}

/** Diff-depth speeds a market offers: spot `@depth` 1000 ms, `@depth@100ms`; USD-M `@depth` 250 ms, `@500ms`, `@100ms`. */
function depthSpeed(market: Market, suffix: string | undefined): number | undefined {
  if (suffix === undefined) return market === 'spot' ? 1000 : 250;
  if (suffix === '100ms') return 100;
  if (suffix === '500ms' && market === 'usdm') return 500;
  return undefined;
}

const NAME = /^([a-z0-9]{2,20})@(kline_([0-9]+[smhdwM])|trade|aggTrade|depth(?:@([0-9]+ms))?|bookTicker)$/;

/** What a stream name means on a market, or undefined for a stream that does not exist there. */
export function parseStreamName(market: Market, name: string): StreamSpec | undefined {
  const match = NAME.exec(name);
  if (match === null) return undefined;
  const [, lower, what, interval, speed] = match as unknown as [
    string,
    string,
    string,
    string | undefined,
    string | undefined,
  ];
  const symbol = lower.toUpperCase();
  if (interval !== undefined) {
    if (!isInterval(interval) || !(marketIntervals(market) as readonly string[]).includes(interval)) return undefined;
    return { name, symbol, kind: 'kline', interval };
  }
  if (what === 'trade') return market === 'spot' ? { name, symbol, kind: 'trade' } : undefined; // USD-M has no raw trade stream
  if (what === 'aggTrade') return { name, symbol, kind: 'aggTrade' };
  if (what === 'bookTicker') return { name, symbol, kind: 'bookTicker' };
  const speedMs = depthSpeed(market, speed);
  return speedMs === undefined ? undefined : { name, symbol, kind: 'depth', speedMs };
}
