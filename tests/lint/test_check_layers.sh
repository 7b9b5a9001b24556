#!/usr/bin/env bash
# The layer check (tools/check-layers.py) passes on the tree and fails when a
# lower layer reaches up: a copy of libshifan/ with one bad include in base/,
# and one ZeroMQ call in domain/, must each be refused.
# Usage: test_check_layers.sh RULES [BUILD_DIR]
set -euo pipefail
SRC=${SHIFAN_SOURCE_DIR:?}
RULES=${1:?rules}
BUILD=${2:-}
check() { python3 "$SRC/tools/check-layers.py" --rules "$RULES" "$@"; }

if [ -n "$BUILD" ]; then check --root "$SRC" --objects "$BUILD"; else check --root "$SRC"; fi

work=$(mktemp -d /tmp/shifan-lint.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$SRC/libshifan" "$work/"
sed -i '0,/#include/s//#include "app\/node.h"\n#include/' "$work/libshifan/base/error.c"
if out=$(python3 "$SRC/tools/check-layers.py" --root "$work" --rules includes); then
  echo "FAIL: base/ including app/node.h was not refused"; exit 1
fi
grep -q 'base/error.c:.*base/ may not include app/node.h' <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }

cp "$SRC/libshifan/base/error.c" "$work/libshifan/base/error.c"
printf 'static void reach(void) { zmq_ctx_new(); }\n' >>"$work/libshifan/domain/engine.c"
if out=$(python3 "$SRC/tools/check-layers.py" --root "$work" --rules calls); then
  echo "FAIL: a zmq_ call in domain/ was not refused"; exit 1
fi
grep -q 'domain/engine.c:.*zmq_ctx_new( outside transport/' <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }
echo "ok: the check passes on the tree and refuses a bad include and a misplaced call"
