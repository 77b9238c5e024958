#!/usr/bin/env bash
# `make deploy` (after `make manifests` has bundled and checked everything): deploys StreamForge
# to the cluster of kubectl's current context, in dependency order:
#   namespace -> Secrets present? -> ConfigMap, RBAC -> KafkaTopics (Ready) -> dead-letter
#   KafkaSinks (Ready) -> `func deploy` of each function -> KafkaSources (Ready) -> monitoring.
# Environment: REGISTRY (or FUNC_REGISTRY) where func pushes images, e.g. ghcr.io/you;
# FUNC_DEPLOY_FLAGS extra flags for every `func deploy` (e.g. --remote to build in the cluster).
# See docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=streamforge
fail() { echo "make deploy: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not on PATH. $2"; }
plan() { node scripts/deploy/plan.ts "$1"; }

need kubectl "Install kubectl and select the cluster with \`kubectl config use-context\` (https://kubernetes.io/docs/tasks/tools/)."
need func "Install the Knative Functions CLI, knative-v1.23 or later (https://knative.dev/docs/functions/install-func/)."
context=$(kubectl config current-context 2>/dev/null) || fail "kubectl has no current context: select a cluster first."
registry=${REGISTRY:-${FUNC_REGISTRY:-}}
if [[ -z "$registry" ]] && ! grep -qE '^(registry|image): *[^ "]' functions/*/func.yaml; then
  fail "set REGISTRY to the image registry func pushes to, e.g. \`make deploy REGISTRY=ghcr.io/you\`."
fi
echo "make deploy: context ${context}, namespace ${NAMESPACE}${registry:+, registry ${registry}}"

# Prerequisites: Knative Serving, eventing-kafka-broker (KafkaSource, KafkaSink), Strimzi, KEDA.
for crd in services.serving.knative.dev kafkasources.sources.knative.dev kafkasinks.eventing.knative.dev kafkatopics.kafka.strimzi.io scaledobjects.keda.sh; do
  kubectl get crd "$crd" >/dev/null 2>&1 || fail "the cluster lacks the CRD $crd: install its operator first (docs/deploy.md, Prerequisites)."
done
keda=$(kubectl -n knative-eventing get configmap config-kafka-features -o jsonpath='{.data.controller-autoscaler-keda}' 2>/dev/null || true)
[[ "$keda" == enabled ]] || echo "make deploy: warning: controller-autoscaler-keda is not enabled in knative-eventing/config-kafka-features; KafkaSources will not scale with lag (docs/deploy.md)." >&2

kubectl apply -f knative/namespace.yaml

# Secrets are never in the repository: they must exist with every key func.yaml references.
missing=()
while read -r name keys; do
  [[ -z "$name" ]] && continue
  data=$(kubectl -n "$NAMESPACE" get secret "$name" -o jsonpath='{.data}' 2>/dev/null) || { missing+=("$name ($keys)"); continue; }
  for key in $keys; do [[ "$data" == *"\"$key\""* ]] || missing+=("$name key $key"); done
done < <(plan secrets)
if ((${#missing[@]} > 0)); then
  fail "missing Secrets in namespace ${NAMESPACE}: ${missing[*]}. Create them with kubectl create secret (knative/secrets.yaml.example shows how)."
fi

kubectl apply -f knative/config.yaml -f knative/rbac.yaml -f knative/network-policy.yaml
kubectl apply -f knative/topics.yaml
kubectl wait --for=condition=Ready --timeout=180s -f knative/topics.yaml

mapfile -t sink_files < <(plan sink-files)
for file in "${sink_files[@]}"; do kubectl apply -f "$file"; done
((${#sink_files[@]} == 0)) || kubectl -n "$NAMESPACE" wait --for=condition=Ready --timeout=180s kafkasink --all

for name in $(plan functions); do
  echo "make deploy: func deploy --path functions/${name}"
  # shellcheck disable=SC2086 # FUNC_DEPLOY_FLAGS is a list of flags
  func deploy --path "functions/${name}" ${registry:+--registry "$registry"} ${FUNC_DEPLOY_FLAGS:-}
done

mapfile -t source_files < <(plan source-files)
for file in "${source_files[@]}"; do kubectl apply -f "$file"; done
((${#source_files[@]} == 0)) || kubectl -n "$NAMESPACE" wait --for=condition=Ready --timeout=300s kafkasource --all

if kubectl get crd podmonitors.monitoring.coreos.com >/dev/null 2>&1; then
  kubectl apply -f knative/monitoring/functions-podmonitor.yaml
else
  echo "make deploy: no Prometheus Operator (PodMonitor CRD): scrape the functions' /metrics yourself." >&2
fi
# The dashboard as a ConfigMap that Grafana's dashboard sidecar picks up (label grafana_dashboard=1).
kubectl -n "$NAMESPACE" create configmap streamforge-dashboard --from-file=knative/monitoring/streamforge-functions.dashboard.json \
  --dry-run=client -o yaml | kubectl label --local -f - grafana_dashboard=1 -o yaml | kubectl apply -f -
echo "make deploy: done. Functions: $(plan functions | tr '\n' ' ')"
