#!/usr/bin/env bash
# `make deploy` (after `make manifests` has bundled and checked everything): deploys StreamForge
# to the cluster of kubectl's current context, in dependency order:
#   Job images (pack build, pushed) -> namespace -> Secrets present? -> ConfigMap (with the Job
#   images' references), RBAC -> KafkaTopics (Ready) -> dead-letter KafkaSinks (Ready) ->
#   `func deploy` of each function -> the Job events' ApiServerSource and the deadline
#   PingSource (Ready) -> KafkaSources (Ready) -> monitoring.
# Environment: REGISTRY (or FUNC_REGISTRY) where func and pack push images, e.g. ghcr.io/you;
# FUNC_DEPLOY_FLAGS extra flags for every `func deploy` (e.g. --remote to build in the cluster);
# PACK_BUILD_FLAGS extra flags for `pack build`; LOADER_WS_IMAGE=<image> uses an image built
# elsewhere instead of building loader-ws. See docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=streamforge
fail() { echo "make deploy: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not on PATH. $2"; }
plan() { node scripts/deploy/plan.ts "$@"; }

need kubectl "Install kubectl and select the cluster with \`kubectl config use-context\` (https://kubernetes.io/docs/tasks/tools/)."
need func "Install the Knative Functions CLI, knative-v1.23 or later (https://knative.dev/docs/functions/install-func/)."
context=$(kubectl config current-context 2>/dev/null) || fail "kubectl has no current context: select a cluster first."
registry=${REGISTRY:-${FUNC_REGISTRY:-}}
if [[ -z "$registry" ]] && ! grep -qE '^(registry|image): *[^ "]' functions/*/func.yaml; then
  fail "set REGISTRY to the image registry func pushes to, e.g. \`make deploy REGISTRY=ghcr.io/you\`."
fi
echo "make deploy: context ${context}, namespace ${NAMESPACE}${registry:+, registry ${registry}}"

# Job images (loader-ws): func builds only functions, so pack builds these from their image
# folder with the same builder (scripts/deploy/job-images.ts). Checked before anything is applied.
# A plain assignment, so that a failing plan (no bundle: run make bundles) stops the deploy.
job_plan=$(plan job-images "${registry:-registry.invalid}")
mapfile -t job_images <<<"$job_plan"
builds=0
for line in "${job_images[@]}"; do
  [[ -n "$line" ]] || continue
  read -r _ key _ <<<"$line"
  [[ -n "${!key:-}" ]] || builds=$((builds + 1))
done
if ((builds > 0)); then
  [[ -n "$registry" ]] || fail "set REGISTRY: the loader-ws image is built with pack and pushed there (or set LOADER_WS_IMAGE to an image built elsewhere)."
  need pack "Install the Cloud Native Buildpacks CLI, pack (https://buildpacks.io/docs/for-platform-operators/how-to/integrate-ci/pack/), or set LOADER_WS_IMAGE to an image built elsewhere."
  if command -v docker >/dev/null 2>&1; then
    docker info >/dev/null 2>&1 || fail "docker is installed but its daemon does not answer (\`docker info\`): pack builds in containers."
  elif command -v podman >/dev/null 2>&1; then
    [[ -n "${DOCKER_HOST:-}" ]] || fail "pack reaches Podman through its socket: run \`podman system service\` and set DOCKER_HOST (https://buildpacks.io/docs/for-app-developers/how-to/special-cases/build-on-podman/)."
  else
    fail "neither docker nor podman is on PATH: pack (and func) build images in containers."
  fi
fi

# Prerequisites: Knative Serving, eventing-kafka-broker (KafkaSource, KafkaSink), Strimzi, KEDA.
for crd in services.serving.knative.dev kafkasources.sources.knative.dev kafkasinks.eventing.knative.dev apiserversources.sources.knative.dev pingsources.sources.knative.dev kafkatopics.kafka.strimzi.io scaledobjects.keda.sh; do
  kubectl get crd "$crd" >/dev/null 2>&1 || fail "the cluster lacks the CRD $crd: install its operator first (docs/deploy.md, Prerequisites)."
done
keda=$(kubectl -n knative-eventing get configmap config-kafka-features -o jsonpath='{.data.controller-autoscaler-keda}' 2>/dev/null || true)
[[ "$keda" == enabled ]] || echo "make deploy: warning: controller-autoscaler-keda is not enabled in knative-eventing/config-kafka-features; KafkaSources will not scale with lag (docs/deploy.md)." >&2

declare -A job_refs=()
for line in "${job_images[@]}"; do
  [[ -n "$line" ]] || continue
  read -r name key builder dir image <<<"$line"
  if [[ -n "${!key:-}" ]]; then
    job_refs[$key]=${!key}
    continue
  fi
  echo "make deploy: pack build ${image} (${name})"
  # shellcheck disable=SC2086 # PACK_BUILD_FLAGS is a list of flags
  pack build "$image" --path "$dir" --builder "$builder" --publish ${PACK_BUILD_FLAGS:-}
  job_refs[$key]=$image
done

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

# The ConfigMap with the Job images' references filled in (knative/config.yaml leaves them
# empty), applied in one step: a manager starting meanwhile never reads an empty reference. A
# reference that changed is noted, so that the functions reading it get a new revision.
declare -A previous_refs=()
refs_json=""
for key in "${!job_refs[@]}"; do
  previous_refs[$key]=$(kubectl -n "$NAMESPACE" get configmap streamforge-config -o "jsonpath={.data.${key}}" 2>/dev/null || true)
  refs_json+="${refs_json:+,}\"${key}\":\"${job_refs[$key]}\""
done
kubectl patch --local -f knative/config.yaml --type merge -p "{\"data\":{${refs_json}}}" -o yaml | kubectl apply -f -
kubectl apply -f knative/rbac.yaml -f knative/network-policy.yaml
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

# A pod reads ConfigMap values when it starts: where a Job image changed since the last deploy,
# a new revision of each function that reads it (the manager) picks the new reference up.
for key in "${!job_refs[@]}"; do
  [[ -n "${previous_refs[$key]}" && "${previous_refs[$key]}" != "${job_refs[$key]}" ]] || continue
  annotation="streamforge.dev/$(tr 'A-Z_' 'a-z-' <<<"$key")"
  for name in $(plan readers "$key"); do
    kubectl -n "$NAMESPACE" patch ksvc "$name" --type merge \
      -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"${annotation}\":\"${job_refs[$key]}\"}}}}}"
  done
done

# The loader-ws Jobs' changes → queue-manager (ApiServerSource), once its sink Service exists.
kubectl apply -f knative/job-events.yaml
kubectl -n "$NAMESPACE" wait --for=condition=Ready --timeout=180s -f knative/job-events.yaml
# The deadline tick → queue-manager (PingSource): ends workflows that went overdue while it was at zero.
kubectl apply -f knative/deadline-ping.yaml
kubectl -n "$NAMESPACE" wait --for=condition=Ready --timeout=180s -f knative/deadline-ping.yaml

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
for key in "${!job_refs[@]}"; do echo "make deploy: ${key}=${job_refs[$key]}"; done
