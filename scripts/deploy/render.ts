/**
 * What the cluster would create from the project's manifests, rendered here so that it can
 * be checked against the official CRDs without a cluster:
 *
 * - the Knative Service `func deploy` generates from a func.yaml (knative/func
 *   pkg/knative/deployer.go): scale options become revision-template
 *   annotations, `{{ configMap:… }}` / `{{ secret:… }}` become configMapKeyRef /
 *   secretKeyRef (a whole map becomes envFrom), health endpoints become HTTP probes on 8080;
 * - the KEDA ScaledObject the KafkaSource controller generates from a source's
 *   `autoscaling.eventing.knative.dev/*` annotations (control-plane/pkg/autoscaler/keda):
 *   one `kafka` trigger per topic, on the source's consumer group.
 *
 * The image is a placeholder: func fills in the one it built and pushed.
 */
import { stringify } from 'yaml';
import { parseEnvReference, type Doc, type ManifestDoc } from './manifests.ts';

export const FUNC_HTTP_PORT = 8080;
// Defaults of the KafkaSource KEDA autoscaler (ConfigMap config-kafka-autoscaler).
export const KEDA_SOURCE_DEFAULTS = {
  'min-scale': 0,
  'max-scale': 50,
  'polling-interval': 10,
  'cooldown-period': 30,
  'lag-threshold': 100,
} as const;
const SCALE_ANNOTATION = 'autoscaling.eventing.knative.dev/';

function envEntry(name: string, value: string): { env?: Doc; envFrom?: Doc } {
  const ref = parseEnvReference(value);
  if (!ref || ref.kind === 'env') return { env: { name, value } };
  if (ref.key === undefined)
    return {
      envFrom: ref.kind === 'configMap' ? { configMapRef: { name: ref.name } } : { secretRef: { name: ref.name } },
    };
  const selector = { name: ref.name, key: ref.key };
  return {
    env: { name, valueFrom: ref.kind === 'configMap' ? { configMapKeyRef: selector } : { secretKeyRef: selector } },
  };
}

/** The ksvc func deploy would apply for a func.yaml. */
const VISIBILITY = 'networking.knative.dev/visibility';

export function renderKnativeService(
  funcYaml: Doc,
  image = `registry.example/streamforge/${funcYaml.name}:latest`,
): Doc {
  const scale = funcYaml.deploy?.options?.scale ?? {};
  const resources = funcYaml.deploy?.options?.resources ?? {};
  const userAnnotations: Record<string, string> = funcYaml.deploy?.annotations ?? {};
  const templateAnnotations: Record<string, string> = { ...userAnnotations };
  if (scale.min !== undefined) templateAnnotations['autoscaling.knative.dev/min-scale'] = String(scale.min);
  if (scale.max !== undefined) templateAnnotations['autoscaling.knative.dev/max-scale'] = String(scale.max);
  if (scale.metric !== undefined) templateAnnotations['autoscaling.knative.dev/metric'] = String(scale.metric);
  if (scale.target !== undefined)
    templateAnnotations['autoscaling.knative.dev/target'] = Number(scale.target).toFixed(6);
  if (scale.utilization !== undefined)
    templateAnnotations['autoscaling.knative.dev/target-utilization-percentage'] = Number(scale.utilization).toFixed(6);
  // func puts deploy.labels on the Service and its revisions, beside its own.
  const userLabels = Object.fromEntries(
    ((funcYaml.deploy?.labels ?? []) as Array<{ key: string; value?: string }>).map((l) => [l.key, l.value ?? '']),
  );
  const labels: Record<string, string> = {
    ...userLabels,
    'function.knative.dev/name': String(funcYaml.name),
    'function.knative.dev/runtime': String(funcYaml.runtime ?? ''),
  };
  // Visibility is the Service's (its route), not its revisions' pods'.
  const { [VISIBILITY]: _visibility, ...podLabels } = labels;
  const env: Doc[] = [];
  const envFrom: Doc[] = [];
  for (const e of (funcYaml.run?.envs ?? []) as Array<{ name?: string; value?: string }>) {
    if (e.value === undefined) continue;
    const entry = envEntry(e.name ?? '', e.value);
    if (entry.env) env.push(entry.env);
    if (entry.envFrom) envFrom.push(entry.envFrom);
  }
  const probe = (path: string | undefined) => ({ httpGet: { path, port: FUNC_HTTP_PORT } });
  const container: Doc = {
    image,
    ...(env.length > 0 ? { env } : {}),
    ...(envFrom.length > 0 ? { envFrom } : {}),
    livenessProbe: probe(funcYaml.deploy?.healthEndpoints?.liveness ?? '/health/liveness'),
    readinessProbe: probe(funcYaml.deploy?.healthEndpoints?.readiness ?? '/health/readiness'),
  };
  const requests = resources.requests;
  const limits = resources.limits ? { ...resources.limits } : undefined;
  const concurrency = limits?.concurrency;
  if (limits) delete limits.concurrency;
  if (requests || (limits && Object.keys(limits).length > 0))
    container.resources = {
      ...(requests ? { requests } : {}),
      ...(limits && Object.keys(limits).length > 0 ? { limits } : {}),
    };
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: funcYaml.name,
      namespace: funcYaml.namespace ?? funcYaml.deploy?.namespace,
      labels,
      ...(Object.keys(userAnnotations).length > 0 ? { annotations: userAnnotations } : {}),
    },
    spec: {
      template: {
        metadata: {
          labels: podLabels,
          ...(Object.keys(templateAnnotations).length > 0 ? { annotations: templateAnnotations } : {}),
        },
        spec: {
          ...(funcYaml.deploy?.serviceAccountName ? { serviceAccountName: funcYaml.deploy.serviceAccountName } : {}),
          ...(concurrency !== undefined ? { containerConcurrency: concurrency } : {}),
          containers: [container],
        },
      },
    },
  };
}

