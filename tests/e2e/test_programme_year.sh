#!/usr/bin/env bash
# A whole programme year (Yunnan 2018) on the real programs: two prefectures,
# seven counties; submissions, a correction, a return and resubmission, an
# inspection that raises a discrepancy, a late county, missing counties, a
# confirmed and a provisional recommendation, and the province evaluation,
# checked field by field in JSON, and the same facts in CSV and HTML.
# Clocks: each command runs at its moment of the year (SHIFAN_NOW); the
# daemons run on the real clock, so every receipt is "delivered late" in
# 2026, which must never make a unit late. The hubs heard from their
# counties (their signing keys) in 2026, years after the 2018 times the
# counties claim: the province rightly flags every reported unit
# claimed_time_implausible (docs/signing.md; test_clock.sh tests the rule).
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102,530103,530111,530112 530300:530302,530303,530304
start province province-core "$WORK/province"
start hub530100 prefecture-hub "$WORK/530100"
start hub530300 prefecture-hub "$WORK/530300"
for c in 530102 530103 530111 530112 530302 530303 530304; do start "c$c" county-node "$WORK/$c"; done

at() { local when=$1; shift; SHIFAN_NOW=$when "$@"; }
# submit COUNTY WHEN SEED [JQ-EDIT]: seed sets 2.1 to (900+seed)/1000.
submit() {
    report_json "$1" 2018 "$3" | jq -c "${4:-.}" | at "$2" county --data "$WORK/$1" submit - 2>/dev/null
}

# --- June-July: self-assessment (自评), due 2018-07-31 ---
v1=$(submit 530102 2018-07-10T09:00:00+08:00 90 '.values["2.2"] = {"num":700,"den":1000}')
at 2018-07-10T09:05:00+08:00 county --data "$WORK/530102" evaluate --year 2018 >"$WORK/selfcheck"
grep -qx "530102 五华区: NOT QUALIFIED (不合格), version 1 submitted 2018-07-10T09:00:00+08:00 (on_time)" \
    "$WORK/selfcheck" && grep -qx "  items passed: 31 of 32" "$WORK/selfcheck" ||
    fail "the self-check did not show the failing item: $(cat "$WORK/selfcheck")"
grep -qE "^  FAIL 2\.2 .*: 700/1000 = 70\.00% \(needs >= 80%\)$" "$WORK/selfcheck" ||
    fail "the self-check did not name criterion 2.2 and its value: $(cat "$WORK/selfcheck")"
[ "$(grep -c "^  FAIL " "$WORK/selfcheck")" -eq 1 ] || fail "the self-check failed more than 2.2: $(cat "$WORK/selfcheck")"
v2=$(submit 530102 2018-07-20T09:00:00+08:00 90)                 # correction: latest version counts
rc=0
report_json 530103 2018 50 | jq -c '.values["2.1"] = {"num":500,"den":400}' |
    at 2018-07-12T09:00:00+08:00 county --data "$WORK/530103" submit - >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -qx 'error: <stdin>: $.values\["2.1"\].num: criterion 2.1: numerator 500 exceeds denominator 400' "$WORK/err" ||
    fail "num > den: exit $rc, $(cat "$WORK/err")"
[ "$(status_field county-node "$WORK/530103" .reports)" -eq 0 ] || fail "the refused report was stored"
r3=$(submit 530103 2018-07-12T09:00:00+08:00 50)
submit 530302 2018-07-15T09:00:00+08:00 95 >/dev/null
submit 530303 2018-07-28T09:00:00+08:00 60 >/dev/null
# 530111 reports after the deadline; 530112 and 530304 never report.
submit 530111 2018-08-15T09:00:00+08:00 10 >/dev/null

# --- August-September: the prefectures check (逐一评估检查) ---
wait_until 20 field_is prefecture-hub "$WORK/530100" .reports 4 ||
    fail "hub 530100 holds $(status_field prefecture-hub "$WORK/530100" .reports) of 4 reports"
at 2018-08-05T10:00:00+08:00 hub --data "$WORK/530100" return --unit 530103 --year 2018 \
    --reason "2.1 分母应为流动人口目标人群总数" >/dev/null
