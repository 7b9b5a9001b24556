#!/usr/bin/env bash
# The layer check (tools/check-layers.py) passes on the tree and fails when a
# lower layer reaches up: a copy of libshifan/ with one bad include in base/,
# one ZeroMQ call in domain/, one libmicrohttpd call outside transport/http.c,
# and one function too long without a reason must each be refused.
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
if out=$(python3 "$SRC/tools/check-layers.py" --root "$work" --rules includes 2>&1); then
  echo "FAIL: base/ including app/node.h was not refused"; exit 1
fi
grep -q 'base/error.c:.*base/ may not include app/node.h' <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }

cp "$SRC/libshifan/base/error.c" "$work/libshifan/base/error.c"
# misplaced FILE CALL EXPECTED: a call planted in FILE (under libshifan/) is refused.
misplaced() {
  printf 'static void reach(void) { %s; }\n' "$2" >>"$work/libshifan/$1"
  if out=$(python3 "$SRC/tools/check-layers.py" --root "$work" --rules calls 2>&1); then
    echo "FAIL: $2 in $1 was not refused"; exit 1
  fi
  grep -q "$3" <<<"$out" || { echo "FAIL: unexpected output: $out"; exit 1; }
  cp "$SRC/libshifan/$1" "$work/libshifan/$1"
}
misplaced domain/engine.c 'zmq_ctx_new()' 'domain/engine.c:.*zmq_ctx_new( outside transport/'
# The workbook libraries stay in their files: libzip in render_xlsx.c is refused.
misplaced domain/render_xlsx.c 'zip_open(0, 0, 0)' \
  'domain/render_xlsx.c:.*zip_open( (libzip and libxml2) outside domain/xlsx_read.c'
# libmicrohttpd belongs to transport/http.c alone, even within transport/.
misplaced transport/net.c 'MHD_run(0)' \
  'transport/net.c:.*MHD_run( (libmicrohttpd) outside transport/http.c'
{ printf 'int too_long(void)\n{\n    int n = 0;\n'
  for _ in $(seq 1 61); do printf '    n++;\n'; done
  printf '    return n;\n}\n'; } >>"$work/libshifan/domain/engine.c"
if out=$(python3 "$SRC/tools/check-layers.py" --root "$work" --rules functions 2>&1); then
  echo "FAIL: a 63-line function without a reason was not refused"; exit 1
fi
grep -q 'domain/engine.c:.*too_long is 63 lines' <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }
# The cycles rule reads object files: two app/ modules calling each other,
# and a domain/ module calling up into app/.
objs=$work/build/CMakeFiles/shifan.dir/libshifan
mkdir -p "$objs/app" "$objs/domain"
printf 'int pong(void);\nint ping(void) { return pong(); }\n' >"$work/ping.c"
printf 'int ping(void);\nint pong(void) { return ping(); }\n' >"$work/pong.c"
printf 'int ping(void);\nint rule(void) { return ping(); }\n' >"$work/rule.c"
cc -c "$work/ping.c" -o "$objs/app/ping.c.o"
cc -c "$work/pong.c" -o "$objs/app/pong.c.o"
cc -c "$work/rule.c" -o "$objs/domain/rule.c.o"
if out=$(python3 "$SRC/tools/check-layers.py" --root "$work" --objects "$work/build" --rules cycles 2>&1); then
  echo "FAIL: a cycle between modules was not refused"; exit 1
fi
grep -q 'modules depend on each other: app/ping <-> app/pong' <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }
grep -q 'domain/rule uses ping of app/ping (domain/ may not use app/)' <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }
echo "ok: the check passes on the tree and refuses a bad include, a misplaced call (ZeroMQ, libzip, libmicrohttpd), a long function, a cycle and a call up"
