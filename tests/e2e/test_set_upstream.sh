#!/usr/bin/env bash
# A county's hub moves (new port, new key, a fresh store), then the province
# moves: `set-upstream` on the running child keeps its queue, and what was
# queued reaches the new parent and the province exactly once, without a
# restart. Bad input to set-upstream exits 2 and changes nothing. A parent
# that cannot be reached is reported by name (grace period 2 s here).
source "$(dirname "$0")/lib.sh"
export SHIFAN_UNREACHABLE_AFTER=2

setup_tree 530100:530102
C="$WORK/530102"
old_hub="tcp://127.0.0.1:$HUB_PORT_530100"
start province province-core "$WORK/province"
start hubA prefecture-hub "$WORK/530100"
start county county-node "$C"

submit() { # submit YEAR SEED: prints the id
    report_json 530102 "$1" "$2" | county --data "$C" submit - 2>/dev/null || fail "submit failed"
}
ids_of() { "$BIN/$1" --data "$2" list --json | jq -r '.[].report_id' | sort; }
count_of() { status_field "$1" "$2" "$3"; }
# stored_once LOG IDS_FILE: every id was stored exactly once at that node.
stored_once() {
    local id n
    while read -r id; do
        n=$(grep -c "INFO stored report $id " "$1" || true)
        [ "$n" -eq 1 ] || fail "$(basename "$1"): report $id stored $n times"
    done <"$2"
}

for year in 2017 2018 2019; do submit "$year" "$year" >>"$WORK/ids.before"; done
wait_until 15 field_is province-core "$WORK/province" .reports 3 || fail "first 3 reports not delivered"
wait_until 5 field_is county-node "$C" .queued 0 || fail "county queue not drained"
note "3 reports delivered through hub A"

# 1. Bad input: exit 2, the culprit named, the county's store unchanged.
dump() { mdb_dump -a -p "$1/store" | sed '1,/^HEADER=END/d'; }
dump "$C" >"$WORK/before.dump"
hub_key_a=$(hub --data "$WORK/530100" key)
bad() { # bad PATTERN COMMAND...
    local pattern=$1 rc=0
    shift
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "exit $rc, not 2: $*"
    grep -q -- "$pattern" "$WORK/err" || fail "no '$pattern' in: $(cat "$WORK/err")"
    [ ! -s "$WORK/out" ] || fail "printed on bad input: $(cat "$WORK/out")"
}
bad "error: --upstream-key: expected the parent's 40-character public key" \
    county --data "$C" set-upstream --upstream "tcp://127.0.0.1:1"
bad "error: --upstream ENDPOINT is required" county --data "$C" set-upstream --upstream-key "$hub_key_a"
bad "error: --upstream 127.0.0.1:7001: expected an endpoint" \
    county --data "$C" set-upstream --upstream 127.0.0.1:7001 --upstream-key "$hub_key_a"
bad "error: --upstream-key: expected" \
    county --data "$C" set-upstream --upstream "tcp://127.0.0.1:1" --upstream-key "${hub_key_a:0:39}"
bad "county-node set-upstream does not take --code" \
    county --data "$C" set-upstream --code 530102 --upstream "tcp://127.0.0.1:1" --upstream-key "$hub_key_a"
bad "error: the province has no upstream: set-upstream is for a county or a prefecture hub" \
    province --data "$WORK/province" set-upstream --upstream "tcp://127.0.0.1:1" --upstream-key "$hub_key_a"
dump "$C" | diff -u "$WORK/before.dump" - || fail "bad input changed the county's store"
[ "$(count_of county-node "$C" .link.upstream)" = "$old_hub" ] || fail "upstream changed"
note "6 bad set-upstream calls: exit 2, store unchanged"

# 2. Hub A goes away; hub B takes over prefecture 530100 from a fresh store
#    on another port with another key. The province and hub B allow the keys.
stop hubA
port_b=$(free_port)
hub --data "$WORK/hubB" init --code 530100 --listen "tcp://127.0.0.1:$port_b" \
    --upstream "tcp://127.0.0.1:$PROVINCE_PORT" --upstream-key "$(province --data "$WORK/province" key)" >/dev/null
key_b=$(hub --data "$WORK/hubB" key)
province --data "$WORK/province" allow --code 530100 --key "$key_b" >/dev/null
hub --data "$WORK/hubB" allow --code 530102 --key "$(county --data "$C" key)" >/dev/null
start hubB prefecture-hub "$WORK/hubB"

for year in 2017 2018 2019 2020; do submit "$year" $((year + 10)) >>"$WORK/ids.queued"; done
sleep 3
[ "$(count_of county-node "$C" .queued)" -eq 4 ] || fail "county queue is not the 4 new reports"
[ "$(count_of province-core "$WORK/province" .reports)" -eq 3 ] || fail "a report crossed without a hub"
warned=$(grep -cF "WARN cannot reach the parent at $old_hub for 2 s (state connecting): check --upstream (set-upstream)" \
    "$WORK/county.log" || true)
[ "$warned" -eq 1 ] || fail "$warned unreachable warnings for $old_hub, expected 1"
[ "$(count_of county-node "$C" .link.unreachable_since)" != null ] || fail "status: unreachable_since is null"
county --data "$C" status | grep -q "parent unreachable since .*: check --upstream (set-upstream)" ||
    fail "text status does not say the parent is unreachable"
note "4 reports queued for the gone hub; warned once naming $old_hub"

