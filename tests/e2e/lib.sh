# Shared by the end-to-end tests: start the real programs on loopback in a
# temp dir, steer them, and clean up every process started, by PID.
# Source it; it sets `set -euo pipefail` and a trap on EXIT.
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin}
WORK=$(mktemp -d /tmp/shifan-e2e.XXXXXX)
# The programs speak Chinese unless the locale asks for English (base/msg.h),
# and the tests check their messages in English: each program runs with
# LC_MESSAGES=$SHIFAN_TEST_MESSAGES (en_US.UTF-8 unless set; empty leaves the
# locale alone, as test_csv_excel.sh and test_messages_zh.sh do). Only the
# programs get it: a locale the system lacks would turn grep and sed to bytes,
# and ✓ would no longer be one character.
export SHIFAN_TEST_MESSAGES=${SHIFAN_TEST_MESSAGES-en_US.UTF-8}
mkdir "$WORK/bin"
for built in "$BIN"/*; do
    case ${built##*/} in
    county-node | prefecture-hub | province-core)
        cat >"$WORK/bin/${built##*/}" <<EOF
#!/bin/sh
[ -z "\$SHIFAN_TEST_MESSAGES" ] || export LC_MESSAGES="\$SHIFAN_TEST_MESSAGES"
exec "$built" "\$@"
EOF
        chmod +x "$WORK/bin/${built##*/}" ;;
    *) ln -s "$built" "$WORK/bin/${built##*/}" ;;
    esac
done
BIN=$WORK/bin
declare -A PIDS=()   # name -> pid of a running daemon
declare -a ALL_PIDS=()
declare -a CLEANUP_CMDS=() # run before the work dir goes (e.g. umount)
on_cleanup() { CLEANUP_CMDS+=("$*"); }
KEEP=${KEEP:-0}

