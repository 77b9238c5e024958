/**
 * A stand-in for the Kubernetes API server (no real API server runs on these machines),
 * limited to what the Job launcher uses: batch/v1 Jobs in one namespace — create, get, list
 * (with labelSelector), watch, delete. It checks what a real server would refuse (verbs,
 * paths, the bearer token, the body's apiVersion/kind/name/namespace, a Job without
 * containers or with a restartPolicy Jobs do not allow, and, when given, the body against a
 * JSON Schema of batch/v1 Job) and answers like one: the created object with uid,
 * resourceVersion and creationTimestamp; `Status` objects for 401, 403, 404, 405, 409, 422;
 * watch events as JSON lines. Tests drive the Jobs' fate (fail, complete, delete) and read
 * every request back.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

export interface KubernetesApiStandinOptions {
  namespace: string;
  /** The bearer token every request must carry. */
  token: string;
  /** Checks a Job body (e.g. against the batch/v1 JSON Schema); messages become a 422. */
  validateJob?(body: unknown): string[];
}

/** A Job as JSON: the stand-in stores what it was given. */
// biome-ignore lint/suspicious/noExplicitAny: a Job of any shape the API accepts; tests read what they need
type Job = Record<string, any>;

export interface KubernetesApiStandin {
  url: string;
  requests: StandinRequest[];
  jobs(): Job[];
  job(name: string): Job | undefined;
  /** Marks a Job failed, as the Job controller does when backoffLimit is exceeded or a FailJob rule matches. */
  failJob(name: string, reason: string, message: string): void;
  completeJob(name: string): void;
  /** Deletes a Job as someone else would (kubectl delete). */
  deleteJob(name: string): void;
  /** Ends every open watch, as an API server does after its timeout. */
  closeWatches(): void;
  close(): Promise<void>;
}

function status(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Does a label selector of `k=v` / `k!=v` / `k` terms (all must hold) match these labels? */
function matches(selector: string | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.includes('!=') ? term.split('!=') : term.split('=');
    if (value === undefined) return key! in labels;
    return term.includes('!=') ? labels[key!] !== value : labels[key!] === value;
  });
}

