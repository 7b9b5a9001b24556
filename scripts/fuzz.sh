#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang into build-fuzz/
# and runs each for SECONDS (default 60), one after the other; prints per
# target the seconds run, the executions and whether it found anything.
# Exits 1 on any finding; the input that failed is kept in
# build-fuzz/findings/<target>/ and the fuzzer's log beside it.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [target...]
#   targets: envelope payload report_json report_csv programme_json
#            inspection_json apply xlsx package (default: all)
#   FUZZ_PARALLEL=2 runs two targets at a time (one process each).
#
# The corpus each target starts from is tests/fuzz/corpus/<target>/ plus the
# binary seeds make_seeds writes, merged into build-fuzz/corpus/<target>/
# (outside git), which keeps what earlier runs found. docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(envelope payload report_json report_csv programme_json inspection_json apply xlsx package)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac
for target in "${targets[@]}"; do
    [ -f "tests/fuzz/fuzz_$target.c" ] || { echo "fuzz.sh: no target '$target'" >&2; exit 2; }
done
parallel=${FUZZ_PARALLEL:-1}

./scripts/setup.sh >/dev/null
dir=build-fuzz
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIFAN_FUZZ=ON \
    >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" --target fuzzers -j"$(nproc)" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log"; exit 1; }

# Scratch space for this run: the generated seeds, and the nodes fuzz_apply
# makes (an fsync per input: in memory when /dev/shm is there). Removed at
# exit, also what a crashed harness left.
scratch_parent=${TMPDIR:-/tmp}
[ -n "${TMPDIR:-}" ] || { [ -d /dev/shm ] && [ -w /dev/shm ] && scratch_parent=/dev/shm; }
scratch=$(mktemp -d "$scratch_parent/shifan-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
seeds=$scratch/seeds
mkdir -p "$scratch/tmp"
"$dir/bin/make_seeds" "$seeds"

dict_for() {
    case $1 in
    report_json | report_csv | inspection_json) echo "-dict=tests/fuzz/report.dict" ;;
    programme_json) echo "-dict=tests/fuzz/programme.dict" ;;
    envelope | payload | apply) echo "-dict=tests/fuzz/proto.dict" ;;
    esac
}

# run_one TARGET: fuzzes it for $seconds; writes $dir/findings/TARGET.{log,summary}.
run_one() {
    local target=$1 corpus=$dir/corpus/$1 findings=$dir/findings/$1
    mkdir -p "$corpus" "$findings"
    for from in "tests/fuzz/corpus/$target" "$seeds/$target"; do
        [ -d "$from" ] && cp -f "$from"/* "$corpus"/ 2>/dev/null || true
    done
    local started=$SECONDS status=0
    # -close_fd_mask=2: the library's own log lines are dropped; libFuzzer,
    # the sanitizers and the harnesses' checks keep writing to the log.
    # shellcheck disable=SC2046
    TMPDIR=$scratch/tmp ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$dir/bin/fuzz_$target" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
        -close_fd_mask=2 -artifact_prefix="$findings/" $(dict_for "$target") "$corpus" \
        >"$dir/findings/$target.log" 2>&1 || status=$?
    local ran=$((SECONDS - started))
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/findings/$target.log" | tail -1)
    local verdict="no finding" artifact
    if [ "$status" -ne 0 ]; then
        artifact=$(grep -o "$findings/[^ ]*" "$dir/findings/$target.log" | tail -1 || true)
        verdict="FINDING (exit $status): ${artifact:-see $dir/findings/$target.log}"
    fi
    printf '%-16s %5d s %12s executions  %s\n' "$target" "$ran" "${execs:-?}" "$verdict" \
        >"$dir/findings/$target.summary"
    return "$status"
}

echo "fuzzing ${#targets[@]} target(s), $seconds s each (logs in $dir/findings/)"
failed=0
pids=()
names=()
for target in "${targets[@]}"; do
    run_one "$target" &
    pids+=("$!")
    names+=("$target")
    if [ ${#pids[@]} -ge "$parallel" ]; then
        wait "${pids[0]}" || failed=1
        cat "$dir/findings/${names[0]}.summary"
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
    cat "$dir/findings/${names[$i]}.summary"
done
if [ "$failed" -ne 0 ]; then
    for target in "${targets[@]}"; do
        grep -q FINDING "$dir/findings/$target.summary" || continue
        echo "--- $target: end of $dir/findings/$target.log" >&2
        tail -40 "$dir/findings/$target.log" >&2
    done
    exit 1
fi
