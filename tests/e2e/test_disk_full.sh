#!/usr/bin/env bash
# A hub whose disk fills up while reports arrive: it says the disk is full,
# keeps running, loses nothing it had committed, and acknowledges nothing
# it could not store, so the county keeps its queue; once space is freed
# every report arrives exactly once. The hub's data lives on a small tmpfs
# (needs root; exit 77 = skipped where mounting is not allowed).
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
# Move the hub onto its own small filesystem.
mkdir -p "$WORK/disk"
if ! mount -t tmpfs -o size=6m tmpfs "$WORK/disk" 2>/dev/null; then
    echo "skipped: cannot mount a tmpfs here (not root?)"
    exit 77
fi
on_cleanup umount -l "$WORK/disk"
cp -a "$WORK/530100" "$WORK/disk/hub"
rm -rf "$WORK/530100"
ln -s "$WORK/disk/hub" "$WORK/530100"

start hub prefecture-hub "$WORK/530100"
start c530102 county-node "$WORK/530102"
id=$(report_json 530102 2018 1 | county --data "$WORK/530102" submit -)
wait_until 10 field_is prefecture-hub "$WORK/530100" .reports 1 || fail "nothing arrives before the disk fills"

# Leave about 200 KiB free, then send far more than fits (each report is
# stored twice at the hub: itself and its forward).
free_kib=$(df -k --output=avail "$WORK/disk" | tail -1)
dd if=/dev/zero of="$WORK/disk/filler" bs=1k count=$((free_kib - 200)) status=none || fail "cannot fill the disk"
left_kib=$(df -k --output=avail "$WORK/disk" | tail -1)
[ "$left_kib" -le 256 ] || fail "$left_kib KiB still free after filling the disk"
for _ in $(seq 1 150); do
    report_json 530102 2018 "$RANDOM" | county --data "$WORK/530102" submit - >>"$WORK/ids"
done
echo "$id" >>"$WORK/ids"
full() {
    grep -qE "ERROR cannot store what [0-9]+ frame\(s\) carried: disk full: .*; nothing was acknowledged, the children will resend" \
        "$WORK/hub.log"
}
wait_until 20 full || fail "the hub never said its disk is full"
sleep 1
kill -0 "${PIDS[hub]}" || fail "the hub died on a full disk"
# Every accepted id is at the hub or still queued at the county, the hub holds
# only accepted ids, and the county counts as delivered only what the hub holds.
# (The county first: the hub only gains reports, so its later list holds all
# the county saw delivered.)
sort "$WORK/ids" >"$WORK/expected"
county --data "$WORK/530102" list --json >"$WORK/county.json"
hub --data "$WORK/530100" list --json | jq -r '.[].report_id' | sort >"$WORK/held"
jq -r '.[] | select(.state == "queued") | .report_id' "$WORK/county.json" | sort >"$WORK/queued"
jq -r '.[] | select(.state == "delivered") | .report_id' "$WORK/county.json" | sort >"$WORK/delivered"
held=$(wc -l <"$WORK/held") queued=$(wc -l <"$WORK/queued")
[ "$queued" -gt 0 ] || fail "the county's queue is empty although the hub could not store everything"
[ "$held" -lt 151 ] || fail "the hub holds all $held reports: the disk never refused one"
stranger=$(comm -23 "$WORK/held" "$WORK/expected")
[ -z "$stranger" ] || fail "the hub holds ids never accepted: $stranger"
unheld=$(comm -23 "$WORK/delivered" "$WORK/held")
[ -z "$unheld" ] || fail "the county counts as delivered what the hub does not hold: $unheld"
missing=$(sort -u "$WORK/held" "$WORK/queued" | comm -13 - "$WORK/expected")
[ -z "$missing" ] || fail "neither at the hub nor queued: $missing"
[ "$(wc -l <"$WORK/expected")" -eq 151 ] || fail "$(wc -l <"$WORK/expected") ids accepted, expected 151"
note "disk full: the hub holds $held, the county keeps $queued queued; hub still running"

rm -f "$WORK/disk/filler"
wait_until 30 field_is county-node "$WORK/530102" .queued 0 || fail "the queue did not drain after space was freed"
wait_until 10 field_is prefecture-hub "$WORK/530100" .reports 151 ||
    fail "the hub holds $(status_field prefecture-hub "$WORK/530100" .reports) of 151"
hub --data "$WORK/530100" list --json | jq -r '.[].report_id' | sort >"$WORK/arrived"
diff -u "$WORK/expected" "$WORK/arrived" || fail "ids at the hub differ from those accepted"
note "space freed: all 151 reports at the hub exactly once"

# The county's own disk full: submit says so, exits 1, and what was
# accepted before is still there.
county --data "$WORK/disk/c2" init --code 530103 --upstream "tcp://127.0.0.1:1" \
    --upstream-key "$(hub --data "$WORK/530100" key)" >/dev/null
first=$(report_json 530103 2018 7 | county --data "$WORK/disk/c2" submit -)
free_kib=$(df -k --output=avail "$WORK/disk" | tail -1)
# dd stops at "No space left on device": that is the point.
dd if=/dev/zero of="$WORK/disk/filler" bs=1k count="$free_kib" status=none 2>/dev/null || true
left_kib=$(df -k --output=avail "$WORK/disk" | tail -1)
[ "$left_kib" -le 64 ] || fail "$left_kib KiB still free after filling the disk"
echo "$first" >"$WORK/c2.ids"
set +e
for i in $(seq 1 50); do
    report_json 530103 2018 "$i" | county --data "$WORK/disk/c2" submit - >>"$WORK/c2.ids" 2>"$WORK/err"
    rc=$?
    [ "$rc" -eq 0 ] || break
done
set -e
[ "$rc" -eq 1 ] || fail "submit on a full disk exited $rc"
grep -qx "error: the report was NOT stored: disk full: free space and retry, nothing committed was lost" "$WORK/err" ||
    fail "submit did not say the disk is full: $(cat "$WORK/err")"
# Exactly what was accepted is stored, each id once, all of it queued
# (after the county's signing key, queued at init).
sort "$WORK/c2.ids" >"$WORK/c2.expected"
county --data "$WORK/disk/c2" list --json | jq -r '.[].report_id' | sort >"$WORK/c2.stored"
diff -u "$WORK/c2.expected" "$WORK/c2.stored" || fail "the county's store differs from what submit accepted"
[ "$(status_field county-node "$WORK/disk/c2" .queued)" -eq "$(($(wc -l <"$WORK/c2.expected") + 1))" ] ||
    fail "the county queues $(status_field county-node "$WORK/disk/c2" .queued) of $(wc -l <"$WORK/c2.expected")"
note "submit on a full disk: exit 1 after $(($(wc -l <"$WORK/c2.expected") - 1)) more accepted, 'disk full', nothing lost"
