#!/usr/bin/env bash
# The province's evaluation as an Excel workbook (`evaluate --format xlsx`),
# read back with openpyxl and held against `evaluate --format json`: a
# summary sheet with every prefecture's counts, a sheet per prefecture with
# every county's status, verdict and items, frozen header rows, numbers as
# numbers, a failed item filled red.
source "$(dirname "$0")/lib.sh"
# Debian's python3, where python3-openpyxl (scripts/setup.sh) installs.
PY=/usr/bin/python3
"$PY" -c 'import openpyxl' || fail "python3-openpyxl is missing (scripts/setup.sh installs it)"

setup_tree 530100:530102,530103,530111 530300:530302,530303
start province province-core "$WORK/province"
start hub530100 prefecture-hub "$WORK/530100"
start hub530300 prefecture-hub "$WORK/530300"
for c in 530102 530103 530111 530302 530303; do start "c$c" county-node "$WORK/$c"; done

submit() { # COUNTY WHEN SEED [JQ-EDIT]
    report_json "$1" 2018 "$3" | jq -c "${4:-.}" | SHIFAN_NOW=$2 county --data "$WORK/$1" submit - >/dev/null
}
submit 530102 2018-07-10T09:00:00+08:00 90
submit 530103 2018-07-12T09:00:00+08:00 50 '.values["2.2"] = {"num":700,"den":1000}' # fails item 2.2
submit 530302 2018-07-15T09:00:00+08:00 95
submit 530303 2018-08-15T09:00:00+08:00 60                                          # late
# 530111 never reports.
wait_until 30 field_is province-core "$WORK/province" .reports 4 ||
    fail "the province holds $(status_field province-core "$WORK/province" .reports) of 4 reports"

evaluate() { SHIFAN_NOW=2018-11-15T10:00:00+08:00 province --data "$WORK/province" evaluate --year 2018 "$@"; }
evaluate --format json --out "$WORK/result.json"
evaluate --format xlsx --out "$WORK/result.xlsx"
[ "$(head -c 2 "$WORK/result.xlsx")" = PK ] || fail "--format xlsx did not write a workbook"
evaluate --format xlsx >"$WORK/stdout.xlsx"
"$PY" - "$WORK/result.xlsx" "$WORK/stdout.xlsx" <<'PY' || fail "the workbook on stdout differs from --out"
import sys, openpyxl
a, b = (openpyxl.load_workbook(p) for p in sys.argv[1:3])
rows = lambda wb: [[c.value for c in r] for ws in wb for r in ws.iter_rows()]
sys.exit(0 if rows(a) == rows(b) else 1)
PY
rc=0
evaluate --format xls --out "$WORK/bad" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'expected json, csv, html or xlsx' "$WORK/err" || fail "--format xls: exit $rc, $(cat "$WORK/err")"

"$PY" - "$WORK/result.xlsx" "$WORK/result.json" <<'PY' || fail "the workbook does not carry the evaluation's figures"
import json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
result = json.load(open(sys.argv[2]))
def check(ok, what):
    if not ok:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)
names = {p["code"]: p["name"] for p in result["prefectures"]}
check(book.sheetnames == ["汇总"] + [names[p["code"]] for p in result["prefectures"]],
      f"sheets {book.sheetnames}")

summary = book["汇总"]
check(summary.freeze_panes == "C3", f"summary frozen at {summary.freeze_panes}")
header = [c.value for c in summary[2]]
check(header[:11] == ["代码", "名称", "名额", "应报", "已报", "完整率（%）", "按时", "迟报", "未报",
                      "及时率（%）", "合格"], f"summary header {header}")
rows = {r[0]: r for r in summary.iter_rows(min_row=3, max_col=13, values_only=True) if r[0]}
for p in result["prefectures"]:
    row = rows.get(p["code"])
    check(row is not None, f"no summary row for {p['code']}")
    t, c = p["timeliness"], p["completeness"]
    want = (p["code"], p["name"], p["quota"], c["expected"], c["reported"], c["percent"],
            t["on_time"], t["late"], t["missing"], t["percent"], p["qualified"])
    got = tuple(row[:11])
    check(got == want, f"summary of {p['code']}: {got} != {want}")
    check(all(isinstance(v, (int, float)) for v in got[2:]), f"numbers stored as text: {got}")
province = result["province"]
row = rows.get(province["code"])
check(row and row[3] == province["completeness"]["expected"] and row[4] == province["completeness"]["reported"]
      and row[10] == province["qualified"], f"province total {row}")

red = "FFFFC7CE"  # ARGB: opaque, Excel's "bad" fill
for p in result["prefectures"]:
    sheet = book[p["name"]]
    check(sheet.freeze_panes == "C3", f"{p['name']} frozen at {sheet.freeze_panes}")
    header = [c.value for c in sheet[2]]
    first_item = header.index(result["items"][0])
    check(header[first_item:] == result["items"], f"item columns {header[first_item:]}")
    status_zh = {"on_time": "按时", "late": "迟报", "missing": "未报"}
    units = [u for u in result["units"] if u["prefecture"] == p["code"]]
    lines = list(sheet.iter_rows(min_row=3))
    check(len(lines) == len(units), f"{p['name']}: {len(lines)} rows for {len(units)} units")
    for u, line in zip(units, lines):
        v = [c.value for c in line]
        check(v[0] == u["code"] and v[1] == u["name"], f"row {v[:2]} for {u['code']}")
        check(v[2] == status_zh[u["status"]], f"{u['code']} status {v[2]} for {u['status']}")
        check(v[3] == ("合格" if u["qualified"] else "不合格"), f"{u['code']} verdict {v[3]}")
        check(v[4] == u["items_passed"] and isinstance(v[4], int), f"{u['code']} items {v[4]}")
        check(v[6] == u["rank"], f"{u['code']} rank {v[6]} != {u['rank']}")
        check(v[7] == ("是" if u["recommended"] else "否"), f"{u['code']} recommended {v[7]}")
        for k, item in enumerate(result["items"]):
            cell = line[first_item + k]
            if u["status"] == "missing":
                continue
            failed = item in u["failed"]
            check(cell.value == ("✗" if failed else "✓"), f"{u['code']} item {item}: {cell.value}")
            check((cell.fill.fgColor.rgb == red) == failed,
                  f"{u['code']} item {item} filled {cell.fill.fgColor.rgb}, failed={failed}")
# The case this test is built around: 530103 fails item 2.2, and its cell is red.
u = next(u for u in result["units"] if u["code"] == "530103")
check(u["failed"] == ["2.2"], f"530103 failed {u['failed']}")
sheet = book[names["530100"]]
header = [c.value for c in sheet[2]]
cell = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == "530103")[header.index("2.2")]
check(cell.value == "✗" and cell.fill.fgColor.rgb == red, f"530103's 2.2: {cell.value} {cell.fill.fgColor.rgb}")
PY
note "ok: the evaluation's workbook carries the JSON's figures, frozen headers, a red failed item"
