#!/usr/bin/env bash
# Applies reflect2-go1.18.patch to the vendored github.com/modern-go/reflect2 v1.0.1 given as $1.
# Go 1.18 changed reflect.mapiterinit to fill a caller-owned iterator; v1.0.1 links against the old
# signature, so json-iterator map iteration would read garbage. Idempotent.
set -euo pipefail
dir="$1"
patch_file="$(cd "$(dirname "$0")" && pwd)/reflect2-go1.18.patch"
if [ -f "$dir/go_above_118.go" ]; then echo "reflect2 already patched" >&2; exit 0; fi
grep -q 'func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) \*hiter' "$dir/unsafe_link.go" \
  || { echo "error: $dir is not the reflect2 v1.0.1 this patch expects" >&2; exit 1; }
patch -p1 --forward --batch -d "$dir" <"$patch_file" >&2
echo "reflect2 patched for Go >= 1.18" >&2