/** An autoscaling annotation of a KafkaSource as a number, or the controller's default. */
export function sourceScale(source: Doc, key: keyof typeof KEDA_SOURCE_DEFAULTS): number {
  const raw = source.metadata?.annotations?.[SCALE_ANNOTATION + key];
  return raw === undefined ? KEDA_SOURCE_DEFAULTS[key] : Number(raw);
}

/** The ScaledObject the KafkaSource controller would create for a source (scaling its consumers by lag). */
export function renderScaledObject(source: Doc): Doc {
  const spec = source.spec ?? {};
  const topics: string[] = spec.topics ?? [];
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: `so-${source.metadata?.name}`, namespace: source.metadata?.namespace },
    spec: {
      // The controller targets its internal ConsumerGroup (named by UID in a cluster).
      scaleTargetRef: {
        apiVersion: 'internal.kafka.eventing.knative.dev/v1alpha1',
        kind: 'ConsumerGroup',
        name: String(source.metadata?.name),
      },
      pollingInterval: sourceScale(source, 'polling-interval'),
      cooldownPeriod: sourceScale(source, 'cooldown-period'),
      minReplicaCount: sourceScale(source, 'min-scale'),
      maxReplicaCount: sourceScale(source, 'max-scale'),
      triggers: topics.map((topic) => ({
        type: 'kafka',
        metadata: {
          bootstrapServers: (spec.bootstrapServers ?? []).join(','),
          consumerGroup: String(spec.consumerGroup),
          topic,
          lagThreshold: String(sourceScale(source, 'lag-threshold')),
          allowIdleConsumers: 'false',
        },
      })),
    },
  };
}

export function renderAll(
  functions: Array<{ funcYaml: Doc }>,
  kafkaSources: ManifestDoc[],
): { services: Doc[]; scaledObjects: Doc[] } {
  return {
    services: functions.map((f) => renderKnativeService(f.funcYaml)),
    scaledObjects: kafkaSources
      .filter(
        (s) => s.doc.kind === 'KafkaSource' && s.doc.metadata?.annotations?.[`${SCALE_ANNOTATION}class`] !== 'disabled',
      )
      .map((s) => renderScaledObject(s.doc)),
  };
}

export function toYamlStream(docs: Doc[], header: string): string {
  return `${header}\n${docs.map((d) => `---\n${stringify(d, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd()}`).join('\n')}\n`;
}
