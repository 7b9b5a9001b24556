#!/usr/bin/env bash
# A province-sized backlog through real processes: one province, the 16 hubs
# and 129 counties of the embedded Yunnan programme, each its own process
# with its own data dir and loopback port, CURVE and fsync on every hop.
#
#   ./scripts/build.sh build && bench/bench_province.sh [R]     (default R=1000000, 1 KiB reports)
#
# 1. init every node (`init` without --programme: the embedded Yunnan
#    programme; codes and parents from libshifan/data/programme-yunnan-2017.json),
#    keys exchanged with `key`/`allow` as tests/e2e/lib.sh does;
# 2. queue R reports at the counties with bench_fill (R/129 each, the first
#    R%129 counties one more), no daemon running;
# 3. start the province and the 129 county daemons (the hubs are down: the
#    counties keep trying to connect), then the clock starts and the 16 hubs
#    start;
# 4. poll the province's reports DB (mdb_stat, every 50 ms) until it holds R.
#
# Prints `name value` lines:
#   backlog_drain_s                   hub start -> the province holds all R
#   backlog_reports_per_s             R / backlog_drain_s
#   peak_rss_kib_{county,hub,province}  max VmHWM over the processes of that kind
#   cpu_s_per_1000_reports_{county,hub,province}
#       utime+stime of every process of that kind at the end, summed, / (R/1000)
#   rss_anon_kib_{county,hub,province}
#       max RssAnon at the end (VmHWM counts the LMDB map's file pages the
#       process touched, which the kernel may reclaim; RssAnon is its heap)
# and, before them, the time to prepare (init, fill) and the disk it took.
#
# Every process started is stopped by PID on exit; the data dir (under
# /var/tmp: fsync must be real) is removed unless KEEP=1. Disk: about 12 KiB
# per 1 KiB report over the three tiers (store and outbox at the county and
# the hub, the store at the province, LMDB pages); the script refuses to
# start if the disk has less than that free.
#
# A daemon that ends during the run fails it at once with its log's last
# lines: e.g. a hub whose port, probed free at init, was taken since by a
# process outside this run (other tests pick ports in the same range).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
R=${1:-1000000}
SIZE=1024
PROGRAMME=libshifan/data/programme-yunnan-2017.json
KEEP=${KEEP:-0}
WORK=$(mktemp -d /var/tmp/shifan-province.XXXXXX)
declare -A KIND=() # pid -> county | hub | province
declare -A NAME=() # pid -> unit code or "province"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/logs/*.log; do
            [ -s "$log" ] || continue
            grep -q -E "ERROR|FATAL" "$log" || continue
            echo "=== $log (last 5 lines)" >&2
            tail -5 "$log" >&2
        done
    fi
    if [ "$KEEP" = 1 ]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
    exit "$status"
}
trap cleanup EXIT
mkdir -p "$WORK/logs"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A port on 127.0.0.1 that nothing listens on now, below the ephemeral range
# (32768-60999): a port there can be taken by any outgoing connection before
# our daemon binds it. As tests/e2e/lib.sh.
declare -A HANDED=()
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))
        [ -n "${HANDED[$port]:-}" ] && continue
        if ! (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
            HANDED[$port]=1
            echo "$port"
            return 0
        fi
    done
    echo "no free port" >&2
    return 1
}

# Each county sends thousands of versions of one year: far past the bound a
# parent keeps per child and year (4 MiB per unit; docs/operations.md).
export SHIFAN_CHILD_BYTES_PER_UNIT=$((1 << 40))

need_kib=$((R * 12 + 1024 * 1024))
free_kib=$(df -Pk "$WORK" | awk 'NR == 2 {print $4}')
if [ "$free_kib" -lt "$need_kib" ]; then
    echo "bench_province: $R reports need about $((need_kib / 1024)) MiB on $(dirname "$WORK"), $((free_kib / 1024)) MiB free: give fewer (at most about $(((free_kib - 1024 * 1024) / 12)))" >&2
    exit 1
fi

mapfile -t hubs < <(jq -r '.units[] | select(.level == "prefecture") | .code' "$PROGRAMME")
mapfile -t counties < <(jq -r '.units[] | select(.level == "county") | "\(.parent) \(.code)"' "$PROGRAMME")
if [ "${#hubs[@]}" -ne 16 ] || [ "${#counties[@]}" -ne 129 ]; then
    echo "bench_province: expected 16 prefectures and 129 counties in $PROGRAMME" >&2
    exit 1
fi

echo "# $R reports of $SIZE bytes, 1 province, ${#hubs[@]} hubs, ${#counties[@]} counties, $(nproc) cores, $(date -u +%FT%TZ)"
t0=$(now_ms)
province_port=$(free_port)
"$BIN/province-core" --data "$WORK/province" init --listen "tcp://127.0.0.1:$province_port" >/dev/null
province_key=$("$BIN/province-core" --data "$WORK/province" key 2>/dev/null)
declare -A HUB_PORT=() HUB_KEY=()
for hub in "${hubs[@]}"; do
    HUB_PORT[$hub]=$(free_port)
    "$BIN/prefecture-hub" --data "$WORK/$hub" init --code "$hub" \
        --listen "tcp://127.0.0.1:${HUB_PORT[$hub]}" \
        --upstream "tcp://127.0.0.1:$province_port" --upstream-key "$province_key" >/dev/null
    HUB_KEY[$hub]=$("$BIN/prefecture-hub" --data "$WORK/$hub" key 2>/dev/null)
    "$BIN/province-core" --data "$WORK/province" allow --code "$hub" --key "${HUB_KEY[$hub]}" >/dev/null
