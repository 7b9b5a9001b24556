#!/usr/bin/env bash
# Sets everything up and runs every test: unit and end-to-end tests on a normal
# build, then all of them again under AddressSanitizer + UBSan, except those
# labelled "slow" (the slow-link test: what it measures is the link's timing,
# which the sanitizers do not change, and it waits on a 16 kbit/s link), then
# a smoke run of every libFuzzer harness, 8 s each (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh build
(cd build && ctest --output-on-failure --no-tests=error -j2)
./scripts/build.sh build-asan -DSHIFAN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=handle_segv=2:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --no-tests=error -j2 -LE slow)
./scripts/fuzz.sh 8
