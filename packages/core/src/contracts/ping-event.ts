/**
 * The CloudEvent a Knative PingSource sends on its schedule (knative/deadline-ping.yaml):
 * type `dev.knative.sources.ping`, source `/apis/v1/namespaces/<ns>/pingsources/<name>`,
 * and the manifest's `data` as the body, with its `contentType`. The local platform sends
 * the same (packages/platform/src/ping-source.ts).
 */
export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

/** The `source` attribute of a PingSource's events. */
export function pingSourceOf(namespace: string, name: string): string {
  return `/apis/v1/namespaces/${namespace}/pingsources/${name}`;
}
