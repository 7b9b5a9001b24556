#!/usr/bin/env bash
# Signed reports end to end (docs/signing.md): counties sign what they
# submit, the hub passes it on untouched and stamps a signed receipt, the
# province registers each county's key on first sight and confirms it back
# to the county, which checks the confirmation against the province's
# fingerprint given at init.
#
# A dishonest hub (tests/tools/tamper.c rewriting its stopped store's queue)
# that changes a value, signs the changed report itself, or back-dates its
# receipt gets each report refused at the province, logged with the reason,
# and the county told. A county given a wrong province fingerprint takes no
# key from it; a hub given a county's signing key at allow takes no other.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
P=$WORK/province H=$WORK/530100 C=$WORK/530102
HUB_PORT=$HUB_PORT_530100
hub_key=$(hub --data "$H" key)
province_fp=$(province --data "$P" key --json | jq -r .fingerprint)

# 530103 is given the province's fingerprint at init, and the hub its signing key.
county --data "$WORK/530103" init --code 530103 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key "$hub_key" --province-fingerprint "$province_fp" >/dev/null
hub --data "$H" allow --code 530103 --key "$(county --data "$WORK/530103" key)" \
    --sign-key "$(county --data "$WORK/530103" key --json | jq -r .sign)" >/dev/null
# 530111 is given a fingerprint that is not the province's.
county --data "$WORK/530111" init --code 530111 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key "$hub_key" --province-fingerprint AAAA-BBBB-CCCC-DDDD >/dev/null
hub --data "$H" allow --code 530111 --key "$(county --data "$WORK/530111" key)" >/dev/null
# 530112's hub was given another signing key than the one it has.
county --data "$WORK/530112" init --code 530112 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key "$hub_key" >/dev/null
hub --data "$H" allow --code 530112 --key "$(county --data "$WORK/530112" key)" \
    --sign-key "$(county --data "$WORK/530111" key --json | jq -r .sign)" >/dev/null
# A malformed fingerprint makes no node.
rc=0
county --data "$WORK/bad" init --code 530113 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key "$hub_key" --province-fingerprint 1234 >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$WORK/bad" ] || fail "a malformed fingerprint: exit $rc, $(cat "$WORK/err")"

start province province-core "$P"
start hub prefecture-hub "$H"
for c in 530102 530103 530111 530112; do start "$c" county-node "$WORK/$c"; done
for c in 530102 530103 530111 530112; do
    report_json "$c" 2018 1 | county --data "$WORK/$c" submit - >/dev/null
done

# --- honest path: every key registered, confirmed back, reports stored.
province_has() { [ "$(status_field province-core "$P" .reports)" -eq "$1" ]; }
wait_until 20 province_has 3 || fail "the province holds $(status_field province-core "$P" .reports) reports, expected 3"
wait_until 20 field_is county-node "$C" .signing.confirmed yes ||
    fail "530102's key is not confirmed: $(county --data "$C" status --json | jq -c .signing)"
wait_until 20 field_is county-node "$WORK/530103" .signing.confirmed yes ||
    fail "530103's key is not confirmed: $(county --data "$WORK/530103" status --json | jq -c .signing)"
wait_until 20 field_is prefecture-hub "$H" .signing.confirmed yes || fail "the hub's key is not confirmed"
[ "$(status_field county-node "$C" .signing.province_key)" = "$province_fp" ] ||
    fail "530102 holds province key $(status_field county-node "$C" .signing.province_key), not $province_fp"
[ "$(county --data "$WORK/530103" status --json | jq -c '.signing | [.province_key, .province_key_pinned]')" = "[\"$province_fp\",true]" ] ||
    fail "530103: $(county --data "$WORK/530103" status --json | jq -c .signing)"
county --data "$C" status | grep -q "signing key: .*, confirmed by the province" ||
    fail "text status: $(county --data "$C" status)"
