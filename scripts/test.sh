#!/usr/bin/env bash
# README command 2: installs what is needed, then runs every check and test (static checks, unit,
# integration on real network namespaces, local end-to-end). Ends with one line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

scripts/bootstrap.sh || exit 1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
status=0

say "module boundaries"
node tools/check-boundaries.mjs || status=1

if grep -q '"gen-check"' packages/api/package.json; then
  say "generated protobuf code is up to date"
  npm run --silent gen-check -w @mesh/api || status=1
fi

say "lint and typecheck"
npx nx run-many -t lint typecheck --outputStyle=static || status=1
# Scripts outside the packages (build, bench, CI helpers) are plain ESM for Node: linted here.
npx eslint tools bench/src || status=1

say "real kube-apiserver for istiod's Kubernetes tests (cached; ~3.5 min cold build)"
# Without it the packages/istiod/test/kube tests skip; a failed build is a failed check, not a silent skip.
if ! tools/kube/build-apiserver.sh >/dev/null; then
  echo "error: tools/kube/build-apiserver.sh failed (see its output above); istiod's real-apiserver tests will skip" >&2
  status=1
fi

say "tests (unit, integration, e2e)"
find . -name .vitest-results.json -not -path '*/node_modules/*' -delete
npx vitest run --root tools --reporter=default --reporter=json --outputFile.json=.vitest-results.json || status=1
# One package at a time: network tests create namespaces and processes, and the machine has two cores.
npx nx run-many -t test --parallel=1 --outputStyle=stream \
  -- --passWithNoTests --reporter=default --reporter=json --outputFile.json=.vitest-results.json || status=1

node tools/test-summary.mjs || status=1
exit $status
