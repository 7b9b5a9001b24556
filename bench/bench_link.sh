#!/usr/bin/env bash
# Reports per second through Shifan's durable link, with CURVE and fsync on,
# against the raw ZeroMQ CURVE rate and the raw batched LMDB commit rate
# measured in the same run.
#
#   ./scripts/build.sh build && bench/bench_link.sh [N]      (default N=50000, 1 KiB reports)
#
# one hop:    county outbox -> hub (stored, forward queued, fsync, ack) -> county deletes
# end to end: county -> hub -> province, both hops running at once
# model:      bench_model, the minimal durable chain of the same shape (county ->
#             hub -> province, CURVE on both hops, 64 reports per frame, 16 frames
#             in flight, an fsync'd commit per frame at the hub and the province
#             before the ack, fsync'd deletes of acked entries) with nothing else:
#             no protobuf, no dedup index, no programme logic (bench/bench_model.c)
# model, group commit: the same, but a receiver commits every frame waiting
#             when it wakes (up to 64) in one txn, as Shifan's receivers do. Where
#             fsync is slow the per-frame model is fsync-bound and can be slower
#             than the link itself; this one stays an upper bound there.
# Rates are measured at the receiver: from the first report seen there to
# the last, polling its LMDB with mdb_stat every 20 ms (a `status` process
# would parse the programme each time and take CPU from what is measured);
# bench_model measures its province the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
N=${1:-50000}
SIZE=1024
WORK=$(mktemp -d /var/tmp/shifan-bench.XXXXXX)  # on disk: fsync must be real
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Below the ephemeral range (32768-60999): a port there can be taken by any
# outgoing connection before our daemon binds it.
port() { echo $((20000 + RANDOM % 12000)); }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

setup() { # DIR -> three nodes, county outbox filled with N reports
    local dir=$1 pport hport pkey hkey
    pport=$(port)
    hport=$(port)
    "$BIN/province-core" --data "$dir/p" init --listen "tcp://127.0.0.1:$pport" >/dev/null
    pkey=$("$BIN/province-core" --data "$dir/p" key 2>/dev/null)
    "$BIN/prefecture-hub" --data "$dir/h" init --code 530100 --listen "tcp://127.0.0.1:$hport" \
        --upstream "tcp://127.0.0.1:$pport" --upstream-key "$pkey" >/dev/null
    "$BIN/province-core" --data "$dir/p" allow --code 530100 --key "$("$BIN/prefecture-hub" --data "$dir/h" key 2>/dev/null)" >/dev/null
    hkey=$("$BIN/prefecture-hub" --data "$dir/h" key 2>/dev/null)
    "$BIN/county-node" --data "$dir/c" init --code 530102 --upstream "tcp://127.0.0.1:$hport" \
        --upstream-key "$hkey" >/dev/null
    "$BIN/prefecture-hub" --data "$dir/h" allow --code 530102 --key "$("$BIN/county-node" --data "$dir/c" key 2>/dev/null)" >/dev/null
    "$BIN/bench_fill" --data "$dir/c" --count "$N" --size "$SIZE" >/dev/null
}

# One county sends N reports of one year: far past the bound a parent keeps
# per child and year (4 MiB per unit; docs/operations.md). Raise it here.
export SHIFAN_CHILD_BYTES_PER_UNIT=$((1 << 40))
run() { "$1" --data "$2" run 2>>"$WORK/daemons.log" & pids+=("$!"); }

# timed_out COUNT: the run stalled; the daemons' log is kept for a look.
timed_out() {
    local kept
    kept=$(mktemp /var/tmp/shifan-bench-stalled.XXXXXX.log)
    cp "$WORK/daemons.log" "$kept" 2>/dev/null || true
    echo "timed out at $1 of $N; the daemons' log: $kept" >&2
    grep -v ' INFO ' "$kept" | tail -20 >&2 || true
    exit 1
}

# measure PROGRAM DIR: prints reports/s seen arriving at that node
measure() {
    local program=$1 dir=$2 count=0 first=0 first_count=0 t
    local deadline=$(($(now_ms) + 300000))
    while [ "$count" -lt "$N" ]; do
        count=$(mdb_stat -s reports "$dir/store" 2>/dev/null | awk '/Entries:/ {print $2}')
        count=${count:-0}
        t=$(now_ms)
        if [ "$first" -eq 0 ] && [ "$count" -gt 0 ]; then first=$t first_count=$count; fi
        [ "$t" -lt "$deadline" ] || timed_out "$count"
        sleep 0.02
    done
    local elapsed=$((t - first))
    [ "$elapsed" -gt 0 ] || elapsed=1
    echo $(((N - first_count) * 1000 / elapsed))
}

stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    pids=()
}

echo "# $N reports of $SIZE bytes, $(nproc) cores, $(date -u +%FT%TZ)"
raw=$("$BIN/bench_raw" --count "$N" --size "$SIZE" --single-count 0 --dir "$WORK")
echo "$raw"
curve=$(echo "$raw" | awk '/raw_curve_msgs_per_s/ {print $2}')
lmdb=$(echo "$raw" | awk '/raw_lmdb_batched_puts_per_s/ {print $2}')

setup "$WORK/hop"
run "$BIN/prefecture-hub" "$WORK/hop/h"
run "$BIN/county-node" "$WORK/hop/c"
hop=$(measure prefecture-hub "$WORK/hop/h")
stop_all
echo "one_hop_reports_per_s $hop"

setup "$WORK/e2e"
run "$BIN/province-core" "$WORK/e2e/p"
run "$BIN/prefecture-hub" "$WORK/e2e/h"
run "$BIN/county-node" "$WORK/e2e/c"
e2e=$(measure province-core "$WORK/e2e/p")
stop_all
echo "end_to_end_reports_per_s $e2e"

model_rate() { # FRAMES_PER_COMMIT -> reports/s of bench_model
    "$BIN/bench_model" --count "$N" --size "$SIZE" --dir "$WORK" --frames-per-commit "$1" |
        awk '/^model_end_to_end_reports_per_s/ {print $2}'
}
model=$(model_rate 1)
echo "model_end_to_end_reports_per_s $model"
model_group=$(model_rate 64)
echo "model_group_commit_end_to_end_reports_per_s $model_group"

awk -v hop="$hop" -v e2e="$e2e" -v curve="$curve" -v lmdb="$lmdb" -v model="$model" \
    -v model_group="$model_group" 'BEGIN {
    printf "ratio_one_hop_to_raw_curve %.2f\n", hop / curve
    printf "ratio_end_to_end_to_raw_curve %.2f\n", e2e / curve
    printf "ratio_end_to_end_to_raw_lmdb_batched %.2f\n", e2e / lmdb
    printf "ratio_end_to_end_to_model %.2f\n", e2e / model
    printf "ratio_end_to_end_to_model_group_commit %.2f\n", e2e / model_group
}'
