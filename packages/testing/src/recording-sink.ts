/**
 * A real HTTP server that records what a dispatcher POSTs to it and answers as a test says
 * (fail the first N, always 400, …): the sink side of a KafkaSource, for tests.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface RecordingSink {
  url: string;
  /** Every request, including the ones answered with a failure. */
  requests: RecordedRequest[];
  /** Requests answered 2xx. */
  accepted: RecordedRequest[];
  close(): Promise<void>;
}

/** Decides the status of the n-th request (0-based) overall and for its CloudEvent id. */
/** The answer to a request: a status, or a status with headers, a body, and how long to take before answering. */
export type Responder = (
  request: RecordedRequest,
  n: number,
  attemptsForId: number,
) => number | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

export async function startRecordingSink(respond: Responder = () => 204): Promise<RecordingSink> {
  const requests: RecordedRequest[] = [];
  const accepted: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const id = String(req.headers['ce-id'] ?? '');
      const forId = attempts.get(id) ?? 0;
      attempts.set(id, forId + 1);
      const answer = respond(recorded, requests.length, forId);
      requests.push(recorded);
      const { status, headers, body, delayMs } =
        typeof answer === 'number'
          ? { status: answer, headers: undefined, body: undefined, delayMs: undefined }
          : answer;
      const reply = () => {
        if (status >= 200 && status < 300) accepted.push(recorded);
        res.writeHead(status, headers).end(body ?? '');
      };
      if (delayMs === undefined) reply();
      else setTimeout(reply, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    accepted,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
