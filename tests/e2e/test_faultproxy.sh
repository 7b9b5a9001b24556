#!/usr/bin/env bash
# faultproxy forwards both ways (1 MB round trip), goes silent without closing on SIGUSR1 (also
# for connections made meanwhile), resumes on SIGUSR2, resets every pair on SIGHUP, leaves the
# peer half-open when a side closes during a blackhole, and exits cleanly on SIGTERM.
# Clients are bash /dev/tcp descriptors; the target is tests/tools/tcpecho.c.
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
work=$(mktemp -d)
pids=()

cleanup() {
    exec 3>&- 4>&- 5>&-
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- faultproxy log" >&2
    cat "$work/proxy.log" >&2 || true
    echo "--- tcpecho log" >&2
    cat "$work/echo.log" >&2 || true
    exit 1
}

# wait_for FILE REGEX: up to 5 s for a line to appear.
wait_for() {
    local i
    for ((i = 0; i < 50; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

send() { printf '%s\n' "$2" >&"$1"; }

expect_line() {
    local line
    read -r -t 3 -u "$1" line || fail "no echo of '$2' on fd $1"
    [ "$line" = "$2" ] || fail "fd $1: expected '$2', got '$line'"
}

# Silence = the read times out (status > 128); EOF or a reset would return 1.
expect_silence() {
    local line rc=0
    read -r -t 1 -u "$1" line 2>/dev/null || rc=$?
    [ "$rc" -gt 128 ] || fail "fd $1: expected silence, got status $rc line '${line:-}'"
}

expect_closed() {
    local line rc=0
    read -r -t 3 -u "$1" line 2>/dev/null || rc=$?
    [ "$rc" -eq 1 ] || fail "fd $1: expected a closed connection, got status $rc"
}

"$BIN/tcpecho" --listen 127.0.0.1:0 --log "$work/echo.log" >"$work/echo.out" &
pids+=($!)
wait_for "$work/echo.out" '^listening ' || fail "tcpecho did not start"
echo_port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/echo.out")

"$BIN/faultproxy" --listen 127.0.0.1:0 --target "127.0.0.1:$echo_port" \
    --pidfile "$work/proxy.pid" --log "$work/proxy.log" >"$work/proxy.out" &
proxy_pid=$!
pids+=($proxy_pid)
wait_for "$work/proxy.out" '^listening ' || fail "faultproxy did not start"
[ "$(head -n1 "$work/proxy.out" | cut -d' ' -f1)" = listening ] || fail "first line is not 'listening'"
proxy_port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/proxy.out")
wait_for "$work/proxy.pid" "^$proxy_pid\$" || fail "pidfile does not hold $proxy_pid"

echo "1. forwarding: 1 MB of random bytes round trip, then a line"
exec 3<>"/dev/tcp/127.0.0.1/$proxy_port"
head -c 1000000 /dev/urandom >"$work/blob"
cat "$work/blob" >&3 &
pids+=($!)
timeout 5 head -c 1000000 <&3 >"$work/back" || fail "round trip of 1 MB timed out"
cmp -s "$work/blob" "$work/back" || fail "1 MB came back altered"
send 3 hello
expect_line 3 hello

echo "2. blackhole: nothing passes either way, nothing is closed"
kill -USR1 "$proxy_pid"
wait_for "$work/proxy.log" 'blackhole on' || fail "no 'blackhole on' in the log"
send 3 lost-in-blackhole
expect_silence 3
exec 4<>"/dev/tcp/127.0.0.1/$proxy_port"
wait_for "$work/proxy.log" 'accepted conn=2 .*blackholed' || fail "conn 2 not accepted"
wait_for "$work/echo.log" 'accepted conn=2' || fail "conn 2 not connected to the target"
send 4 also-lost
expect_silence 4
! grep -q closed "$work/proxy.log" || fail "the proxy closed something during the blackhole"
! grep -q closed "$work/echo.log" || fail "the target saw a close during the blackhole"

echo "3. heal: both connections forward again, the blackholed bytes are gone"
kill -USR2 "$proxy_pid"
wait_for "$work/proxy.log" 'blackhole off' || fail "no 'blackhole off' in the log"
send 3 after-heal
expect_line 3 after-heal
send 4 after-heal-4
expect_line 4 after-heal-4

echo "4. cut: every pair is reset on both sides"
kill -HUP "$proxy_pid"
wait_for "$work/proxy.log" 'cut 2 connections' || fail "no 'cut 2 connections' in the log"
expect_closed 3
expect_closed 4
exec 3>&- 4>&-
wait_for "$work/echo.log" 'closed conn=1 Connection reset by peer' || fail "target side of conn 1 not reset"
wait_for "$work/echo.log" 'closed conn=2 Connection reset by peer' || fail "target side of conn 2 not reset"

echo "5. after the cut new connections work; a client closing during a blackhole leaves the target half-open"
exec 5<>"/dev/tcp/127.0.0.1/$proxy_port"
send 5 after-cut
expect_line 5 after-cut
kill -USR1 "$proxy_pid"
# The log holds step 2's 'blackhole on' already: wait for the second one,
# or the close below may reach the proxy before the blackhole does.
second_blackhole() { [ "$(grep -c 'blackhole on' "$work/proxy.log")" -ge 2 ]; }
for ((i = 0; i < 50; i++)); do second_blackhole && break; sleep 0.1; done
second_blackhole || fail "no second 'blackhole on'"
exec 5>&-
wait_for "$work/proxy.log" 'client closed conn=3 during blackhole' || fail "client close not seen"
sleep 0.3
! grep -q 'closed conn=3' "$work/echo.log" || fail "the close leaked through the blackhole"

echo "6. SIGTERM: clean exit, pidfile removed"
kill -TERM "$proxy_pid"
rc=0
wait "$proxy_pid" || rc=$?
pids=("${pids[@]/$proxy_pid/}")
[ "$rc" -eq 0 ] || fail "faultproxy exited with $rc"
[ ! -e "$work/proxy.pid" ] || fail "pidfile left behind"
grep -q ' exit$' "$work/proxy.log" || fail "no 'exit' in the log"
wait_for "$work/echo.log" 'closed conn=3 eof' || fail "target side of conn 3 not closed at exit"

echo "PASS faultproxy"
