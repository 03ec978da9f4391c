#!/usr/bin/env bash
# Builds a real kube-apiserver (Kubernetes v1.20.2) from Debian bookworm's `kubernetes` source package with
# Debian's Go (golang-go 1.19), offline against the vendored tree, and installs Debian's etcd-server.
# Idempotent: the binary is cached under $MESH_KUBE_CACHE (default /var/cache/mesh-kube) and reused when present.
# Prints the binary path on stdout as its last line. See /work/shared/reference/real-kube-apiserver.md.
set -euo pipefail

CACHE_DIR="${MESH_KUBE_CACHE:-/var/cache/mesh-kube}"
BIN="$CACHE_DIR/kube-apiserver"
HERE="$(cd "$(dirname "$0")" && pwd)"
# The source package version this script is known to build; a different one fails early with a clear message.
EXPECTED_UPSTREAM="1.20"
KUBE_VERSION="1.20.2"

log() { printf '[build-apiserver] %s\n' "$*" >&2; }

install_debs() {
  local missing=()
  for p in golang-go etcd-server openssl patch; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "error: missing Debian packages (${missing[*]}) and not root; install them first"; exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive flock /tmp/mesh-apt.lock \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

install_debs
if [ -x "$BIN" ] && [ "${1:-}" != --force ]; then
  log "cached: $BIN"
  echo "$BIN"; exit 0
fi

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.build.lock"
flock 9
# Another build may have finished while we waited for the lock.
if [ -x "$BIN" ] && [ "${1:-}" != --force ]; then echo "$BIN"; exit 0; fi

start_s=$(date +%s)
WORK="$CACHE_DIR/work"
SRC_DL="$CACHE_DIR/src"
mkdir -p "$WORK" "$SRC_DL"

# --- 1. source package, via a private apt config so the system's sources are never touched -----------------
if ! ls "$SRC_DL"/kubernetes_*.dsc >/dev/null 2>&1; then
  APT_DIR="$CACHE_DIR/apt"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$APT_DIR/etc/preferences.d"
  printf 'deb-src http://deb.debian.org/debian bookworm main\ndeb-src http://deb.debian.org/debian-security bookworm-security main\n' \
    >"$APT_DIR/etc/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::Etc::Preferences=$APT_DIR/etc/preferences" -o "Dir::Etc::PreferencesParts=$APT_DIR/etc/preferences.d"
    -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache::Archives=$APT_DIR/archives"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root")
  log "apt-get update (private deb-src list)"
  apt-get "${APT_OPTS[@]}" update -qq >&2
  log "apt-get source --download-only kubernetes"
  (cd "$SRC_DL" && apt-get "${APT_OPTS[@]}" source --download-only kubernetes >&2)
fi

# --- 2. unpack the upstream tarball into a GOPATH (1.20 builds in GOPATH mode) -------------------------------
GOPATH_DIR="$WORK/gopath"
TREE="$GOPATH_DIR/src/k8s.io/kubernetes"
if [ ! -f "$TREE/.mesh-prepared" ]; then
  rm -rf "$GOPATH_DIR"
  mkdir -p "$(dirname "$TREE")"
  orig=$(ls "$SRC_DL"/kubernetes_*.orig.tar.* | head -1)
  log "unpacking $(basename "$orig")"
  mkdir -p "$TREE"
  tar -xf "$orig" -C "$TREE" --strip-components=1
  [ -f "$TREE/CHANGELOG/CHANGELOG-$EXPECTED_UPSTREAM.md" ] && [ ! -f "$TREE/CHANGELOG/CHANGELOG-1.21.md" ] \
    || { log "error: $(basename "$orig") is not Kubernetes $EXPECTED_UPSTREAM; this script knows how to build only that"; exit 1; }
  "$HERE/patch-reflect2.sh" "$TREE/vendor/github.com/modern-go/reflect2"
  touch "$TREE/.mesh-prepared"
fi

export GOPATH="$GOPATH_DIR" GO111MODULE=off GOFLAGS="" GOCACHE="$CACHE_DIR/gocache" CGO_ENABLED=0
cd "$TREE"

# --- 3. generate pkg/generated/openapi (not shipped in the tarball) ------------------------------------------
OPENAPI="pkg/generated/openapi/zz_generated.openapi.go"
if [ ! -f "$OPENAPI" ]; then
  log "building openapi-gen"
  go build -o "$WORK/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # Upstream's make feeds openapi-gen every package carrying a `+k8s:openapi-gen=` tag.
  pkgs=$(grep -rl --include=doc.go --include='*.go' -E '^// ?\+k8s:openapi-gen=' \
           pkg staging/src vendor/k8s.io 2>/dev/null \
         | xargs -n1 dirname | sort -u \
         | sed -e 's#^vendor/##' -e 's#^staging/src/##' -e 's#^pkg/#k8s.io/kubernetes/pkg/#' \
         | sort -u | paste -sd, -)
  log "generating $OPENAPI"
  # Generated under a temporary name and renamed, so an interrupted run never leaves a half file behind.
  "$WORK/openapi-gen" --input-dirs "$pkgs" --output-package k8s.io/kubernetes/pkg/generated/openapi \
    -O zz_generated.openapi.tmp --go-header-file hack/boilerplate/boilerplate.generatego.txt \
    --output-base "$GOPATH_DIR/src" --report-filename /dev/null >&2
  mv "${OPENAPI%.go}.tmp.go" "$OPENAPI"
fi

# --- 4. build only cmd/kube-apiserver ------------------------------------------------------------------------
log "go build ./cmd/kube-apiserver"
# Version stamps as upstream's hack/lib/version.sh sets them (--version reads component-base, /version reads
# client-go); in GOPATH mode both packages live under k8s.io/kubernetes/vendor/.
ldflags="-s -w"
for pkg in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=20 -X $pkg.gitTreeState=clean"
done
go build -trimpath -ldflags "$ldflags" \
  -o "$BIN.tmp" ./cmd/kube-apiserver
mv "$BIN.tmp" "$BIN"
log "built $BIN in $(( $(date +%s) - start_s ))s"
echo "$BIN"
