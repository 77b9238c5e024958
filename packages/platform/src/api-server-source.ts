/**
 * The local stand-in for a Knative ApiServerSource in Resource mode (knative/job-events.yaml):
 * the loader-ws Jobs' changes as CloudEvents, POSTed in binary mode to the sink the manifest
 * names (the queue-manager's activator, which starts an instance when none runs).
 *
 * Two sources of those changes, one contract: against a real Kubernetes API (the manager's
 * launcher is `kubernetes`) a list and a watch of the Jobs the manifest's label selector
 * picks; with the local launcher, the Job files in the stack's `jobs/` folder
 * (local-job-events.ts). Like the ApiServerSource's adapter, a list sends nothing (its
 * store ignores lists): only what a watch reports is an event. So a Job that fails while no
 * source runs is not reported; its workflow ends by its no-progress deadline.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { dispositionOfResponse } from '@streamforge/core/errors';
import { JOB_EVENT_TYPES, jobSubjectOf, type JobEventType, type JobObject } from '@streamforge/core/jobs';
import { backoffDelay, sleep } from '@streamforge/core/retry';
import type { Logger } from '@streamforge/core/telemetry';

export interface JobEvent {
  type: JobEventType;
  /** The API server's URL (locally: the platform's). */
  source: string;
  subject: string;
  job: JobObject;
}

export type DeliverJobEvent = (event: JobEvent) => Promise<void>;

export interface JobSource {
  close(): Promise<void>;
}

export function jobEventOf(type: JobEventType, source: string, job: JobObject): JobEvent {
  return { type, source, subject: jobSubjectOf(job.metadata?.namespace ?? '', job.metadata?.name ?? ''), job };
}

export interface DeliveryOptions {
  logger: Logger;
  /** Attempts after the first. Default 10 (backoff doubling from 0.5 s, at most 10 s apart). */
  retry?: number;
  backoffBaseMs?: number;
  timeoutMs?: number;
}

/**
 * POSTs each event to `url` as a binary-mode CloudEvent, one at a time and in order (a Job's
 * update must not overtake its add), retrying what the answer or a transport error says to
 * retry; what still fails is logged and dropped, as the ApiServerSource's adapter does.
 */
export function deliverTo(url: string, options: DeliveryOptions): DeliverJobEvent {
  const retry = options.retry ?? 10;
  const backoff = { baseMs: options.backoffBaseMs ?? 500, maxMs: 10_000 };
  let queue: Promise<void> = Promise.resolve();
  const once = async (event: JobEvent): Promise<void> => {
    const id = randomUUID();
    let last = '';
    for (let n = 0; n <= retry; n++) {
      if (n > 0) await sleep(backoffDelay(backoff, n));
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'ce-specversion': '1.0',
            'ce-id': id,
            'ce-type': event.type,
            'ce-source': event.source,
            'ce-subject': event.subject,
            'content-type': 'application/json',
          },
          body: JSON.stringify(event.job),
          signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
        });
        const text = await response.text();
        if (response.ok) return;
        last = `sink answered ${response.status}: ${text.slice(0, 300)}`;
        const headers = Object.fromEntries(response.headers);
        if (dispositionOfResponse(response.status, headers) !== 'retry') break;
      } catch (error) {
        last = `delivery failed: ${(error as Error).message}`;
      }
    }
    options.logger.error({ type: event.type, subject: event.subject, id, reason: last }, 'Job event not delivered');
  };
  return (event) => {
    const sent = queue.then(() => once(event));
    queue = sent;
    return sent;
  };
}

/** How to reach a Kubernetes API: what this source needs of a kubeconfig. */
export interface KubeAccess {
  server: string;
  token?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user?: string } }>;
  clusters?: Array<{ name: string; cluster: Record<string, string> }>;
  users?: Array<{ name: string; user?: Record<string, string> }>;
}