# The province lists whose keys it holds, and the hub each county's came through.
province --data "$P" signing-keys --json >"$WORK/keys.json"
[ "$(jq -c '[.[] | [.unit, .registered_by, .until]] | sort' "$WORK/keys.json")" = \
    '[["530100",null,null],["530102","530100",null],["530103","530100",null],["530111","530100",null]]' ] ||
    fail "province signing-keys: $(jq -c . "$WORK/keys.json")"
[ "$(jq -r '.[] | select(.unit == "530102") | .fingerprint' "$WORK/keys.json")" = \
    "$(status_field county-node "$C" .signing.fingerprint)" ] || fail "the province holds another key for 530102"
province --data "$P" signing-keys | grep -q "^530102 .* in force  via 530100$" ||
    fail "signing-keys text: $(province --data "$P" signing-keys)"
note "three counties' reports stored; keys confirmed to them (fingerprint $province_fp)"

# --- a wrong fingerprint: the county takes no key from that province.
grep -q "not the AAAA-BBBB-CCCC-DDDD given at init" "$WORK/530111.log" ||
    fail "530111 did not log the fingerprint mismatch"
[ "$(county --data "$WORK/530111" status --json | jq -c '.signing | [.province_key, .confirmed]')" = '[null,"not yet"]' ] ||
    fail "530111: $(county --data "$WORK/530111" status --json | jq -c .signing)"
county --data "$WORK/530111" status | grep -q "not yet confirmed by the province" || fail "530111 text status"
note "a county given another fingerprint refuses the province's key"

# --- a pinned key at allow: the county's own key is refused at the hub.
grep -q "refused: signature: the key of 530112 (.*) is not the key given at allow --sign-key" "$WORK/hub.log" ||
    fail "the hub did not refuse 530112's unpinned key"
wait_until 10 field_is county-node "$WORK/530112" '.refused > 0' true || fail "530112 was not told"
note "a hub refuses a county key other than the one given at allow"

# --- a dishonest hub: each way of altering a report in transit is refused.
tampered_run() { # MODE SEED EXPECTED-REASON
    local mode=$1 seed=$2 reason=$3 before refused_before
    before=$(status_field province-core "$P" .reports)
    refused_before=$(status_field county-node "$C" .refused)
    stop province
    report_json 530102 2018 "$seed" | county --data "$C" submit - >/dev/null
    wait_until 10 field_is prefecture-hub "$H" '.queued > 0' true || fail "$mode: the hub queued nothing"
    stop hub
    [ "$("$BIN/tamper" --data "$H" --mode "$mode")" = "tampered 1 item(s)" ] || fail "$mode: tamper changed nothing"
    start province province-core "$P"
    start hub prefecture-hub "$H"
    wait_until 20 field_is prefecture-hub "$H" .queued 0 || fail "$mode: the hub's queue did not drain"
    [ "$(status_field province-core "$P" .reports)" -eq "$before" ] || fail "$mode: the province stored the altered report"
    grep -q "refused: $reason" "$WORK/province.log" || fail "$mode: the province did not log '$reason'"
    wait_until 20 field_is county-node "$C" .refused $((refused_before + 1)) ||
        fail "$mode: the county was not told ($(status_field county-node "$C" .refused) refused)"
    note "$mode: refused at the province: $reason"
}
tampered_run value 2 "signature: does not verify (the item was altered after 530102 signed it)"
tampered_run resign 3 "signature: key .* is not a key registered here for 530102"
tampered_run receipt 4 "signature: the receipt of 530100 does not verify against its registered key"

# The province still takes an honest version afterwards.
report_json 530102 2018 5 | county --data "$C" submit - >/dev/null
wait_until 20 province_has 4 || fail "an honest version after the refusals was not stored"
province --data "$P" list --json | jq -e '[.[] | select(.unit == "530102")] | length == 2' >/dev/null ||
    fail "the province holds other 530102 versions than v1 and v5: $(province --data "$P" list --json | jq -c '[.[] | select(.unit == "530102") | .version]')"
note "an honest version after them is stored"