e2e_cleanup() {
    local status=$?
    for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null || true; done
    for pid in "${ALL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.2
    for pid in "${ALL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    # Under the sanitizer build a daemon's report lands in its log: that fails the test.
    if grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$WORK"/*.log 2>/dev/null; then
        echo "FAIL: sanitizer report in the logs above" >&2
        [ "$status" -ne 0 ] || status=1
    fi
    if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then # 77: skipped, not failed
        echo "--- logs of the failed test ($WORK)" >&2
        for log in "$WORK"/*.log; do
            [ -f "$log" ] || continue
            echo "=== $log (last 30 lines)" >&2
            tail -30 "$log" >&2
        done
    fi
    for cmd in "${CLEANUP_CMDS[@]}"; do eval "$cmd" || true; done
    [ "$KEEP" = 1 ] || rm -rf "$WORK"
    exit "$status"
}
trap e2e_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
# skip REASON: this test cannot run here (exit 77, which ctest counts as skipped).
skip() { echo "SKIP: $(basename "$0" .sh): $*"; exit 77; }

# require_netns [veth]: skips unless this test can make network namespaces
# here (test_slow_link, test_multihost), by making one; with "veth", also a
# veth pair in it.
require_netns() {
    [ "$(id -u)" -eq 0 ] || skip "needs root to make network namespaces (CI runs as root)"
    command -v ip >/dev/null || skip "needs ip (iproute2)"
    local probe=sf-probe-$$
    ip netns add "$probe" 2>/dev/null || skip "'ip netns add' fails here (no CAP_SYS_ADMIN? a container without it?)"
    if [ "${1:-}" = veth ] && ! ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null; then
        ip netns del "$probe"
        skip "cannot make a veth pair in a network namespace (no veth in this kernel?)"
    fi
    ip netns del "$probe"
}

# start_in NS NAME PROGRAM DATA: start, but inside network namespace NS.
# `ip netns exec` execs the program (and lib.sh's wrapper execs the binary),
# so $! is the daemon's own PID: stop, kill9 and the cleanup reach it.
start_in() {
    local ns=$1 name=$2 program=$3 data=$4
    ip netns exec "$ns" "$BIN/$program" --data "$data" run >>"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
    ALL_PIDS+=("$!")
}

# A port on 127.0.0.1 that nothing listens on now (we also avoid ones we handed out).
declare -A HANDED=()
free_port() {
    local port
    for _ in $(seq 1 200); do
        # Below Linux's ephemeral range (32768-60999 by default): a port
        # probed free there can be taken by any outgoing connection (of a
        # test running beside this one) before our daemon binds it.
        port=$((20000 + RANDOM % 12000))
        [ -n "${HANDED[$port]:-}" ] && continue
        if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
            HANDED[$port]=1
            echo "$port"
            return 0
        fi
    done
    fail "no free port"
}

# prog NAME: the binary for a node kind.
county() { "$BIN/county-node" "$@"; }
hub() { "$BIN/prefecture-hub" "$@"; }
province() { "$BIN/province-core" "$@"; }

# start NAME PROGRAM DATA: runs PROGRAM --data DATA run in the background.
start() {
    local name=$1 program=$2 data=$3
    "$BIN/$program" --data "$data" run >>"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
    ALL_PIDS+=("$!")
}

stop() { # SIGTERM and wait
    local name=$1 pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$name]"
}

kill9() {
    local name=$1 pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$name]"
}

# status_field PROGRAM DATA JQ: one field of `status --json`.
status_field() {
    "$BIN/$1" --data "$2" status --json | jq -r "$3"
}

# wait_until SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_until() {
    local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ $(($(date +%s%N) / 1000000)) -lt $deadline ] || return 1
        sleep 0.1
    done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# field_is PROGRAM DATA JQ VALUE: true when that status field equals VALUE now
# (for wait_until, which re-runs it; a "$(...)" argument would be expanded once).
field_is() { [ "$(status_field "$1" "$2" "$3")" = "$4" ]; }

# A report JSON for UNIT and YEAR with values derived from SEED.
report_json() {
    local unit=$1 year=$2 seed=${3:-1}
    cat <<JSON
{"unit":"$unit","year":$year,"values":{"1.1":true,"1.2a":true,"1.2b":true,"1.2c":$((1 + seed % 4)),
"1.3":true,"1.4a":true,"1.4b":$((1 + seed % 3)),"1.5":true,
"2.1":{"num":$((900 + seed % 100)),"den":1000},"2.2":{"num":850,"den":1000},"2.3":{"num":960,"den":1000},
"2.4":{"num":930,"den":1000},"2.5":{"num":880,"den":1000},"2.6":{"num":870,"den":1000},
"2.7":{"num":50,"den":50},"2.8":{"num":970,"den":1000},
"3.1":true,"3.2":true,"3.3a":true,"3.3b":3,"3.4":true,"3.5":6,"3.6":2,
"4.1":true,"4.2":true,"4.3":true,"4.4":true,"4.5":true,
"5.1":true,"5.2":true,"5.3":2,"5.4a":1,"5.4b":1,"5.4c":12,"5.5":true,
"6.1":{"num":95,"den":100},"6.2":{"num":92,"den":100},"6.3":{"num":97,"den":100}},
"comments":{"2.1":"seed $seed"}}
JSON
}

# Sets up a province, N hubs and counties: topology "HUB:COUNTY,COUNTY HUB:COUNTY".
# Creates $WORK/<code> data dirs; exports PROVINCE_PORT, HUB_PORT_<code>.
setup_tree() {
    PROVINCE_PORT=$(free_port)
    province --data "$WORK/province" init --listen "tcp://127.0.0.1:$PROVINCE_PORT" >/dev/null
    local province_key
    province_key=$(province --data "$WORK/province" key)
    for spec in "$@"; do
        local hub_code=${spec%%:*} counties=${spec#*:}
        local port
        port=$(free_port)
        eval "HUB_PORT_$hub_code=$port"
        hub --data "$WORK/$hub_code" init --code "$hub_code" --listen "tcp://127.0.0.1:$port" \
            --upstream "tcp://127.0.0.1:$PROVINCE_PORT" --upstream-key "$province_key" >/dev/null
        province --data "$WORK/province" allow --code "$hub_code" \
            --key "$(hub --data "$WORK/$hub_code" key)" >/dev/null
        local hub_key
        hub_key=$(hub --data "$WORK/$hub_code" key)
        for county_code in ${counties//,/ }; do
            county --data "$WORK/$county_code" init --code "$county_code" \
                --upstream "tcp://127.0.0.1:$port" --upstream-key "$hub_key" >/dev/null
            hub --data "$WORK/$hub_code" allow --code "$county_code" \
                --key "$(county --data "$WORK/$county_code" key)" >/dev/null
        done
    done
}