done
for line in "${counties[@]}"; do
    read -r hub county <<<"$line"
    "$BIN/county-node" --data "$WORK/$county" init --code "$county" \
        --upstream "tcp://127.0.0.1:${HUB_PORT[$hub]}" --upstream-key "${HUB_KEY[$hub]}" >/dev/null
    "$BIN/prefecture-hub" --data "$WORK/$hub" allow --code "$county" \
        --key "$("$BIN/county-node" --data "$WORK/$county" key 2>/dev/null)" >/dev/null
done
t1=$(now_ms)
echo "prepare_init_s $(awk -v ms=$((t1 - t0)) 'BEGIN {printf "%.1f", ms / 1000}')"

# The backlog: bench_fill per county, as many at once as there are cores.
per=$((R / ${#counties[@]}))
extra=$((R % ${#counties[@]}))
fill_pids=()
i=0
for line in "${counties[@]}"; do
    read -r _ county <<<"$line"
    n=$((per + (i < extra ? 1 : 0)))
    i=$((i + 1))
    [ "$n" -gt 0 ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do sleep 0.05; done
    "$BIN/bench_fill" --data "$WORK/$county" --count "$n" --size "$SIZE" \
        >>"$WORK/logs/fill.log" 2>&1 &
    fill_pids+=("$!")
done
for pid in "${fill_pids[@]}"; do
    wait "$pid" || { echo "bench_fill failed (see $WORK/logs/fill.log)" >&2; exit 1; }
done
t2=$(now_ms)
echo "prepare_fill_s $(awk -v ms=$((t2 - t1)) 'BEGIN {printf "%.1f", ms / 1000}')"
echo "disk_after_fill_mib $(du -sm "$WORK" | awk '{print $1}')"

# start KIND NAME PROGRAM: runs PROGRAM --data $WORK/NAME run in the background.
start() {
    local kind=$1 name=$2 program=$3
    "$BIN/$program" --data "$WORK/$name" run >>"$WORK/logs/$name.log" 2>&1 &
    pids+=("$!")
    KIND[$!]=$kind
    NAME[$!]=$name
}

# all_alive: fails, naming the first daemon that has ended and its last log lines.
all_alive() {
    local pid
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && continue
        echo "bench_province: the ${KIND[$pid]} ${NAME[$pid]} (pid $pid) ended:" >&2
        tail -3 "$WORK/logs/${NAME[$pid]}.log" >&2
        return 1
    done
}

# cpu_ticks PID: utime + stime, in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name).
cpu_ticks() {
    awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"
}

start province province province-core
for line in "${counties[@]}"; do
    read -r _ county <<<"$line"
    start county "$county" county-node
done
# Every county daemon up (it wrote run/status.json) before the hubs come back.
deadline=$(($(now_ms) + 120000))
for line in "${counties[@]}"; do
    read -r _ county <<<"$line"
    while [ ! -s "$WORK/$county/run/status.json" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || { echo "county $county did not start" >&2; exit 1; }
        sleep 0.05
    done
done
all_alive || exit 1

start_ms=$(now_ms)
for hub in "${hubs[@]}"; do start hub "$hub" prefecture-hub; done

count=0
deadline=$((start_ms + ${DEADLINE_S:-1800} * 1000))
next_check=0
while :; do
    count=$(mdb_stat -s reports "$WORK/province/store" 2>/dev/null | awk '/Entries:/ {print $2}')
    count=${count:-0}
    t=$(now_ms)
    [ "$count" -lt "$R" ] || break
    [ "$t" -lt "$deadline" ] || { echo "timed out at $count of $R" >&2; exit 1; }
    if [ "$t" -ge "$next_check" ]; then
        all_alive || exit 1
        next_check=$((t + 1000))
    fi
    sleep 0.05
done
elapsed=$((t - start_ms))

# Peak RSS and CPU of every process, all still running (a daemon that died
# would be missing from the figures: that fails the run).
declare -A RSS=([county]=0 [hub]=0 [province]=0)
declare -A TICKS=([county]=0 [hub]=0 [province]=0)
declare -A ANON=([county]=0 [hub]=0 [province]=0)
for pid in "${pids[@]}"; do
    kind=${KIND[$pid]}
    [ -r "/proc/$pid/status" ] || { echo "a $kind daemon (pid $pid) died during the run" >&2; exit 1; }
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    [ "$hwm" -le "${RSS[$kind]}" ] || RSS[$kind]=$hwm
    anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
    [ "$anon" -le "${ANON[$kind]}" ] || ANON[$kind]=$anon
    ticks=$(cpu_ticks "$pid")
    TICKS[$kind]=$((TICKS[$kind] + ticks))
done
hz=$(getconf CLK_TCK)

awk -v ms="$elapsed" -v r="$R" 'BEGIN {
    printf "backlog_drain_s %.2f\n", ms / 1000
    printf "backlog_reports_per_s %.0f\n", r * 1000 / ms
}'
for kind in county hub province; do echo "peak_rss_kib_$kind ${RSS[$kind]}"; done
for kind in county hub province; do echo "rss_anon_kib_$kind ${ANON[$kind]}"; done
for kind in county hub province; do
    awk -v t="${TICKS[$kind]}" -v hz="$hz" -v r="$R" -v k="$kind" \
        'BEGIN {printf "cpu_s_per_1000_reports_%s %.3f\n", k, t / hz / (r / 1000)}'
done
echo "disk_at_end_mib $(du -sm "$WORK" | awk '{print $1}')"
