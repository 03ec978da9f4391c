#!/usr/bin/env bash
# Builds every mesh image from the repository root with the names and tags the charts use by default:
#   <hub>/istiod:<version>  <hub>/ztunnel:<version>  <hub>/install-cni:<version>  <hub>/waypoint:<version>
# <version> is the charts' appVersion (charts/istiod/Chart.yaml) unless TAG is set; HUB defaults to "mesh".
# Usage: images/build.sh [--dry-run] [image...]    (--dry-run prints the docker commands only)
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
HUB=${HUB:-mesh}
TAG=${TAG:-$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' charts/istiod/Chart.yaml)}
dry_run=false
images=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) images+=("$arg") ;;
  esac
done
[ "${#images[@]}" -gt 0 ] || images=(istiod ztunnel install-cni waypoint)

commands=()
for image in "${images[@]}"; do
  if [ ! -f "images/$image/Dockerfile" ]; then
    echo "error: no images/$image/Dockerfile (known: istiod ztunnel install-cni waypoint)" >&2
    exit 2
  fi
  commands+=("$DOCKER build -f images/$image/Dockerfile -t $HUB/$image:$TAG .")
done

if $dry_run; then
  printf '%s\n' "${commands[@]}"
  exit 0
fi

dockerfiles=()
for image in "${images[@]}"; do dockerfiles+=("images/$image/Dockerfile"); done
node tools/dockerfile-lint.mjs --non-root=istiod,waypoint "${dockerfiles[@]}"

if ! command -v "$DOCKER" >/dev/null 2>&1 || ! "$DOCKER" info >/dev/null 2>&1; then
  echo "error: no Docker engine reachable ('$DOCKER info' failed); install/start Docker, or run with --dry-run to see the commands" >&2
  exit 3
fi
export DOCKER_BUILDKIT=1
for cmd in "${commands[@]}"; do
  echo "+ $cmd" >&2
  $cmd
done
