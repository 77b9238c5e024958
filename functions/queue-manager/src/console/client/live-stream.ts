/**
 * The one stream the page listens to: GET /console/stream, Server-Sent Events read with
 * fetch() rather than EventSource, which cannot send the bearer header. Reconnects with a
 * doubling delay (0.5 s … 10 s); the server starts every connection with a snapshot, so
 * nothing missed in between is lost.
 */
import { apiUrl } from './api-client.ts';
import { setConnection } from './connection-badge.ts';
import { askToken } from './token-dialog.ts';
import { requestHeaders, token } from './token-store.ts';

export type StreamMessage = (event: string, payload: unknown) => void;

export interface LiveStream {
  /** (Re)connects, dropping the current connection. */
  connect(): void;
}

/** Splits one SSE frame into its event name and its data (the data lines joined). */
export function parseFrame(frame: string): { event: string; data: string } {
  let event = 'message';
  let data = '';
  for (const line of frame.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  return { event, data };
}

export function createLiveStream(onMessage: StreamMessage): LiveStream {
  // The connection whose reads count: an older one, aborted, must not schedule a reconnect.
  let current: AbortController | null = null;
  let backoff = 500;

  function reconnectLater(): void {
    setConnection('reconnecting', 'reconnecting…');
    const wait = backoff;
    backoff = Math.min(backoff * 2, 10000);
    setTimeout(connect, wait);
  }

  function deliver(frame: string): void {
    const { event, data } = parseFrame(frame);
    if (!data) return;
    onMessage(event, JSON.parse(data));
  }

  async function connect(): Promise<void> {
    if (current) current.abort();
    const controller = new AbortController();
    current = controller;
    setConnection('connecting', 'connecting…');
    let response: Response;
    try {
      response = await fetch(apiUrl('/console/stream'), {
        headers: requestHeaders(false),
        signal: controller.signal,
        cache: 'no-store',
      });
    } catch {
      if (current === controller) reconnectLater();
      return;
    }
    if (response.status === 401) {
      const body: { message?: string } = await response.json().catch(() => ({}));
      askToken(
        token()
          ? `The token was not accepted: ${body.message || 'unauthorized'}`
          : body.message || 'The API wants a bearer token.',
      );
      return;
    }
    if (!response.ok || !response.body) {
      reconnectLater();
      return;
    }
    setConnection('live', 'live');
    backoff = 500;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += chunk.value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          deliver(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted or cut: reconnect below.
    }
    if (current === controller) reconnectLater();
  }

  return { connect: () => void connect() };
}