# 3. First a wrong port: the daemon switches, warns naming it, delivers nothing.
wrong="tcp://127.0.0.1:$(free_port)"
county --data "$C" set-upstream --upstream "$wrong" --upstream-key "$key_b" >"$WORK/out" ||
    fail "set-upstream to $wrong failed"
grep -qFx "upstream:     $old_hub -> $wrong" "$WORK/out" || fail "output: $(cat "$WORK/out")"
grep -qFx "upstream key: $hub_key_a -> $key_b" "$WORK/out" || fail "output: $(cat "$WORK/out")"
grep -qFx "queue kept: 4 item(s) wait for the parent; the running daemon switches within a second" \
    "$WORK/out" || fail "output: $(cat "$WORK/out")"
wait_until 5 grep -qF "WARN cannot reach the parent at $wrong for 2 s (state connecting)" "$WORK/county.log" ||
    fail "no unreachable warning for the wrong port $wrong"
grep -qF "WARN parent changed by set-upstream: $old_hub -> $wrong (key $key_b)" "$WORK/county.log" ||
    fail "the switch to $wrong was not logged"
[ "$(count_of county-node "$C" .link.upstream)" = "$wrong" ] || fail "status does not show $wrong"
[ "$(count_of county-node "$C" .queued)" -eq 4 ] || fail "the queue changed on a wrong port"

# 4. Then hub B, while the county daemon runs: the 4 queued reports arrive,
#    and, hub B holding nothing of the county that a parent once acknowledged,
#    the county queues its 3 delivered versions again (docs/protocol.md,
#    "A parent behind its child"): hub B ends with all 7, each stored once.
switched=$(now_ms)
county --data "$C" set-upstream --upstream "tcp://127.0.0.1:$port_b" --upstream-key "$key_b" >"$WORK/out" ||
    fail "set-upstream to hub B failed"
grep -qFx "upstream key: $key_b (unchanged)" "$WORK/out" || fail "output: $(cat "$WORK/out")"
wait_until 15 field_is county-node "$C" .queued 0 || fail "county queue did not drain at hub B"
note "queue drained $(($(now_ms) - switched)) ms after set-upstream"
wait_until 15 field_is province-core "$WORK/province" .reports 7 ||
    fail "province has $(count_of province-core "$WORK/province" .reports) reports, expected 7"
sort "$WORK/ids.before" "$WORK/ids.queued" >"$WORK/all.sorted"
wait_until 10 field_is prefecture-hub "$WORK/hubB" .reports 7 || fail "hub B does not hold all 7"
ids_of prefecture-hub "$WORK/hubB" | diff -u "$WORK/all.sorted" - || fail "hub B holds other reports"
ids_of province-core "$WORK/province" | diff -u "$WORK/all.sorted" - || fail "the province's reports differ"
stored_once "$WORK/hubB.log" "$WORK/all.sorted"
stored_once "$WORK/province.log" "$WORK/all.sorted"
grep -qF "lacks items it once acknowledged" "$WORK/county.log" || fail "the county did not log the resync"
[ "$(county --data "$C" list --json | jq '[.[] | select(.state == "delivered")] | length')" -eq 7 ] ||
    fail "the county does not list 7 delivered versions"
note "hub B: all 7 reports once each (4 queued, 3 queued again); province: 7 once each"

# 5. The province moves too: a new one on another port with another key.
#    Reports reaching hub B meanwhile wait in its queue, then go there.
stop province
p2_port=$(free_port)
province --data "$WORK/province2" init --listen "tcp://127.0.0.1:$p2_port" >/dev/null
province --data "$WORK/province2" allow --code 530100 --key "$key_b" >/dev/null
start province2 province-core "$WORK/province2"
for year in 2018 2020; do submit "$year" $((year + 20)) >>"$WORK/ids.hubqueued"; done
wait_until 15 field_is prefecture-hub "$WORK/hubB" .queued 2 || fail "hub B did not queue the 2 new reports"
[ "$(count_of county-node "$C" .queued)" -eq 0 ] || fail "the county did not deliver to hub B"
hub --data "$WORK/hubB" set-upstream --upstream "tcp://127.0.0.1:$p2_port" \
    --upstream-key "$(province --data "$WORK/province2" key)" >"$WORK/out" || fail "hub set-upstream failed"
grep -qFx "upstream:     tcp://127.0.0.1:$PROVINCE_PORT -> tcp://127.0.0.1:$p2_port" "$WORK/out" ||
    fail "output: $(cat "$WORK/out")"
wait_until 15 field_is prefecture-hub "$WORK/hubB" .queued 0 || fail "hub B's queue did not drain"
# The fresh province holds nothing of hub B: hub B queues all it holds again.
wait_until 15 field_is province-core "$WORK/province2" .reports 9 ||
    fail "new province has $(count_of province-core "$WORK/province2" .reports) reports, expected 9"
sort "$WORK/ids.before" "$WORK/ids.queued" "$WORK/ids.hubqueued" >"$WORK/nine.sorted"
ids_of province-core "$WORK/province2" | diff -u "$WORK/nine.sorted" - || fail "new province's reports differ"
stored_once "$WORK/province2.log" "$WORK/nine.sorted"
grep -qF "WARN parent changed by set-upstream: tcp://127.0.0.1:$PROVINCE_PORT -> tcp://127.0.0.1:$p2_port" \
    "$WORK/hubB.log" || fail "hub B did not log the switch"
[ "$(count_of prefecture-hub "$WORK/hubB" .reports)" -eq 9 ] || fail "hub B lost or gained reports"
note "hub B switched provinces: the fresh province holds all 9 reports, once each"
