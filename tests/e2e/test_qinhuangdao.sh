#!/usr/bin/env bash
# The second programme, Qinhuangdao 2018, deployed from its file with no code
# change: Hebei 130000 (province-core, the city's December evaluation),
# the city 130300 (prefecture-hub), county nodes reporting for their
# demonstration *sites* (townships, 9-digit codes); one site per county.
source "$(dirname "$0")/lib.sh"
SRC=${SHIFAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
P=$SRC/programmes/qinhuangdao-2018.json

pport=$(free_port)
hport=$(free_port)
province --data "$WORK/province" init --listen "tcp://127.0.0.1:$pport" --programme "$P" >/dev/null
hub --data "$WORK/city" init --code 130300 --listen "tcp://127.0.0.1:$hport" --programme "$P" \
    --upstream "tcp://127.0.0.1:$pport" --upstream-key "$(province --data "$WORK/province" key)" >/dev/null
province --data "$WORK/province" allow --code 130300 --key "$(hub --data "$WORK/city" key)" >/dev/null
for c in 130302 130303; do
    county --data "$WORK/$c" init --code "$c" --programme "$P" --upstream "tcp://127.0.0.1:$hport" \
        --upstream-key "$(hub --data "$WORK/city" key)" >/dev/null
    hub --data "$WORK/city" allow --code "$c" --key "$(county --data "$WORK/$c" key)" >/dev/null
done
[ "$(status_field province-core "$WORK/province" .code)" = 130000 ] || fail "the province is not Hebei"
[ "$(status_field county-node "$WORK/130302" .programme)" = qinhuangdao-2018 ] || fail "county programme"

# A site's report meeting every criterion with MARGIN percentage points to spare.
site_report() { # SITE MARGIN
    jq -c --arg unit "$1" --argjson margin "$2" '{unit: $unit, year: 2018, values: (.standard.criteria
        | map({key: .id, value: (if .kind == "bool" then true
              elif .kind == "count" then (.threshold | ceil)
              elif .op == "==" then {num: 50, den: 50}
              else {num: ([((.threshold + $margin) * 10 | ceil), 1000] | min), den: 1000} end)})
        | from_entries)}' "$P"
}
at() { SHIFAN_NOW=2018-10-15T09:00:00+08:00 "$@"; }
site_report 130302001 2 | at county --data "$WORK/130302" submit - >/dev/null
site_report 130302002 6 | at county --data "$WORK/130302" submit - >/dev/null   # the better site
site_report 130303001 4 | at county --data "$WORK/130303" submit - >/dev/null
set +e
site_report 130303002 4 | at county --data "$WORK/130302" submit - 2>"$WORK/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a county submitted for another county's site (exit $rc)"
grep -qx "error: <stdin>: unit 130303002: this node (130302) may report only for its own unit" "$WORK/err" ||
    fail "the refusal does not say why: $(cat "$WORK/err")"
[ "$(county --data "$WORK/130302" list --json | jq -c '[.[].unit] | sort')" = '["130302001","130302002"]' ] ||
    fail "130302 should hold its two sites' reports only: $(county --data "$WORK/130302" list --json | jq -c .)"
note "sites reported; a county cannot report for another county's site"

start province province-core "$WORK/province"
start city prefecture-hub "$WORK/city"
start c130302 county-node "$WORK/130302"
start c130303 county-node "$WORK/130303"
wait_until 20 field_is province-core "$WORK/province" .reports 3 || fail "the province did not get the 3 reports"

lists=$(SHIFAN_NOW=2018-11-25T10:00:00+08:00 hub --data "$WORK/city" recommend --year 2018 --json)
[ "$(echo "$lists" | jq -c '[.lists[] | select(.holder == "130302" or .holder == "130303") | {holder, quota, units}]')" = \
  '[{"holder":"130302","quota":1,"units":["130302002"]},{"holder":"130303","quota":1,"units":["130303001"]}]' ] ||
    fail "the city's lists per county: $lists"
SHIFAN_NOW=2018-11-28T10:00:00+08:00 hub --data "$WORK/city" recommend --year 2018 --confirm >/dev/null

evaluated() {
    SHIFAN_NOW=2018-12-20T10:00:00+08:00 province --data "$WORK/province" evaluate --year 2018 --out "$WORK/r.json" &&
        jq -e '[.prefectures[] | select(.code == "130302" or .code == "130303") | .source] == ["confirmed","confirmed"]' "$WORK/r.json"
}
wait_until 20 evaluated || fail "the province never saw the confirmed lists: $(jq -c '[.prefectures[] | {code, source, recommended}]' "$WORK/r.json")"
R=$WORK/r.json
[ "$(jq -c .province.demonstration "$R")" = '["130302002","130303001"]' ] ||
    fail "demonstration sites: $(jq -c .province.demonstration "$R")"
[ "$(jq -c '.units[] | select(.code == "130302001") | [.qualified, .recommended]' "$R")" = '[true,false]' ] ||
    fail "130302001 should qualify without being recommended (one site per county)"
[ "$(jq -r '.province.progress.targets[0].kind' "$R")" = share ] || fail "the target is not a share"
[ "$(jq -r '.province.progress.targets[0].value' "$R")" = 50 ] || fail "the share target is not 50 %"
note "December evaluation: one site per county, the share target, from the programme file"
