/**
 * What both loaders do when a backfill starts: prove the symbol exists with one cheap request
 * (before hundreds of pages are planned), then send the planned pages to the work topic, where
 * every instance of the loader shares them.
 */
import type { EventProducer, TelemetryEmitter } from '@streamforge/core/bus';
import { EVENT_TYPES, sourceOf, type StartCommand, type WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { BinanceRestClient } from '@streamforge/exchange';

/**
 * Whether the exchange lists the command's symbol. One it does not ends the workflow (an
 * `error` report with the reason); any other failure throws, to be retried. Spot answers for
 * one symbol (and refuses an unknown one with -1121); USD-M's exchangeInfo takes no
 * parameter at all (-1104 for any), so its whole list is read and searched.
 */
export async function symbolKnown(
  deps: { exchange: BinanceRestClient; telemetry: TelemetryEmitter },
  command: StartCommand,
  base: { queue_id: string; producer: string },
): Promise<boolean> {
  const market = command.market ?? 'spot';
  let refusal: StreamForgeError | undefined;
  try {
    const info = await deps.exchange.exchangeInfo(market === 'spot' ? { market, symbol: command.symbol } : { market });
    if (!info.symbols.some((s) => s.symbol === command.symbol))
      refusal = new StreamForgeError('SF_EXCHANGE_REJECTED', `symbol: ${command.symbol} is not listed on ${market}`);
  } catch (error) {
    if (!StreamForgeError.is(error) || error.code !== 'SF_EXCHANGE_REJECTED') throw error;
    refusal = error;
  }
  if (refusal === undefined) return true;
  await deps.telemetry.emit({
    ...base,
    status: 'error',
    message: refusal.message,
    error: { code: refusal.code, message: refusal.message, retryable: false },
  });
  return false;
}

/** Sends pages to a work topic. However many (a 31-day month of 1s candles is 2679), the producer sends them in requests of at most MAX_SEND_BYTES. */
export async function sendPages(
  producer: EventProducer,
  topic: string,
  service: string,
  pages: WorkPage[],
): Promise<void> {
  await producer.send(
    topic,
    pages.map((page) => ({
      id: `${page.queue_id}:page:${page.page.index}`,
      type: EVENT_TYPES.workPage,
      source: sourceOf(service),
      subject: page.queue_id,
      // Spread pages over the work topic's partitions, so instances share one workflow.
      partitionKey: `${page.symbol}:${page.page.index}`,
      data: page,
    })),
  );
}