reason="2.1 分母应为流动人口目标人群总数"
returned() {
    county --data "$WORK/530103" list --json |
        jq -e --arg id "$r3" --arg reason "$reason" 'any(.[]; .report_id == $id and .state == "returned" and .return_reason == $reason)'
}
wait_until 10 returned || fail "the county does not show its report as returned: $(county --data "$WORK/530103" list --json | jq -c .)"
county --data "$WORK/530103" list | grep -A1 "^$r3 .* returned" | grep -qx "    reason: $reason" ||
    fail "the county's list does not show the reason under the returned version: $(county --data "$WORK/530103" list)"
logged_return() { grep -qF "WARN report $r3 (unit 530103, year 2018) returned for correction by 530100: $reason" "$WORK/c530103.log"; }
wait_until 3 logged_return || fail "the county did not log the return"
submit 530103 2018-08-10T09:00:00+08:00 50 >/dev/null             # resubmission clears the return

wait_until 20 field_is prefecture-hub "$WORK/530300" .reports 2 || fail "hub 530300 incomplete"
echo '{"unit":"530302","year":2018,"values":{"2.1":{"num":800,"den":1000}}}' |
    at 2018-08-20T10:00:00+08:00 hub --data "$WORK/530300" inspect - >/dev/null

# After the calendar's deadline (09-30) a confirm is refused unless overridden.
if at 2018-10-02T10:00:00+08:00 hub --data "$WORK/530100" recommend --year 2018 --confirm 2>"$WORK/late.err"; then
    fail "a confirm after the recommendation deadline was taken"
fi
grep -q "was due by 2018-09-30T23:59:59+08:00 .*needs an override (--override" "$WORK/late.err" ||
    fail "a late confirm said: $(cat "$WORK/late.err")"
[ "$(at 2018-10-02T10:00:00+08:00 hub --data "$WORK/530100" recommend --year 2018 --json | jq .confirmed)" = false ] ||
    fail "a refused confirm confirmed the list"
confirmed=$(at 2018-09-25T10:00:00+08:00 hub --data "$WORK/530100" recommend --year 2018 --confirm --json)
[ "$(echo "$confirmed" | jq -c .units)" = '["530102"]' ] || fail "hub 530100 confirmed $confirmed"
[ "$(echo "$confirmed" | jq .confirmed)" = true ] || fail "not confirmed: $confirmed"
# 530300 never confirms: its automatic ranking travels up as provisional.

# --- October-November: the province evaluates (省级评估) ---
evaluate() { at 2018-11-15T10:00:00+08:00 province --data "$WORK/province" evaluate --year 2018 --format "$1" --out "$WORK/result.$1" "${@:2}"; }
settled() {
    evaluate json &&
        jq -e '(.prefectures[] | select(.code == "530100") | .source == "confirmed") and
               (.prefectures[] | select(.code == "530300") | .recommended == ["530303"]) and
               (.units[] | select(.code == "530302") | .flags | index("discrepancy") != null) and
               (.units[] | select(.code == "530103") | .version == 2)' "$WORK/result.json"
}
wait_until 30 settled || { jq -c '.prefectures[] | {code, source, recommended}' "$WORK/result.json" >&2; fail "the province never saw the final state"; }
[ "$(status_field province-core "$WORK/province" .reports)" -eq 7 ] || fail "province holds $(status_field province-core "$WORK/province" .reports) reports, expected 7 versions"

R=$WORK/result.json
unit() { jq -c --arg c "$1" ".units[] | select(.code == \$c) | $2" "$R"; }
expect() { # CODE FIELD EXPECTED
    local got
    got=$(unit "$1" "$2")
    [ "$got" = "$3" ] || fail "unit $1 $2: expected $3, got $got"
}
# code     status     qualified recommended demonstration national
for row in "530102 on_time true true true true" "530103 on_time true false false false" \
    "530111 late true false false false" "530112 missing false false false false" \
    "530302 on_time false false false false" "530303 on_time true true true true" \
    "530304 missing false false false false"; do
    set -- $row
    expect "$1" .status "\"$2\""
    expect "$1" .qualified "$3"
    expect "$1" .recommended "$4"
    expect "$1" .demonstration "$5"
    expect "$1" .national_candidate "$6"
