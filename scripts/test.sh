#!/usr/bin/env bash
# Sets everything up and runs every test: unit and end-to-end tests on a normal
# build, then the unit tests again under AddressSanitizer + UBSan, then a
# smoke run of every libFuzzer harness, 8 s each (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh build
(cd build && ctest --output-on-failure --no-tests=error -j2)
./scripts/build.sh build-asan -DSHIFAN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=handle_segv=2:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --no-tests=error -j2)
./scripts/fuzz.sh 8
