/**
 * Plain requests to a Kubernetes API server for tests (node:https, the server's CA trusted,
 * a bearer token), answered as the server answered: status and JSON body, `Status` objects
 * included, so a test can assert on the server's own message. What the code under test
 * does goes through its own client (@kubernetes/client-node); this is the test's side.
 */
import { request } from 'node:https';

export interface KubeCluster {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** A bearer token; the admin's (system:masters) for the test run's server. */
  token: string;
  /** PEM certificates that verify the server. */
  ca: Buffer | string;
}

export interface KubeRequest {
  method: string;
  path: string;
  body?: unknown;
  /** Default application/json; server-side apply sends application/apply-patch+yaml. */
  contentType?: string;
  /** Another identity than the cluster's token (a ServiceAccount's). */
  token?: string;
}

/** The status and body as the server answered; a refusal's body is a `Status` object (`message`, `reason`, `code`). */
export interface KubeResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: any object the API returns; tests read the fields they know
  body: any;
}

export async function kubeRequest(cluster: KubeCluster, req: KubeRequest): Promise<KubeResponse> {
  const url = new URL(req.path, cluster.url);
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  return await new Promise<KubeResponse>((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: req.method,
        ca: cluster.ca,
        headers: {
          authorization: `Bearer ${req.token ?? cluster.token}`,
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': req.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // /readyz and friends answer plain text
          }
          resolve({ status: response.statusCode ?? 0, body });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${req.method} ${req.path}: no answer in 30 s`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** The request's answer when its status is one of `expected`, else an error with the server's message. */
export async function kubeCall(cluster: KubeCluster, req: KubeRequest, expected = [200, 201]): Promise<KubeResponse> {
  const response = await kubeRequest(cluster, req);
  if (!expected.includes(response.status))
    throw new Error(
      `${req.method} ${req.path}: ${response.status} ${typeof response.body === 'object' ? response.body.message : response.body}`,
    );
  return response;
}