export async function startKubernetesApiStandin(options: KubernetesApiStandinOptions): Promise<KubernetesApiStandin> {
  const jobs = new Map<string, Job>();
  const requests: StandinRequest[] = [];
  const watchers = new Set<{ res: ServerResponse; selector: string | undefined }>();
  let resourceVersion = 1000;

  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', job: Job): void => {
    for (const w of watchers)
      if (matches(w.selector, job.metadata.labels)) w.res.write(`${JSON.stringify({ type, object: job })}\n`);
  };
  const bump = (job: Job): void => {
    job.metadata.resourceVersion = String(++resourceVersion);
  };
  const setCondition = (name: string, type: 'Failed' | 'Complete', reason: string, message: string): void => {
    const job = jobs.get(name);
    if (!job) throw new Error(`no Job ${name}`);
    const now = new Date().toISOString();
    job.status = {
      ...job.status,
      active: 0,
      [type === 'Failed' ? 'failed' : 'succeeded']: 1,
      conditions: [{ type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now }],
    };
    bump(job);
    emit('MODIFIED', job);
  };

  const jobProblems = (body: Job): string[] => {
    const problems: string[] = [];
    if (body?.apiVersion !== 'batch/v1')
      problems.push(`apiVersion: Invalid value: "${body?.apiVersion}": must be batch/v1`);
    if (body?.kind !== 'Job') problems.push(`kind: Invalid value: "${body?.kind}": must be Job`);
    const name = body?.metadata?.name;
    if (typeof name !== 'string' || name.length > 63 || !DNS_SUBDOMAIN.test(name))
      problems.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 name of at most 63 characters`);
    if (body?.metadata?.namespace !== undefined && body.metadata.namespace !== options.namespace)
      problems.push(
        `metadata.namespace: Invalid value: "${body.metadata.namespace}": does not match the namespace of the request`,
      );
    const pod = body?.spec?.template?.spec;
    if (!Array.isArray(pod?.containers) || pod.containers.length === 0)
      problems.push('spec.template.spec.containers: Required value');
    if (!['Never', 'OnFailure'].includes(pod?.restartPolicy))
      problems.push(
        `spec.template.spec.restartPolicy: Unsupported value: "${pod?.restartPolicy}": supported values: "OnFailure", "Never"`,
      );
    if (body?.spec?.podFailurePolicy && pod?.restartPolicy !== 'Never')
      problems.push('spec.podFailurePolicy: Invalid value: only allowed with restartPolicy Never');
    if (body?.spec?.selector !== undefined) problems.push('spec.selector: the Job controller generates it');
    return [...problems, ...(options.validateJob?.(body) ?? [])];
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string): number => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const query = Object.fromEntries(url.searchParams);
    const reply = (code: number, body: unknown): number => {
      res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      return code;
    };
    if (req.headers.authorization !== `Bearer ${options.token}`)
      return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    const path = url.pathname;
    if (!path.startsWith('/apis/batch/v1/namespaces/'))
      return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, namespace, resource, name, extra] = path.slice('/apis/batch/v1'.length).split('/').slice(1);
    if (resource !== 'jobs' || extra !== undefined)
      return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    if (namespace !== options.namespace) {
      return reply(
        403,
        status(
          403,
          'Forbidden',
          `jobs.batch is forbidden: User "system:serviceaccount:${options.namespace}:queue-manager" cannot ${req.method?.toLowerCase()} resource "jobs" in API group "batch" in the namespace "${namespace}"`,
          { group: 'batch', kind: 'jobs' },
        ),
      );
    }
    if (name === undefined) {
      if (req.method === 'POST') {
        let body: Job;
        try {
          body = JSON.parse(text) as Job;
        } catch {
          return reply(400, status(400, 'BadRequest', 'the request body is not JSON'));
        }
        const problems = jobProblems(body);
        if (problems.length > 0)
          return reply(
            422,
            status(422, 'Invalid', `Job.batch "${body?.metadata?.name}" is invalid: ${problems.join(', ')}`, {
              name: body?.metadata?.name,
              group: 'batch',
              kind: 'Job',
            }),
          );
        if (jobs.has(body.metadata.name))
          return reply(
            409,
            status(409, 'AlreadyExists', `jobs.batch "${body.metadata.name}" already exists`, {
              name: body.metadata.name,
              group: 'batch',
              kind: 'jobs',
            }),
          );
        const job: Job = structuredClone(body);
        job.metadata = {
          ...job.metadata,
          namespace: options.namespace,
          uid: randomUUID(),
          creationTimestamp: new Date().toISOString(),
          generation: 1,
        };
        job.status = { active: 1, startTime: new Date().toISOString() };
        bump(job);
        jobs.set(job.metadata.name, job);
        emit('ADDED', job);
        return reply(201, job);
      }
      if (req.method !== 'GET')
        return reply(
          405,
          status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`),
        );
      if (query.watch === 'true' || query.watch === '1') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders(); // a watch answers at once; events follow as they happen
        const since = Number(query.resourceVersion ?? 0);
        for (const job of jobs.values())
          if (Number(job.metadata.resourceVersion) > since && matches(query.labelSelector, job.metadata.labels))
            res.write(`${JSON.stringify({ type: 'ADDED', object: job })}\n`);
        const watcher = { res, selector: query.labelSelector };
        watchers.add(watcher);
        res.on('close', () => watchers.delete(watcher));
        return 200;
      }
      const items = [...jobs.values()].filter((j) => matches(query.labelSelector, j.metadata.labels));
      return reply(200, {
        apiVersion: 'batch/v1',
        kind: 'JobList',
        metadata: { resourceVersion: String(resourceVersion) },
        items,
      });
    }
    const job = jobs.get(name);
    const notFound = () =>
      reply(404, status(404, 'NotFound', `jobs.batch "${name}" not found`, { name, group: 'batch', kind: 'jobs' }));
    if (req.method === 'GET') return job ? reply(200, job) : notFound();
    if (req.method === 'DELETE') {
      if (!job) return notFound();
      let policy = query.propagationPolicy;
      if (text !== '') policy = (JSON.parse(text) as { propagationPolicy?: string }).propagationPolicy ?? policy;
      if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy))
        return reply(400, status(400, 'BadRequest', `propagationPolicy: Unsupported value: "${policy}"`));
      jobs.delete(name);
      job.metadata.deletionTimestamp = new Date().toISOString();
      bump(job);
      emit('DELETED', job);
      return reply(200, job);
    }
    return reply(
      405,
      status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://standin');
      const code = handle(req, res, text);
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
        status: code,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    jobs: () => [...jobs.values()],
    job: (name) => jobs.get(name),
    failJob: (name, reason, message) => setCondition(name, 'Failed', reason, message),
    completeJob: (name) => setCondition(name, 'Complete', 'Completed', 'Reached expected number of succeeded pods'),
    deleteJob(name) {
      const job = jobs.get(name);
      if (!job) return;
      jobs.delete(name);
      bump(job);
      emit('DELETED', job);
    },
    closeWatches() {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    close: () =>
      new Promise((resolve) => {
        for (const w of watchers) w.res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
