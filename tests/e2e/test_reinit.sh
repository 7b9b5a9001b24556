#!/usr/bin/env bash
# A county whose disk died is initialised again and allowed with its new key:
# it numbers from v1 again, in a later numbering series, and its newest
# submission is the one that counts at the hub and the province; a return
# targets it; the old versions stay in the audit trail. And a refused item
# is shown as refused at the county, not delivered.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
C=$WORK/530102
H=$WORK/530100
P=$WORK/province
start province province-core "$P"
start hub prefecture-hub "$H"
start county county-node "$C"

submit() { report_json 530102 "$1" "$2" | county --data "$C" submit -; }
reports_at() { [ "$(status_field "$1" "$2" .reports)" -eq "$3" ]; }
counted_at_province() {
    province --data "$P" evaluate --year 2018 --format json |
        jq -r '.units[] | select(.code == "530102") | .report_id'
}

old1=$(submit 2018 1)
old2=$(submit 2018 2)
old3=$(submit 2018 3)
wait_until 15 reports_at province-core "$P" 3 || fail "the old versions did not reach the province"
[ "$(counted_at_province)" = "$old3" ] || fail "before the re-init the province counts $(counted_at_province)"
note "old county: v1-v3 delivered; v3 counts"

# The disk dies: a new data directory, a new key, the same code. The clock
# of the new machine may even be behind: the later series still wins.
kill9 county
rm -rf "$C"
hub_key=$(hub --data "$H" key)
sleep 1.1 # a numbering series is the init time in seconds
county --data "$C" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
    --upstream-key "$hub_key" >/dev/null
hub --data "$H" allow --code 530102 --key "$(county --data "$C" key)" >/dev/null
start county county-node "$C"
new1=$(report_json 530102 2018 9 | SHIFAN_NOW=2018-07-01T09:00:00+08:00 county --data "$C" submit -)
case "$new1" in 530102-2018-v1-*) ;; *) fail "the new county did not number from v1: $new1" ;; esac
wait_until 15 reports_at province-core "$P" 4 || fail "the new v1 did not reach the province"
wait_until 10 field_is county-node "$C" .queued 0 || fail "the new county's queue did not drain"
[ "$(counted_at_province)" = "$new1" ] ||
    fail "the province counts $(counted_at_province), not the re-initialised county's v1 $new1"
province --data "$P" list --json | jq -e --arg a "$old1" --arg b "$old3" \
    '[.[].report_id] | index($a) != null and index($b) != null' >/dev/null ||
    fail "the old versions left the audit trail"
note "re-initialised county: its v1 (a later series) counts; v1-v3 stay listed"

# A return at the hub targets the newest submission.
hub --data "$H" return --unit 530102 --year 2018 --reason "请核实 2.1" >/dev/null
state_of() { county --data "$C" list --json | jq -r --arg id "$1" '.[] | select(.report_id == $id) | .state'; }
returned() { [ "$(state_of "$new1")" = returned ]; }
wait_until 15 returned || fail "the return did not reach the new v1 (state $(state_of "$new1"))"
note "a return targets the new v1"

# A refused item: the hub is restarted with a tiny bound per child, so the
# county's next report is refused there; the county learns it durably.
stop hub
SHIFAN_CHILD_BYTES_PER_UNIT=2000 start hub prefecture-hub "$H"
big=$(report_json 530102 2019 4 | jq -c '.comments["1.1"] = ("x" * 1500)' | county --data "$C" submit -)
refused() { [ "$(state_of "$big")" = "refused: over limit: 530102 has stored 0 bytes for year 2019 here, the bound is 2000" ]; }
wait_until 15 refused || fail "the over-limit report shows as '$(state_of "$big")', not refused"
[ "$(status_field county-node "$C" .refused)" -eq 1 ] || fail "status does not count the refusal"
[ "$(status_field county-node "$C" .queued)" -eq 0 ] || fail "the refused item is still queued"
county --data "$C" list | grep -qF "refused: over limit" || fail "text list does not show the refusal"
grep -q "refused: over limit: 530102" "$WORK/hub.log" || fail "the hub did not log the refusal"
note "an over-limit report shows as refused at the county, with the hub's reason"
