#!/usr/bin/env bash
# The local ambient mesh demo: installs and builds everything (scripts/bootstrap.sh), then runs the bundled
# `meshctl demo` (a 2-node cluster on network namespaces; needs root). Extra arguments go to meshctl demo,
# e.g. scripts/demo.sh --keep
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "error: the local cluster creates network namespaces; run as root (sudo scripts/demo.sh)" >&2
  exit 1
fi
scripts/bootstrap.sh
exec node packages/meshctl/dist/meshctl.mjs demo "$@"