done
expect 530102 .report_id "\"$v2\""
expect 530102 .version 2
expect 530102 .failed '[]'
expect 530102 '.flags | index("corrected") != null' true
expect 530103 '.flags | index("returned")' null           # cleared by the new version
expect 530111 .flags '["late","claimed_time_implausible"]'
expect 530302 .failed '["2.1"]'
expect 530302 '.flags | (index("discrepancy") != null and index("inspected") != null)' true
expect 530302 '.criteria[] | select(.id == "2.1") | .source' '"prefecture"'
expect 530112 '.failed | length' 32
expect 530304 .prefecture '"530300"'
# Submitted on time, delivered (much) later: still on time.
expect 530303 '.received_at > .first_submitted_at' true

pref() { jq -c --arg c "$1" ".prefectures[] | select(.code == \$c) | $2" "$R"; }
[ "$(pref 530100 .quota)" = 1 ] && [ "$(pref 530300 .quota)" = 1 ] || fail "quotas"
[ "$(pref 530100 .recommended)" = '["530102"]' ] || fail "530100 recommended $(pref 530100 .recommended)"
[ "$(pref 530100 .provisional)" = false ] || fail "530100 should be confirmed"
[ "$(pref 530300 .source)" = '"provisional"' ] || fail "530300 source $(pref 530300 .source)"
[ "$(pref 530100 .timeliness)" = '{"expected":14,"on_time":2,"late":1,"missing":11,"percent":14.29}' ] ||
    fail "530100 timeliness $(pref 530100 .timeliness)"
[ "$(pref 530100 .completeness.reported)" = 3 ] || fail "530100 completeness"
[ "$(jq -c .province.demonstration "$R")" = '["530102","530303"]' ] || fail "province demonstration $(jq -c .province.demonstration "$R")"
[ "$(jq -c .province.national_candidates "$R")" = '["530102","530303"]' ] || fail "national $(jq -c .province.national_candidates "$R")"
[ "$(jq -c '.province.progress.demonstration_total' "$R")" = 2 ] || fail "progress"
[ "$(jq -c '.province.progress.targets[] | select(.of == "demonstration") | .value' "$R")" = 37 ] || fail "target"
note "JSON result checked field by field"

# --- The CSV and the HTML carry the same facts ---
evaluate csv --lang en # the JSON's words; the Chinese default is test_csv_excel.sh's
evaluate html
# One line per unit, "code status qualified recommended demonstration national",
# from each format; they must be identical.
jq -r '.units[] | [.code, .status, .qualified, .recommended, .demonstration, .national_candidate] | join(" ")' \
    "$R" | sort >"$WORK/facts.json.txt"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) at[$i] = i; next }
    { print $at["code"], $at["status"], $at["qualified"], $at["recommended"], $at["demonstration"], $at["national_candidate"] }' \
    "$WORK/result.csv" | sort >"$WORK/facts.csv.txt"
[ "$(wc -l <"$WORK/facts.json.txt")" -eq 129 ] || fail "the JSON does not list the 129 counties"
diff -u "$WORK/facts.json.txt" "$WORK/facts.csv.txt" || fail "the CSV and the JSON disagree"
html=$WORK/result.html
[ "$(head -1 "$html")" = "<!DOCTYPE html>" ] && [ "$(tail -1 "$html")" = "</html>" ] || fail "HTML is not a whole page"
# The same facts per unit from the HTML rows (the renderer prints 按时/迟报/未报,
# 国家级候选 and ✓/✗ in every page's legend and headers, so only a row tells):
# code name status qualified recommended demonstration national flags.
zh_flags='{"late":"迟报","discrepancy":"核查不符（取消本年度推荐资格）","returned":"已退回修改",
  "missing_values":"有缺项","inspected":"经核查","corrected":"已更正","not_yet_due":"未到截止日期",
  "designated_earlier":"往年已认定","claimed_time_implausible":"申报时间存疑"}'
jq -r --argjson zh "$zh_flags" '.units[] | [.code, .name, .status, .qualified, .recommended, .demonstration,
    .national_candidate, ([.flags[] | $zh[.]] | join("；"))] | join(" ")' "$R" | sort >"$WORK/facts.json-html.txt"
