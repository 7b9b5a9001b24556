#!/usr/bin/env bash
# A county checks a report before sending it: `submit --check` validates and
# evaluates with the engine and stores nothing; a criterion left blank is
# named, and `submit` stores such a report only when the official confirms
# the blanks with --allow-blank. No daemon runs: all of it works offline.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
C=(county --data "$WORK/530102")
at() { SHIFAN_NOW=2018-07-10T09:00:00+08:00 "$@"; }
stored() { status_field county-node "$WORK/530102" .reports; }

# --- A report that fails one criterion: named with its value and rule ---
report_json 530102 2018 5 | jq -c '.values["2.2"] = {"num":700,"den":1000}' >"$WORK/fail.json"
at "${C[@]}" submit --check "$WORK/fail.json" >"$WORK/out" 2>"$WORK/err" || fail "--check of a valid report: exit $?"
head -1 "$WORK/out" | grep -qx "检查（未保存）530102 五华区 2018 年度自评：不合格，32 项中 31 项合格" ||
    fail "the check's verdict: $(head -1 "$WORK/out")"
grep -qx "  ✗ 2.2   流动人口健康档案建档率（%）：70.00%（700/1000），要求 ≥ 80%" "$WORK/out" ||
    fail "the failing criterion is not named with its value and rule: $(grep "✗" "$WORK/out")"
grep -qx "  ✓ 2.1   流动人口目标人群基本公共卫生计生服务覆盖率（%）：90.50%（905/1000），要求 ≥ 90%" "$WORK/out" ||
    fail "a passing criterion is not shown: $(grep " 2.1 " "$WORK/out")"
[ "$(grep -c "^  [✓✗] " "$WORK/out")" -eq 38 ] || fail "not every criterion is listed: $(cat "$WORK/out")"
[ "$(grep -c "^  ✗ " "$WORK/out")" -eq 1 ] || fail "more than 2.2 fails: $(grep "✗" "$WORK/out")"
[ ! -s "$WORK/err" ] || fail "a complete report got a warning: $(cat "$WORK/err")"
[ "$(stored)" -eq 0 ] || fail "--check stored the report"
[ "$("${C[@]}" list --json | jq length)" -eq 0 ] || fail "--check left a version in the list"
note "submit --check names the failing criterion and stores nothing"

# After the deadline the check says a submission now would be late.
SHIFAN_NOW=2018-08-02T09:00:00+08:00 "${C[@]}" submit --check "$WORK/fail.json" >"$WORK/out"
head -1 "$WORK/out" | grep -q "；迟报（首次提交晚于截止日期）$" || fail "the check does not say a submission now is late: $(head -1 "$WORK/out")"

# --- Blank criteria: a warning that names them; submit refuses without --allow-blank ---
report_json 530102 2018 5 | jq -c 'del(.values["5.4c"], .values["1.2b"])' >"$WORK/blank.json"
at "${C[@]}" submit --check "$WORK/blank.json" >"$WORK/out" 2>"$WORK/err" || fail "--check with blanks: exit $?"
grep -qx "警告：$WORK/blank.json: 2 项指标未填写（按不合格计）：1.2b、5.4c" "$WORK/err" ||
    fail "--check does not name the blank criteria: $(cat "$WORK/err")"
grep -qx "  ✗ 5.4c  健康家庭（户）：未填写，要求 ≥ 10（缺项按不合格计）" "$WORK/out" ||
    fail "a blank criterion is not shown as failing: $(grep 5.4c "$WORK/out")"
rc=0
at "${C[@]}" submit "$WORK/blank.json" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "submit stored a report with blanks unconfirmed (exit $rc)"
grep -qx "error: $WORK/blank.json: 2 项指标未填写：1.2b、5.4c；报告未保存。确认留空（按不合格计）请加 --allow-blank" "$WORK/err" ||
    fail "the refusal does not name the blanks and the way on: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "a refused submit printed an id: $(cat "$WORK/out")"
[ "$(stored)" -eq 0 ] || fail "the refused report was stored"
id=$(at "${C[@]}" submit --allow-blank "$WORK/blank.json" 2>"$WORK/err") || fail "--allow-blank: exit $?"
[[ $id == 530102-2018-v1-* ]] || fail "--allow-blank printed '$id'"
grep -qx "警告：$WORK/blank.json: 2 项指标未填写（按不合格计）：1.2b、5.4c" "$WORK/err" ||
    fail "--allow-blank does not repeat the warning: $(cat "$WORK/err")"
[ "$(stored)" -eq 1 ] || fail "--allow-blank did not store the report"
# A correction after the deadline of a version sent in time is not late.
SHIFAN_NOW=2018-08-02T09:00:00+08:00 "${C[@]}" submit --check "$WORK/fail.json" >"$WORK/out"
head -1 "$WORK/out" | grep -q "合格$" || fail "a correction of an on-time report checks as late: $(head -1 "$WORK/out")"
note "blank criteria are named; submit stores them only with --allow-blank"

# --- Bad input: --check refuses as submit does, exit 2, naming the field ---
rc=0
report_json 530102 2018 5 | jq -c '.values["9.9"] = 1' | at "${C[@]}" submit --check - >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "criterion 9.9" "$WORK/err" || fail "--check of an unknown criterion: exit $rc, $(cat "$WORK/err")"
rc=0
report_json 530103 2018 5 | at "${C[@]}" submit --check - >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -qx "error: <stdin>: unit 530103: this node (530102) may report only for its own unit" "$WORK/err" ||
    fail "--check of another unit's report: exit $rc, $(cat "$WORK/err")"
[ "$(stored)" -eq 1 ] || fail "a refused check changed the store"
note "--check refuses bad input as submit does"
