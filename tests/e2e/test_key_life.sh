#!/usr/bin/env bash
# A key's life (docs/signing.md, "Key life cycle"): a county rotates its
# signing and CURVE keys without losing its queue (what it signed before the
# rotation is still taken, what it signs after is signed by the new key,
# and it connects with its new CURVE key once the hub has it); the province
# revokes a county's signing key (what it signs from then on is refused,
# what it signed before stays); a hub revokes a lost county, which comes
# back as a new node with new keys.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
P=$WORK/province H=$WORK/530100 C=$WORK/530102
start province province-core "$P"
start hub prefecture-hub "$H"
start county county-node "$C"
province_has() { [ "$(status_field province-core "$P" .reports)" -eq "$1" ]; }
submit() { report_json 530102 2018 "$1" | county --data "$2" submit - >/dev/null; }

submit 1 "$C"
wait_until 20 province_has 1 || fail "v1 did not reach the province"
wait_until 20 field_is county-node "$C" .signing.confirmed yes || fail "the first key is not confirmed"
old_fp=$(status_field county-node "$C" .signing.fingerprint)
old_curve=$(county --data "$C" key)

# --- rotation, with a version queued under the old key.
rc=0
county --data "$C" rotate-keys >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "the daemon runs on" "$WORK/err" || fail "rotate-keys beside the daemon: exit $rc"
stop county
submit 2 "$C" # signed by the old key, queued
county --data "$C" rotate-keys >"$WORK/rotate.out" || fail "rotate-keys failed"
new_fp=$(sed -n 's/^new signing key fingerprint: //p' "$WORK/rotate.out")
[ -n "$new_fp" ] && [ "$new_fp" != "$old_fp" ] || fail "rotate-keys printed: $(cat "$WORK/rotate.out")"
[ "$(status_field county-node "$C" .signing.fingerprint)" = "$new_fp" ] || fail "the county does not sign with the new key"
[ "$(status_field county-node "$C" .queued)" -eq 2 ] || fail "the queue is not v2 and the new keys"
submit 3 "$C" # signed by the new key, behind the announcement
start county county-node "$C"
wait_until 20 province_has 3 || fail "v2 and v3 did not reach the province ($(status_field province-core "$P" .reports))"
wait_until 20 field_is county-node "$C" .queued 0 || fail "the county's queue did not drain"
wait_until 10 grep -q "switched to our new CURVE key" "$WORK/county.log" || fail "the county kept its old CURVE key"
[ "$(county --data "$C" key)" != "$old_curve" ] || fail "keys/node.public is the old key"
grep -qF "530102 rotated its keys: its CURVE key is now $(county --data "$C" key)" "$WORK/hub.log" ||
    fail "the hub did not take the new CURVE key"
wait_until 20 field_is county-node "$C" .signing.confirmed yes || fail "the new key is not confirmed"
submit 4 "$C"
wait_until 20 province_has 4 || fail "v4, over the new CURVE key, did not arrive"
wait_until 5 field_is county-node "$C" .link.state up || fail "the county's link is not up"
note "rotated $old_fp -> $new_fp; v2 (old key) and v3, v4 (new key) stored, CURVE key switched"

# --- the province revokes the county's signing key: what it signs now is refused.
province --data "$P" revoke --code 530102 >/dev/null || fail "province revoke of a county key"
refused_before=$(status_field county-node "$C" .refused)
submit 5 "$C"
wait_until 20 field_is county-node "$C" .refused $((refused_before + 1)) || fail "the county was not told"
grep -q "refused: signature: made with a key of 530102 revoked at" "$WORK/province.log" ||
    fail "the province did not log the revoked key"
province_has 4 || fail "the province stored a report signed after the revocation"
[ "$(province --data "$P" list --json | jq '[.[] | select(.unit == "530102")] | length')" -eq 4 ] ||
    fail "the versions signed before the revocation are gone"
[ "$(province --data "$P" signing-keys --json | jq -c '[.[] | select(.unit == "530102") | [.fingerprint, .revoked, (.until != null)]] | sort')" = \
    "$(jq -cn --arg o "$old_fp" --arg n "$new_fp" '[[$o, false, true], [$n, true, true]] | sort')" ] ||
    fail "province signing-keys after rotation and revocation: $(province --data "$P" signing-keys --json | jq -c .)"
note "after the province revoked the key, v5 is refused; v1-v4 stay"

# --- the hub revokes the county (lost): it comes back as a new node.
hub --data "$H" revoke --code 530102 >/dev/null || fail "hub revoke"
wait_until 10 field_is county-node "$C" .link.state refused || fail "the revoked county still connects"
stop county
county --data "$WORK/530102b" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
    --upstream-key "$(hub --data "$H" key)" >/dev/null
hub --data "$H" allow --code 530102 --key "$(county --data "$WORK/530102b" key)" >/dev/null
start county2 county-node "$WORK/530102b"
submit 6 "$WORK/530102b"
wait_until 20 province_has 5 || fail "the re-made county's report did not arrive"
wait_until 20 field_is county-node "$WORK/530102b" .signing.confirmed yes || fail "its key is not confirmed"
note "a revoked county, made anew, reports again under its new keys"
