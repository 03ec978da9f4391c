#!/usr/bin/env bash
# Installs everything a fresh clone needs on a Debian machine with Node 20: Debian packages (when root and
# missing), npm packages, the native addon, and the build of every package. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.stdout.write(String(a>20||(a===20&&b>=19)))' 2>/dev/null || echo false)
if [ "$node_ok" != true ]; then
  echo "error: Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# Debian packages the mesh and its tests use: kernel networking tools, packet capture, curl/nc for pods.
DEB_PACKAGES=(iproute2 iptables nftables ipset util-linux tcpdump curl netcat-openbsd openssl procps python3 make g++
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev)
if [ "${MESH_BENCH_DEPS:-}" = 1 ]; then
  DEB_PACKAGES+=(stunnel4 haproxy nginx-light wrk iperf3)
fi
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing Debian packages (${missing[*]}); run as root or install them to use the local cluster" >&2
  fi
fi

say "installing npm packages"
# `npm install` rather than `npm ci`: it installs the locked versions too, and npm 11 writes lockfiles
# without other platforms' optional packages (rollup, esbuild), which `npm ci` then rejects as out of sync.
npm install --no-audit --no-fund --loglevel=error

if [ -f packages/netns/binding.gyp ]; then
  say "building the native addon (@mesh/netns)"
  npm run --silent build:native -w @mesh/netns >/dev/null
fi

# CNI agent: mesh-netns-exec, one process per pod netns operation instead of one nsenter per command.
if [ -f packages/cni/native-plugin/netns-exec.c ]; then
  say "building the CNI netns helper (@mesh/cni)"
  npm run --silent build:native-plugin -w @mesh/cni >/dev/null
fi

say "building all packages"
npx nx run-many -t build --outputStyle=static >/dev/null