grep -E '^<tr( class="recommended")?><td>[0-9]{6}</td><td class="name">' "$html" |
    sed -E 's/<tr( class="recommended")?>//; s/<\/tr>$//; s/ <span class="mark"[^>]*>[^<]*<\/span>//;
        s/<td[^>]*>//g; s/<\/td>/|/g' |
    awk -F'|' '{ st = $3 == "按时" ? "on_time" : $3 == "迟报" ? "late" : $3 == "未报" ? "missing" : "?" $3
        yes = "true"; no = "false"
        print $1, $2, st, ($(NF-7) == "合格" ? yes : $(NF-7) == "不合格" ? no : "?"),
            ($(NF-4) == "推荐" ? yes : $(NF-4) == "" ? no : "?"), ($(NF-3) == "示范县" ? yes : $(NF-3) == "" ? no : "?"),
            ($(NF-2) == "国家级候选" ? yes : $(NF-2) == "" ? no : "?"), $(NF-1) }' | sort >"$WORK/facts.html.txt"
diff -u "$WORK/facts.json-html.txt" "$WORK/facts.html.txt" || fail "the HTML rows and the JSON disagree"
# A recommended unit's row is highlighted, and only theirs.
[ "$(grep -oE '^<tr class="recommended"><td>[0-9]{6}</td>' "$html" | grep -oE '[0-9]{6}' | sort | tr '\n' ' ')" = "530102 530303 " ] ||
    fail "highlighted rows: $(grep -oE '^<tr class="recommended"><td>[0-9]{6}</td>' "$html")"
grep -qx "<p>本年度示范县（2 个，名额合计 10）：五华区（530102）、沾益区（530303）</p>" "$html" ||
    fail "HTML demonstration line: $(grep -o "<p>本年度示范县[^<]*</p>" "$html")"
grep -qx "<p>国家级候选（名额 2）：五华区（530102）、沾益区（530303）</p>" "$html" ||
    fail "HTML national candidates line: $(grep -o "<p>国家级候选[^<]*</p>" "$html")"
grep -qx "<p>应报 14，已报 3（完整率 21.43%），按时 2（及时率 14.29%），迟报 1，未报 11，合格 3</p>" "$html" ||
    fail "HTML has not 530100's completeness and timeliness: $(grep -o "<p>应报[^<]*</p>" "$html")"
grep -qx "<p>本年度名额 1；推荐（已确认）：五华区（530102）</p>" "$html" || fail "HTML has not 530100's confirmed list"
note "CSV and HTML agree with the JSON"

# --- The result travels back down: each county sees its own verdict ---
at 2018-11-20T10:00:00+08:00 province --data "$WORK/province" evaluate --year 2018 --publish --out "$WORK/published.json" 2>"$WORK/err"
grep -qx "published the 2018 evaluation to every prefecture and, through them, every county" "$WORK/err" ||
    fail "--publish did not say it published: $(cat "$WORK/err")"
[ "$(jq -c '[.evaluated_at, .province.demonstration]' "$WORK/published.json")" = '["2018-11-20T10:00:00+08:00",["530102","530303"]]' ] ||
    fail "--out with --publish: $(jq -c '[.evaluated_at, .province.demonstration]' "$WORK/published.json")"
got_result() { county --data "$WORK/$1" result --year 2018 --json >"$WORK/result.$1" 2>/dev/null; }
for c in 530102 530103 530302; do wait_until 15 got_result "$c" || fail "county $c did not receive the published result"; done
[ "$(jq -c '[.units[] | {code, demonstration, national_candidate}]' "$WORK/result.530102")" = \
    '[{"code":"530102","demonstration":true,"national_candidate":true}]' ] ||
    fail "530102 got $(jq -c '[.units[] | {code, demonstration}]' "$WORK/result.530102")"
[ "$(jq -c '[.units[] | {code, recommended, flags}]' "$WORK/result.530103")" = \
    '[{"code":"530103","recommended":false,"flags":["corrected","claimed_time_implausible"]}]' ] || fail "530103 got $(jq -c .units "$WORK/result.530103")"
