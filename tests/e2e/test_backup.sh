#!/usr/bin/env bash
# `backup --out` of a running hub while two counties submit without pause:
# the copy is a data directory of its own (status reads it, the keys keep
# their modes), a non-empty target is refused with exit 2, and after the
# hub is SIGKILLed and restored from the copy, everything drains: the
# province holds every report each county submitted exactly once, and no
# queue stalls. Reports the hub took after the backup come again from the
# counties, which re-queue their state once the restored hub lacks them.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102,530103
P=$WORK/province
H=$WORK/530100
start province province-core "$P"
start hub prefecture-hub "$H"
start c530102 county-node "$WORK/530102"
start c530103 county-node "$WORK/530103"

VERSIONS=40
# submit_loop UNIT: VERSIONS submissions, alternating two years, ids kept.
submit_loop() {
    local unit=$1 i
    for i in $(seq 1 "$VERSIONS"); do
        report_json "$unit" $((2018 + i % 2)) "$i" |
            county --data "$WORK/$unit" submit - >>"$WORK/ids.$unit" 2>>"$WORK/submit.$unit.log" ||
            exit 1
        sleep 0.1
    done
}
declare -A LOOPS=()
for unit in 530102 530103; do
    submit_loop "$unit" &
    LOOPS[$unit]=$!
    ALL_PIDS+=("$!")
done
ids_of() { "$BIN/$1" --data "$2" list --json | jq -r '.[].report_id' | sort; }
reports_at_least() { [ "$(status_field "$1" "$2" .reports)" -ge "$3" ]; }

wait_until 30 reports_at_least prefecture-hub "$H" 10 || fail "the hub got no reports"
hub --data "$H" backup --out "$WORK/hub-backup" >"$WORK/backup.out" 2>"$WORK/backup.err" ||
    fail "backup failed: $(cat "$WORK/backup.err")"
for unit in "${!LOOPS[@]}"; do
    kill -0 "${LOOPS[$unit]}" 2>/dev/null || fail "the submissions of $unit ended before the backup"
done
grep -q "^backup written to $WORK/hub-backup\$" "$WORK/backup.out" || fail "no path: $(cat "$WORK/backup.out")"
grep -Eq "store/data.mdb: [0-9]+ bytes \(compacted\), [1-9][0-9]* report version" "$WORK/backup.out" ||
    fail "no size or count: $(cat "$WORK/backup.out")"
grep -q "to restore: stop the daemon" "$WORK/backup.out" || fail "no restore hint"
backed_up=$(status_field prefecture-hub "$WORK/hub-backup" .reports)
[ "$backed_up" -ge 10 ] || fail "the copy holds $backed_up reports"
[ "$(stat -c %a "$WORK/hub-backup/keys/node.secret")" = 600 ] || fail "node.secret mode"
[ "$(stat -c %a "$WORK/hub-backup/keys/sign.secret")" = 600 ] || fail "sign.secret mode"
[ "$(stat -c %a "$WORK/hub-backup/keys/node.public")" = 644 ] || fail "node.public mode"
cmp -s "$H/keys/node.secret" "$WORK/hub-backup/keys/node.secret" || fail "node.secret differs"
[ -z "$(ls -A "$WORK" | grep partial)" ] || fail "a temporary directory was left: $(ls -A "$WORK")"
note "hub backed up under load: $backed_up reports in the copy"

# A target that is not empty is refused: exit 2, named, nothing written.
rc=0
hub --data "$H" backup --out "$WORK/hub-backup" >/dev/null 2>"$WORK/again.err" || rc=$?
[ "$rc" -eq 2 ] || fail "a second backup into the same directory exited $rc"
grep -q "exists and is not an empty directory" "$WORK/again.err" || fail "$(cat "$WORK/again.err")"
[ "$(status_field prefecture-hub "$WORK/hub-backup" .reports)" -eq "$backed_up" ] ||
    fail "the refused backup changed the copy"
note "a non-empty target refused (exit 2)"

# Let the hub take more after the backup, then lose it and restore the copy.
more=$((backed_up + 10 < 2 * VERSIONS ? backed_up + 10 : 2 * VERSIONS))
[ "$more" -gt "$backed_up" ] || fail "the backup came after every submission: nothing to lose"
wait_until 30 reports_at_least prefecture-hub "$H" "$more" ||
    fail "the hub took nothing after the backup"
kill9 hub
mv "$H" "$WORK/hub-lost"
mv "$WORK/hub-backup" "$H"
start hub prefecture-hub "$H"
running=0
for unit in "${!LOOPS[@]}"; do ! kill -0 "${LOOPS[$unit]}" 2>/dev/null || running=$((running + 1)); done
note "hub killed and restored from the backup; $running county loop(s) still submitting"

for unit in "${!LOOPS[@]}"; do
    wait "${LOOPS[$unit]}" || fail "a submission of $unit failed: $(cat "$WORK/submit.$unit.log")"
    [ "$(wc -l <"$WORK/ids.$unit")" -eq "$VERSIONS" ] || fail "$unit submitted $(wc -l <"$WORK/ids.$unit")"
done
total=$((2 * VERSIONS))
wait_until 60 field_is province-core "$P" .reports "$total" ||
    fail "the province has $(status_field province-core "$P" .reports) reports, expected $total"
for unit in 530102 530103; do
    wait_until 30 field_is county-node "$WORK/$unit" .queued 0 || fail "$unit's queue stalled"
done
wait_until 30 field_is prefecture-hub "$H" .queued 0 || fail "the hub's queue stalled"

# End to end: every id each county submitted, once at the province.
for unit in 530102 530103; do ids_of county-node "$WORK/$unit"; done | sort >"$WORK/submitted"
sort "$WORK"/ids.530102 "$WORK"/ids.530103 | diff -u - "$WORK/submitted" || fail "the counties' lists differ from what they submitted"
ids_of province-core "$P" >"$WORK/at-province"
diff -u "$WORK/submitted" "$WORK/at-province" || fail "the province's reports differ from the counties'"
[ -z "$(uniq -d "$WORK/at-province")" ] || fail "the province lists a report twice"
while read -r id; do
    n=$(grep -c "INFO stored report $id " "$WORK/province.log" || true)
    [ "$n" -eq 1 ] || fail "the province stored $id $n times"
done <"$WORK/submitted"
ids_of prefecture-hub "$H" | diff -u "$WORK/submitted" - || fail "the restored hub lacks reports"
grep -q "lacks items it once acknowledged" "$WORK/c530102.log" "$WORK/c530103.log" ||
    fail "no county noticed the restored hub"
note "$total reports, each once at the province; every queue drained"
