/**
 * kafkajs restarts a crashed consumer by itself after a retriable error; after any other (an
 * authorization failure, a group configuration the broker rejects) it stops for good and tells
 * no caller. This turns that silence into a call, so a service fails loudly and its supervisor
 * (Kubernetes, the local platform) restarts it, instead of a live process that consumes nothing.
 */
import type { Consumer } from 'kafkajs';

/** Calls `gaveUp` when the consumer crashed and kafkajs will not restart it; returns the unsubscribe. */
export function onConsumerGaveUp(consumer: Consumer, gaveUp: (error: Error) => void): () => void {
  return consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) gaveUp(event.payload.error);
  });
}
