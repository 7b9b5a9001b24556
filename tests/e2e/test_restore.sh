#!/usr/bin/env bash
# A county and its hub restored from backups taken at different moments,
# while returns and a programme revision flow down and reports flow up:
# afterwards nothing is stalled in either direction on either link, every
# report is at the province exactly once, what a restored node lost and its
# parent still holds comes back to it, and the newest submission counts.
#
# Timeline:  r1 r2 | backup county | return R1, r3, programme rev 2 |
#            backup hub | r4, return R2 | both killed, both restored | r5
# The county's backup lacks R1, r3, rev 2, r4 and R2; the hub's lacks r4
# and R2. r4 then exists only at the province: a double restore loses it at
# the lower tiers, never at the top.
source "$(dirname "$0")/lib.sh"
SRC=${SHIFAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

setup_tree 530100:530102
C=$WORK/530102
H=$WORK/530100
P=$WORK/province
start province province-core "$P"
start hub prefecture-hub "$H"
start county county-node "$C"

submit() { report_json 530102 "$1" "$2" | county --data "$C" submit -; }
ids_of() { "$BIN/$1" --data "$2" list --json | jq -r '.[].report_id' | sort; }
reports_at() { [ "$(status_field "$1" "$2" .reports)" -eq "$3" ]; }
state_of() { county --data "$C" list --json | jq -r --arg id "$1" '.[] | select(.report_id == $id) | .state'; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
# A consistent copy of a running node: its files, and the store by mdb_copy.
backup() {
    local dir=$1 copy=$2
    mkdir -p "$copy/store" "$copy/run"
    (cd "$dir" && tar --exclude=./store --exclude=./run -cf - .) | (cd "$copy" && tar -xf -)
    mdb_copy "$dir/store" "$copy/store" || fail "mdb_copy of $dir failed"
}
restore() { rm -rf "$1" && cp -a "$2" "$1"; }

r1=$(submit 2018 1)
r2=$(submit 2019 2)
wait_until 15 reports_at province-core "$P" 2 || fail "r1, r2 did not reach the province"
wait_until 10 field_is county-node "$C" .queued 0 || fail "the county did not drain"
backup "$C" "$WORK/county-backup"
note "county backed up after r1, r2"

hub --data "$H" return --unit 530102 --year 2018 --reason "R1: 2.1 分母有误" >/dev/null
wait_until 15 state_is "$r1" returned || fail "R1 did not reach the county"
r3=$(submit 2018 3)
jq '.revision = 2' "$SRC/libshifan/data/programme-yunnan-2017.json" >"$WORK/rev2.json"
province --data "$P" publish "$WORK/rev2.json" >/dev/null
wait_until 15 field_is county-node "$C" .programme_revision 2 || fail "rev 2 did not reach the county"
wait_until 15 reports_at province-core "$P" 3 || fail "r3 did not reach the province"
wait_until 10 field_is prefecture-hub "$H" .queued 0 || fail "the hub did not drain"
backup "$H" "$WORK/hub-backup"
note "hub backed up after R1, r3, programme revision 2"

r4=$(submit 2018 4)
wait_until 15 reports_at province-core "$P" 4 || fail "r4 did not reach the province"
hub --data "$H" return --unit 530102 --year 2018 --reason "R2: 6.1 请核实" >/dev/null
wait_until 15 state_is "$r4" returned || fail "R2 did not reach the county"
wait_until 10 field_is prefecture-hub "$H" .queued 0 || fail "the hub did not drain R2"

kill9 county
kill9 hub
restore "$C" "$WORK/county-backup"
restore "$H" "$WORK/hub-backup"
[ "$(status_field county-node "$C" .programme_revision)" = 1 ] || fail "the county backup is not the old one"
[ "$(status_field prefecture-hub "$H" .reports)" -eq 3 ] || fail "the hub backup is not the old one"
start hub prefecture-hub "$H"
start county county-node "$C"
note "both killed and restored: county from before R1, hub from before r4"

# Upward: a new submission (2018 v2 again at the restored county: the same
# number as r3, and below r4's v3, but submitted later) reaches the hub and
# the province. (Times are in seconds: let one pass since r4.)
sleep 1.1
r5=$(submit 2018 5)
wait_until 20 reports_at province-core "$P" 5 || fail "province has $(status_field province-core "$P" .reports) reports, expected 5"
wait_until 15 field_is county-node "$C" .queued 0 || fail "the county's queue stalled"
wait_until 15 field_is prefecture-hub "$H" .queued 0 || fail "the hub's queue stalled"
printf '%s\n' "$r1" "$r2" "$r3" "$r4" "$r5" | sort >"$WORK/all"
ids_of province-core "$P" | diff -u "$WORK/all" - || fail "the province's reports differ"
for id in $r1 $r2 $r3 $r4 $r5; do
    n=$(grep -c "stored report $id " "$WORK/province.log")
    [ "$n" -eq 1 ] || fail "the province stored $id $n times"
done
printf '%s\n' "$r1" "$r2" "$r3" "$r5" | sort >"$WORK/hub-expected"
ids_of prefecture-hub "$H" | diff -u "$WORK/hub-expected" - || fail "the hub's reports differ"
note "province: r1-r5 once each; hub: all but r4, which only the province had"

# Downward: what the county lost and the hub holds came back (rev 2, R1),
# and what is new arrives: a return now targets the newest submission, r5.
wait_until 15 field_is county-node "$C" .programme_revision 2 || fail "rev 2 did not come back to the county"
wait_until 15 state_is "$r1" returned || fail "R1 did not come back to the county (state $(state_of "$r1"))"
county --data "$C" list --json | jq -e --arg id "$r1" \
    '.[] | select(.report_id == $id) | .return_reason == "R1: 2.1 分母有误"' >/dev/null ||
    fail "R1's reason differs"
hub --data "$H" return --unit 530102 --year 2018 --reason "R3: 最新版本" >/dev/null
wait_until 15 state_is "$r5" returned || fail "R3 did not reach the county (r5 is $(state_of "$r5"))"
[ "$(state_of "$r3")" = "returned" ] && fail "R3 went to r3, not the newest submission r5"
downs() { hub --data "$H" status --json | jq -e '[.children[].down_pending] | add == 0'; }
wait_until 10 downs || fail "the hub's downward queue to the county stalled"
note "downward: rev 2 and R1 came back; R3 reached r5, the newest submission"

# The province counts the newest submission of 2018: r5.
counted=$(province --data "$P" evaluate --year 2018 --format json |
    jq -r '.units[] | select(.code == "530102") | .report_id')
[ "$counted" = "$r5" ] || fail "the province counts $counted for 530102 2018, not r5 ($r5)"

# The operator is told, in the logs and in status.
grep -q "applied less than it acknowledged (restored from a backup?)" "$WORK/hub.log" ||
    fail "the hub did not log the county's restore"
grep -q "restored from a backup" "$WORK/county.log" || fail "the county did not log its restore"
grep -q "has applied more of our stream than this store ever held" "$WORK/hub.log" ||
    fail "the hub did not log its own restore towards the province"
[ "$(status_field prefecture-hub "$H" '.children_event // ""')" != "" ] || fail "hub status shows no event"
[ "$(status_field county-node "$C" '.link.last_event // ""')" != "" ] || fail "county status shows no event"
note "restores logged and shown in status"
