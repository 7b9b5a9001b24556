#!/usr/bin/env bash
# An unregistered key is refused at the hub; a registered county cannot report
# for another unit (the hub refuses and logs it); a hub cannot forward
# reports of another prefecture's units to the province.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
start province province-core "$WORK/province"
start hub prefecture-hub "$WORK/530100"
port=$HUB_PORT_530100
hub_key=$(hub --data "$WORK/530100" key)

# 1. A county whose key was never allowed.
county --data "$WORK/stranger" init --code 530103 --upstream "tcp://127.0.0.1:$port" \
    --upstream-key "$hub_key" >/dev/null
report_json 530103 2018 1 | county --data "$WORK/stranger" submit - >/dev/null
start stranger county-node "$WORK/stranger"
refused() { [ "$(status_field county-node "$WORK/stranger" .link.state)" = refused ]; }
wait_until 10 refused || fail "the stranger's link is $(status_field county-node "$WORK/stranger" .link.state)"
grep -qF "WARN refused unknown key $(county --data "$WORK/stranger" key) from 127.0.0.1" "$WORK/hub.log" ||
    fail "the hub did not log the stranger's key as refused"
grep -q "ERROR the parent at tcp://127.0.0.1:$port refused our key (ZAP status 400)" "$WORK/stranger.log" ||
    fail "the stranger did not log that its key was refused"
counts_refusal() { [ "$(status_field prefecture-hub "$WORK/530100" .refused_keys)" -ge 1 ]; }
wait_until 3 counts_refusal ||
    fail "the hub counts no refused key: $(hub --data "$WORK/530100" status --json | jq -c .)"
# Its report, after its signing key: neither was ever delivered.
[ "$(status_field county-node "$WORK/stranger" .queued)" -eq 2 ] || fail "the stranger lost its queue"
[ "$(status_field prefecture-hub "$WORK/530100" .reports)" -eq 0 ] || fail "a stranger's report got in"
note "unregistered key refused and logged; its report stays queued at the county"

# 2. The key allowed for 530111 used by a node that reports for 530103:
# the county's own check passes (it thinks it is 530103), the hub's does not.
county --data "$WORK/impostor" init --code 530103 --upstream "tcp://127.0.0.1:$port" \
    --upstream-key "$hub_key" >/dev/null
hub --data "$WORK/530100" allow --code 530111 --key "$(county --data "$WORK/impostor" key)" >/dev/null
report_json 530103 2018 2 | county --data "$WORK/impostor" submit - >/dev/null
start impostor county-node "$WORK/impostor"
# Only this line says why: the stranger's refusal above also says "refused".
hub_logged() { grep -q "WARN refused Hello claiming unit 530103 from the key of 530111" "$WORK/hub.log"; }
wait_until 10 hub_logged || fail "the hub did not log why it refused the impostor"
impostor_refused() { [ "$(status_field county-node "$WORK/impostor" .link.state)" = refused ]; }
wait_until 5 impostor_refused || fail "the impostor's link is not shown as refused"
grep -q "the parent refused this node: the unit code does not match your key (our code 530103)" \
    "$WORK/impostor.log" || fail "the impostor did not log the reason it was refused"
sleep 1
[ "$(status_field prefecture-hub "$WORK/530100" .reports)" -eq 0 ] || fail "the impostor's report was stored"
[ "$(status_field county-node "$WORK/impostor" .queued)" -eq 2 ] || fail "the impostor's report left its queue"
note "a registered key cannot speak for another unit"

# 3. The legitimate county still gets through, and the daemons kept running.
start c530102 county-node "$WORK/530102"
id=$(report_json 530102 2018 3 | county --data "$WORK/530102" submit -)
at_province() { province --data "$WORK/province" list --json | jq -e --arg id "$id" 'any(.[]; .report_id == $id)'; }
wait_until 10 at_province || fail "the legitimate report did not arrive"
for name in province hub; do kill -0 "${PIDS[$name]}" || fail "$name died"; done
note "legitimate report delivered; hub and province still running"

# 3b. Revoking the county's key ends its open session within seconds; what it
# sends afterwards stays queued with it.
before=$(status_field prefecture-hub "$WORK/530100" .reports)
hub --data "$WORK/530100" revoke --code 530102 >/dev/null
county_refused() { [ "$(status_field county-node "$WORK/530102" .link.state)" = refused ]; }
wait_until 10 county_refused || fail "the revoked county's link is $(status_field county-node "$WORK/530102" .link.state)"
report_json 530102 2019 5 | county --data "$WORK/530102" submit - >/dev/null
sleep 2
[ "$(status_field prefecture-hub "$WORK/530100" .reports)" -eq "$before" ] || fail "a revoked key delivered a report"
[ "$(status_field county-node "$WORK/530102" .queued)" -eq 1 ] || fail "the revoked county lost its queue"
set +e
hub --data "$WORK/530100" revoke --code 530102 2>"$WORK/err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -qx "error: --code 530102: no key is registered for it here" "$WORK/err" ||
    fail "revoking twice: exit $rc, $(cat "$WORK/err")"
note "a revoked key loses its open session; the county keeps its queue"

# 4. Locally, a county refuses to submit for a unit that is not its own.
set +e
report_json 530103 2018 4 | county --data "$WORK/530102" submit - 2>"$WORK/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "submit for another unit exited $rc, expected 2"
grep -qx "error: <stdin>: unit 530103: this node (530102) may report only for its own unit" "$WORK/err" ||
    fail "the message does not say why: $(cat "$WORK/err")"
# Nothing stored: the 2018 report and the queued 2019 one, no third version.
[ "$(county --data "$WORK/530102" list --json | jq -c '[.[] | [.unit, .year, .version]] | sort')" = \
    '[["530102",2018,1],["530102",2019,1]]' ] || fail "the refused submit changed the store: $(county --data "$WORK/530102" list --json | jq -c .)"
