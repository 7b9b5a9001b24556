#!/usr/bin/env bash
# Sneakernet packages (docs/packages.md): a county whose link is down exports
# its queue, the hub imports it and forwards to the province, which holds
# each report once; a second import stores nothing; when the link comes back
# the county's queue empties without anything stored twice. Then the other
# order (delivered by the link, then an older package of the same items
# imported), and a hub's package to the province with the hub stopped.
# Counts come from the programs' own status --json and list --json.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
C="$WORK/530102"
H="$WORK/530100"
P="$WORK/province"
start province province-core "$P"
start hub prefecture-hub "$H"

submit() { # submit YEAR SEED: prints the id
    report_json 530102 "$1" "$2" | county --data "$C" submit - 2>/dev/null || fail "submit failed"
}
count_of() { status_field "$1" "$2" "$3"; }
# ids_once PROGRAM DATA N: the node lists N report versions, each id once.
ids_once() {
    local all unique
    all=$("$BIN/$1" --data "$2" list --json | jq -r '.[].report_id' | wc -l)
    unique=$("$BIN/$1" --data "$2" list --json | jq -r '.[].report_id' | sort -u | wc -l)
    [ "$all" -eq "$3" ] && [ "$unique" -eq "$3" ] || fail "$1: $all versions ($unique ids), expected $3"
}
# import_ok PROGRAM DATA FILE: imports, keeping stdout in $WORK/import.out.
import_ok() {
    "$BIN/$1" --data "$2" import-package "$3" >"$WORK/import.out" 2>"$WORK/import.err" ||
        fail "$1 import-package $3: exit $?: $(cat "$WORK/import.err")"
}
expect_line() { grep -qF -- "$1" "$WORK/import.out" || fail "no '$1' in: $(cat "$WORK/import.out")"; }

# 1. The county's link is down (its daemon does not run): three reports wait,
#    behind the county's signing key (queued at init).
for year in 2017 2018 2019; do submit "$year" "$year" >>"$WORK/ids"; done
[ "$(count_of county-node "$C" .queued)" -eq 4 ] || fail "3 reports and the key not queued"
county --data "$C" export-package --out "$WORK/county1.pkg" >"$WORK/out" || fail "export failed"
grep -qF "exported 4 queued item(s) to $WORK/county1.pkg" "$WORK/out" || fail "export said: $(cat "$WORK/out")"
head -c 17 "$WORK/county1.pkg" | grep -qx "SHIFAN-PACKAGE-1" || fail "no magic line"
[ "$(count_of county-node "$C" .queued)" -eq 4 ] || fail "export changed the queue"
note "county exported its key and 3 queued reports"

# Sealed to the hub: the province cannot open it.
rc=0
province --data "$P" import-package "$WORK/county1.pkg" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "province import of the hub's package: exit $rc, not 2"
grep -qF "does not open with this node's key" "$WORK/err" || fail "province said: $(cat "$WORK/err")"

# 2. The hub imports it beside its running daemon, and forwards it.
import_ok prefecture-hub "$H" "$WORK/county1.pkg"
expect_line "a package of 4 item(s) from 530102"
expect_line "applied:    4 (4 continuing 530102's sequence)"
expect_line "duplicates: 0"
grep -qF "no signing key is held for 530102 yet" "$WORK/import.err" || fail "no unregistered-key warning"
wait_until 15 field_is province-core "$P" .reports 3 || fail "the province did not get the 3 reports"
ids_once province-core "$P" 3
note "hub imported 3, the province holds each once"

# 3. Again: nothing new.
import_ok prefecture-hub "$H" "$WORK/county1.pkg"
expect_line "applied:    0 (0 continuing"
expect_line "duplicates: 4"
sleep 1
[ "$(count_of prefecture-hub "$H" .queued)" -eq 0 ] || fail "a second import queued something"
[ "$(count_of prefecture-hub "$H" .reports)" -eq 3 ] || fail "hub holds more than 3"
ids_once province-core "$P" 3

# 4. The county's link works again: its queue empties, nothing twice.
start county county-node "$C"
wait_until 15 field_is county-node "$C" .queued 0 || fail "the county's queue did not empty"
states=$(county --data "$C" list --json | jq -r '.[].state' | sort -u)
[ "$states" = "delivered" ] || fail "county states: $states"
sleep 1
ids_once province-core "$P" 3
ids_once prefecture-hub "$H" 3
note "link back: county queue empty, province still holds each report once"

# An empty queue is no package: exit 2.
rc=0
county --data "$C" export-package --out "$WORK/empty.pkg" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "export of an empty queue: exit $rc, not 2"
grep -qF "nothing is queued for the parent" "$WORK/err" || fail "empty export said: $(cat "$WORK/err")"
[ ! -e "$WORK/empty.pkg" ] || fail "an empty export wrote a file"

# 5. The other order: exported while down, delivered by the link first, the
#    older package imported after.
stop county
for year in 2017 2020; do submit "$year" $((year + 5)) >>"$WORK/ids"; done
county --data "$C" export-package --out "$WORK/county2.pkg" >/dev/null || fail "second export failed"
start county county-node "$C"
wait_until 15 field_is county-node "$C" .queued 0 || fail "the link did not deliver the 2 new"
wait_until 15 field_is province-core "$P" .reports 5 || fail "the province did not get 5"
import_ok prefecture-hub "$H" "$WORK/county2.pkg"
expect_line "applied:    0 (0 continuing"
expect_line "duplicates: 2"
sleep 1
ids_once prefecture-hub "$H" 5
ids_once province-core "$P" 5
[ "$(count_of prefecture-hub "$H" .queued)" -eq 0 ] || fail "the late import queued something"
note "delivered by link, then the older package: nothing twice"

# 6. A hub's package to the province: the hub's daemon is stopped, a county
#    package brings two reports in, the hub's forward queue goes by hand.
stop county
stop hub
for year in 2018 2019; do submit "$year" $((year + 7)) >>"$WORK/ids"; done
county --data "$C" export-package --out "$WORK/county3.pkg" >/dev/null || fail "third export failed"
import_ok prefecture-hub "$H" "$WORK/county3.pkg"
expect_line "applied:    2 (2 continuing 530102's sequence)"
[ "$(count_of prefecture-hub "$H" .queued)" -eq 2 ] || fail "the hub did not queue the 2 forwards"
hub --data "$H" export-package --out "$WORK/hub.pkg" >"$WORK/out" || fail "hub export failed"
grep -qF "exported 2 queued item(s)" "$WORK/out" || fail "hub export said: $(cat "$WORK/out")"
import_ok province-core "$P" "$WORK/hub.pkg"
expect_line "a package of 2 item(s) from 530100"
expect_line "applied:    2 (2 continuing 530100's sequence)"
[ "$(count_of province-core "$P" .reports)" -eq 7 ] || fail "the province does not hold 7"
import_ok province-core "$P" "$WORK/hub.pkg"
expect_line "duplicates: 2"
start hub prefecture-hub "$H"
start county county-node "$C"
wait_until 15 field_is prefecture-hub "$H" .queued 0 || fail "the hub's queue did not empty"
wait_until 15 field_is county-node "$C" .queued 0 || fail "the county's queue did not empty"
sleep 1
ids_once prefecture-hub "$H" 7
ids_once province-core "$P" 7
sort -u "$WORK/ids" | diff - <(province --data "$P" list --json | jq -r '.[].report_id' | sort) ||
    fail "the province's ids differ from the county's"
note "hub package to the province: 7 reports, each once"
echo ok
