#!/usr/bin/env bash
# End-to-end on kind: create the cluster, build and load the images, install the Gateway API CRDs and the
# charts in Istio's order, wait for readiness, tear down.
# Usage: kind/mesh.sh [--dry-run] <step>...   steps: create build load gateway-api install wait down | up (= all but down)
# Env: CLUSTER_NAME (mesh), CLUSTER_CONFIG (kind/cluster.yaml), NAMESPACE (istio-system), HUB (mesh), TAG,
#      GATEWAY_API_VERSION (v1.2.1), TIMEOUT (300s).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER_NAME=${CLUSTER_NAME:-mesh}
CLUSTER_CONFIG=${CLUSTER_CONFIG:-kind/cluster.yaml}
NAMESPACE=${NAMESPACE:-istio-system}
HUB=${HUB:-mesh}
TAG=${TAG:-$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' charts/istiod/Chart.yaml)}
GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-v1.2.1}
# The Gateway API standard channel, as Istio's docs install it (not fetched by any test here).
GATEWAY_API_URL=${GATEWAY_API_URL:-https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml}
TIMEOUT=${TIMEOUT:-300s}
IMAGES=(istiod ztunnel install-cni waypoint)
dry_run=false

run() {
  if $dry_run; then printf '%s\n' "$*"; else echo "+ $*" >&2; "$@"; fi
}

need() {
  $dry_run && return 0
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is not installed (needed for this step)" >&2; exit 3; }
  done
}

step_create() { need kind; run kind create cluster --name "$CLUSTER_NAME" --config "$CLUSTER_CONFIG" --wait "$TIMEOUT"; }
step_build() { if $dry_run; then HUB=$HUB TAG=$TAG images/build.sh --dry-run; else HUB=$HUB TAG=$TAG images/build.sh; fi; }
step_load() {
  need kind
  for image in "${IMAGES[@]}"; do run kind load docker-image "$HUB/$image:$TAG" --name "$CLUSTER_NAME"; done
}
step_gateway_api() { need kubectl; run kubectl apply --server-side -f "$GATEWAY_API_URL"; }
step_install() {
  need helm
  local common=(--namespace "$NAMESPACE" --set "hub=$HUB" --set "tag=$TAG")
  run helm upgrade --install istio-base charts/base --namespace "$NAMESPACE" --create-namespace
  run helm upgrade --install istiod charts/istiod "${common[@]}" -f charts/istiod/files/profile-ambient.yaml --wait --timeout "$TIMEOUT"
  run helm upgrade --install istio-cni charts/cni "${common[@]}" -f charts/cni/files/profile-ambient.yaml --wait --timeout "$TIMEOUT"
  run helm upgrade --install ztunnel charts/ztunnel "${common[@]}" -f charts/ztunnel/files/profile-ambient.yaml --wait --timeout "$TIMEOUT"
}
step_wait() {
  need kubectl
  run kubectl -n "$NAMESPACE" rollout status deployment/istiod --timeout "$TIMEOUT"
  run kubectl -n "$NAMESPACE" rollout status daemonset/istio-cni-node --timeout "$TIMEOUT"
  run kubectl -n "$NAMESPACE" rollout status daemonset/ztunnel --timeout "$TIMEOUT"
  run kubectl -n "$NAMESPACE" get configmap istio-ca-root-cert
}
step_down() { need kind; run kind delete cluster --name "$CLUSTER_NAME"; }

steps=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    up) steps+=(create build load gateway-api install wait) ;;
    create|build|load|gateway-api|install|wait|down) steps+=("$arg") ;;
    *) echo "error: unknown step '$arg' (create build load gateway-api install wait down up)" >&2; exit 2 ;;
  esac
done
[ "${#steps[@]}" -gt 0 ] || { sed -n '2,7p' "$0" >&2; exit 2; }
for s in "${steps[@]}"; do "step_${s//-/_}"; done
