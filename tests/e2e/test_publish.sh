#!/usr/bin/env bash
# The province publishes a new standard version while a county is offline;
# when the county comes back it receives it (through its hub, over the
# durable links) and its offline self-check uses it.
source "$(dirname "$0")/lib.sh"
SRC=${SHIFAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

setup_tree 530100:530102,530103
start province province-core "$WORK/province"
start hub prefecture-hub "$WORK/530100"
start c530103 county-node "$WORK/530103"          # online; 530102 stays offline

# Revision 2 of the programme raises criterion 2.1 from 90 % to 95 %.
jq '.revision = 2 | .standard_id = "yunnan-2017-rev2" |
    (.standard.criteria[] | select(.id == "2.1") | .threshold) = 95' \
    "$SRC/libshifan/data/programme-yunnan-2017.json" >"$WORK/programme-rev2.json"

# The offline county submits 2.1 = 93 %: it passes under revision 1.
report_json 530102 2018 30 | SHIFAN_NOW=2018-07-10T09:00:00+08:00 county --data "$WORK/530102" submit - >/dev/null
SHIFAN_NOW=2018-07-10T09:05:00+08:00 county --data "$WORK/530102" evaluate --year 2018 >"$WORK/before"
grep -qx "self-check (自评) for 2018 against yunnan-2017, standard yunnan-2017-trial" "$WORK/before" &&
    grep -qx "530102 五华区: QUALIFIED (合格), version 1 submitted 2018-07-10T09:00:00+08:00 (on_time)" "$WORK/before" &&
    grep -qx "  items passed: 32 of 32" "$WORK/before" ||
    fail "under revision 1 the self-check should qualify: $(cat "$WORK/before")"

province --data "$WORK/province" publish "$WORK/programme-rev2.json" >/dev/null
[ "$(status_field province-core "$WORK/province" .programme_revision)" = 2 ] || fail "province not at revision 2"
wait_until 15 field_is prefecture-hub "$WORK/530100" .programme_revision 2 || fail "the hub did not receive revision 2"
wait_until 15 field_is county-node "$WORK/530103" .programme_revision 2 || fail "the online county did not receive it"
for log in hub c530103; do
    grep -q "INFO received programme yunnan-2017 revision 2; it is used from now on" "$WORK/$log.log" ||
        fail "$log did not log the programme's arrival over its link"
done
sleep 2
[ "$(status_field county-node "$WORK/530102" .programme_revision)" = 1 ] || fail "the offline county changed"
note "revision 2 reached the hub and the online county; the offline county still has 1"

start c530102 county-node "$WORK/530102"          # comes back online
wait_until 15 field_is county-node "$WORK/530102" .programme_revision 2 ||
    fail "the county that came back did not receive revision 2"
SHIFAN_NOW=2018-07-20T09:00:00+08:00 county --data "$WORK/530102" evaluate --year 2018 >"$WORK/after"
grep -q "INFO received programme yunnan-2017 revision 2; it is used from now on" "$WORK/c530102.log" ||
    fail "the county that came back did not log the programme's arrival"
grep -qx "self-check (自评) for 2018 against yunnan-2017, standard yunnan-2017-rev2" "$WORK/after" &&
    grep -qx "530102 五华区: NOT QUALIFIED (不合格), version 1 submitted 2018-07-10T09:00:00+08:00 (on_time)" "$WORK/after" &&
    grep -qx "  items passed: 31 of 32" "$WORK/after" ||
    fail "the self-check still uses the old standard: $(cat "$WORK/after")"
grep -qE "^  FAIL 2\.1 .*: 930/1000 = 93\.00% \(needs >= 95%\)$" "$WORK/after" ||
    fail "criterion 2.1 is not judged at 95 %: $(cat "$WORK/after")"
note "the county that was offline received revision 2 and its self-check uses it"

# A county initialised after the publication gets it at its first connection.
port=$HUB_PORT_530100
county --data "$WORK/530111" init --code 530111 --upstream "tcp://127.0.0.1:$port" \
    --upstream-key "$(hub --data "$WORK/530100" key)" >/dev/null
hub --data "$WORK/530100" allow --code 530111 --key "$(county --data "$WORK/530111" key)" >/dev/null
start c530111 county-node "$WORK/530111"
wait_until 15 field_is county-node "$WORK/530111" .programme_revision 2 || fail "a new county did not get revision 2"

# Publishing an older or equal revision again is refused and changes nothing.
set +e
province --data "$WORK/province" publish "$WORK/programme-rev2.json" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "republishing revision 2 exited $rc"
grep -qxF "error: $WORK/programme-rev2.json: revision 2 is not newer than the programme in use (yunnan-2017 revision 2); raise \"revision\"" \
    "$WORK/err" || fail "no reason given: $(cat "$WORK/err")"
[ "$(status_field province-core "$WORK/province" .programme_revision)" = 2 ] || fail "the refused publish changed the province"
note "a new county gets the programme in force; republishing is refused"