/** The current context's server and credentials (token, token file or client certificate), as kubectl reads them. */
export function kubeAccessFrom(kubeconfigFile: string): KubeAccess {
  const config = parse(readFileSync(kubeconfigFile, 'utf8')) as KubeconfigFile;
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  if (!context || !cluster?.server)
    throw new Error(`${kubeconfigFile}: no cluster for the current context "${config['current-context'] ?? ''}"`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  // Paths in a kubeconfig are relative to the file.
  const file = (path: string): Buffer => readFileSync(resolve(dirname(kubeconfigFile), path));
  const either = (data: string | undefined, path: string | undefined): Buffer | undefined =>
    data ? Buffer.from(data, 'base64') : path ? file(path) : undefined;
  const token = user.token ?? (user.tokenFile ? file(user.tokenFile).toString('utf8').trim() : undefined);
  const ca = either(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = either(user['client-certificate-data'], user['client-certificate']);
  const key = either(user['client-key-data'], user['client-key']);
  return {
    server: cluster.server,
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

export interface KubernetesJobSourceOptions {
  access: KubeAccess;
  namespace: string;
  /** `key=value,…`, as the ApiServerSource's resource selector. */
  labelSelector: string;
  deliver: DeliverJobEvent;
  logger: Logger;
  /** Pause before listing or watching again after a failure. Default 1 s. */
  retryMs?: number;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: JobObject & { code?: number; message?: string };
}

const WATCH_TYPES: Record<string, JobEventType> = {
  ADDED: JOB_EVENT_TYPES.add,
  MODIFIED: JOB_EVENT_TYPES.update,
  DELETED: JOB_EVENT_TYPES.delete,
};

/**
 * Lists the Jobs, then watches from the list's resourceVersion; a watch the server ends is
 * opened again from the last version seen, and one whose version expired (410) lists again.
 */
export async function startKubernetesJobSource(options: KubernetesJobSourceOptions): Promise<JobSource> {
  const { access, namespace, logger } = options;
  const source = access.server.replace(/\/+$/, '');
  const path = `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`;
  const selector = `labelSelector=${encodeURIComponent(options.labelSelector)}`;
  let closed = false;
  let current: ClientRequest | undefined;

  const open = (query: string, onResponse: (status: number, body: NodeJS.ReadableStream) => void): ClientRequest => {
    const url = new URL(`${path}?${query}`, `${source}/`);
    const req = request(url, {
      method: 'GET',
      headers: {
        accept: 'application/json',
        ...(access.token ? { authorization: `Bearer ${access.token}` } : {}),
      },
      ...(access.ca ? { ca: access.ca } : {}),
      ...(access.cert ? { cert: access.cert } : {}),
      ...(access.key ? { key: access.key } : {}),
    });
    req.on('response', (res) => onResponse(res.statusCode ?? 0, res));
    req.end();
    return req;
  };

  const list = (): Promise<string> =>
    new Promise((resolveList, reject) => {
      const req = open(selector, (status, body) => {
        const chunks: Buffer[] = [];
        body.on('data', (c: Buffer) => chunks.push(c));
        body.on('error', reject);
        body.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (status !== 200) return reject(new Error(`list Jobs in ${namespace}: ${status} ${text.slice(0, 300)}`));
          try {
            resolveList(
              (JSON.parse(text) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '',
            );
          } catch {
            reject(new Error(`list Jobs in ${namespace}: not a JobList: ${text.slice(0, 300)}`));
          }
        });
      });
      req.on('error', reject);
      current = req;
    });

  /** Resolves with the last resourceVersion seen when the watch ends, or `expired` for a 410. */
  const watch = (from: string): Promise<string | 'expired'> =>
    new Promise((resolveWatch, reject) => {
      let version = from;
      let expired = false;
      let delivering: Promise<void> = Promise.resolve();
      let answered = false;
      const req = open(`${selector}&watch=1&allowWatchBookmarks=true&resourceVersion=${from}`, (status, body) => {
        if (status !== 200) {
          body.resume();
          if (status === 410) return resolveWatch('expired');
          return reject(new Error(`watch Jobs in ${namespace}: ${status}`));
        }
        answered = true;
        let buffered = '';
        body.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            newline = buffered.indexOf('\n');
            if (line === '') continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch {
              logger.warn({ line: line.slice(0, 200) }, 'Job watch: not a watch event');
              continue;
            }
            if (event.type === 'ERROR') {
              expired = event.object.code === 410;
              if (!expired) logger.warn({ status: event.object }, 'Job watch error');
              continue;
            }
            version = event.object.metadata?.resourceVersion ?? version;
            const type = WATCH_TYPES[event.type];
            if (type !== undefined) delivering = options.deliver(jobEventOf(type, source, event.object));
          }
        });
        body.on('error', () => undefined);
        body.on('close', () => void delivering.then(() => resolveWatch(expired ? 'expired' : version)));
      });
      // Cut after it answered: watch again from the last version seen (nothing is missed).
      req.on('error', (error) => (closed || answered ? resolveWatch(version) : reject(error)));
      current = req;
    });

  // The first list before start() returns: a Job created afterwards is seen.
  let version = await list().catch((error: unknown): string => {
    logger.warn({ err: (error as Error).message }, 'Job source: cannot list Jobs; trying again');
    return 'expired';
  });
  const loop = (async () => {
    while (!closed) {
      try {
        if (version === 'expired') version = await list();
        const began = Date.now();
        version = await watch(version);
        // A watch the server ends at once, again and again, must not spin.
        if (Date.now() - began < 1000 && !closed) await sleep(options.retryMs ?? 1000);
      } catch (error) {
        if (closed) return;
        // The version stays: the next watch resumes from it, and only a 410 (too old) lists again.
        logger.warn({ err: (error as Error).message }, 'Job source: the API failed; trying again');
        await sleep(options.retryMs ?? 1000);
      }
    }
  })();
  logger.info({ namespace, labelSelector: options.labelSelector, server: source }, 'Job source watching');
  return {
    async close() {
      closed = true;
      current?.destroy();
      await loop.catch(() => undefined);
    },
  };
}