[ "$(jq -c '[.units[].code]' "$WORK/result.530302")" = '["530302"]' ] || fail "530302 sees other units"
county --data "$WORK/530302" result --year 2018 | grep -qx "  530302 麒麟区: on_time, not qualified (不合格)" ||
    fail "the text view does not show the verdict: $(county --data "$WORK/530302" result --year 2018)"
# ... and which item failed and why: the inspected value against the self-reported one.
why="    ✗ 2.1 流动人口目标人群基本公共卫生计生服务覆盖率（%）：市级核查值 80.00%（800/1000），要求 ≥ 90%；自报 99.50%（995/1000）；核查与自报不符（取消本年度推荐资格）"
county --data "$WORK/530302" result --year 2018 | grep -qxF "$why" ||
    fail "the county's result does not say why: $(county --data "$WORK/530302" result --year 2018)"
at 2018-11-20T10:00:00+08:00 hub --data "$WORK/530300" report --year 2018 >"$WORK/hub-report"
grep -A1 "^530302 " "$WORK/hub-report" | grep -qxF "$why" ||
    fail "the hub's report does not say why under 530302: $(cat "$WORK/hub-report")"
[ "$(grep -c "^    [✗△] " "$WORK/hub-report")" -eq 1 ] || fail "the hub names more failures: $(cat "$WORK/hub-report")"
# The hub's printable page: headed with the prefecture, items explained, aggregates, reasons.
at 2018-11-20T10:00:00+08:00 hub --data "$WORK/530300" report --year 2018 --format html --out "$WORK/hub.html"
grep -q "^<h1>曲靖市 2018年度评估结果<br>" "$WORK/hub.html" || fail "the hub's page heading: $(grep "<h1>" "$WORK/hub.html")"
grep -q "@page{size:A4 landscape;" "$WORK/hub.html" || fail "the hub's page does not print landscape"
grep -q "^<tr><td>2.1</td><td>2.1</td><td class=\"name\">流动人口目标人群基本公共卫生计生服务覆盖率（%）</td><td>≥ 90%</td></tr>$" "$WORK/hub.html" ||
    fail "the hub's page has no legend of items"
grep -q "^<h3>分项汇总（比例为 Σ分子/Σ分母）</h3>$" "$WORK/hub.html" || fail "the hub's page has no aggregates"
grep -qF "<li>✗ 2.1 流动人口目标人群基本公共卫生计生服务覆盖率（%）：市级核查值 80.00%（800/1000）" "$WORK/hub.html" ||
    fail "the hub's page does not say why 530302 failed"
! grep -q "汇总：云南省" "$WORK/hub.html" || fail "the hub's page carries a province summary"
note "the published evaluation reached each county with only its own part"

# A county allowed after the publication still gets its part of it.
county --data "$WORK/530113" init --code 530113 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
    --upstream-key "$(hub --data "$WORK/530100" key)" >/dev/null
hub --data "$WORK/530100" allow --code 530113 --key "$(county --data "$WORK/530113" key)" >/dev/null
start c530113 county-node "$WORK/530113"
wait_until 15 got_result 530113 || fail "a county allowed after the publication did not get it"
[ "$(jq -c '[.units[] | {code, status}]' "$WORK/result.530113")" = '[{"code":"530113","status":"missing"}]' ] ||
    fail "530113 got $(jq -c .units "$WORK/result.530113")"
note "a county allowed later received its part too"

# 530300 never confirmed in time: after the deadline only an override does
# it, and the override is logged with who made it and what it overrode.
at 2018-12-01T10:00:00+08:00 hub --data "$WORK/530300" recommend --year 2018 --confirm --override --json \
    >"$WORK/override.json" 2>"$WORK/override.err" || fail "--override: $(cat "$WORK/override.err")"
[ "$(jq .confirmed "$WORK/override.json")" = true ] || fail "--override did not confirm: $(cat "$WORK/override.json")"
grep -q "WARN command line overrode the recommendation deadline of 2018 (2018-09-30T23:59:59+08:00)" "$WORK/override.err" ||
    fail "the override was not logged: $(cat "$WORK/override.err")"
note "a confirm after the deadline is refused, and taken with --override (logged)"
