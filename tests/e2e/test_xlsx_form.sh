#!/usr/bin/env bash
# A self-assessment filled in Excel: a workbook made as Excel makes one
# (openpyxl: shared strings, numbers as number cells, booleans, an empty
# row, Chinese headers) is submitted with `county-node submit F.xlsx` and
# gives the same report as the same values submitted as CSV; a mistake in
# the workbook is named by its row, and a file that is no workbook is refused
# in Chinese. The form leaves most criteria blank: --allow-blank confirms
# it. Offline: no daemon runs.
source "$(dirname "$0")/lib.sh"
# Debian's python3, where python3-openpyxl (scripts/setup.sh) installs.
PY=/usr/bin/python3
"$PY" -c 'import openpyxl' || fail "python3-openpyxl is missing (scripts/setup.sh installs it)"

setup_tree 530100:530102
# A second county node of the same unit, for the same values as CSV.
county --data "$WORK/twin" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
    --upstream-key "$(hub --data "$WORK/530100" key)" >/dev/null

cat >"$WORK/form.csv" <<'CSV'
单位代码,年度,指标编号,指标名称,值,分子,分母,说明
530102,2018,1.1,纳入规划,是,,,
,,1.2a,启动大会,1,,,
,,1.2b,实施方案,,,,
,,1.2c,专题会议（次/年）,3,,,
,,2.1,服务覆盖率（%）,,912,1000,"含外来务工人员, 见附表"
,,2.2,建档率（%）,,700,1000,
,,2.7,传染病报告率（%）,,0,0,本年无病例
,,3.1,制度,true,,,
CSV
# The same rows as a workbook, typed as an official types them: numbers
# are numbers, 是 a string, true a boolean cell, a blank row in between.
"$PY" - "$WORK/form.csv" "$WORK/form.xlsx" <<'PY'
import csv, sys, openpyxl
book = openpyxl.Workbook()
sheet = book.active
sheet.title = "自评"
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
for number, row in enumerate(rows, 1):
    if number == 6:
        sheet.append([])  # an empty row: the workbook's row numbers now run one ahead
    cells = []
    for text in row:
        if text.isdigit():
            cells.append(int(text))
        elif text == "true":
            cells.append(True)
        else:
            cells.append(text if text else None)
    sheet.append(cells)
book.create_sheet("说明").append(["这一页不读"])
book.save(sys.argv[2])
PY
# Excel keeps text in shared strings (openpyxl writes it inline): the same
# workbook rewritten that way, a second file to submit.
"$PY" - "$WORK/form.xlsx" "$WORK/shared.xlsx" <<'PY'
import re, sys, zipfile
source = zipfile.ZipFile(sys.argv[1])
strings = []
def share(match):
    strings.append(match.group(2))
    return f'<c r="{match.group(1)}" t="s"><v>{len(strings) - 1}</v></c>'
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as out:
    for name in source.namelist():
        data = source.read(name).decode("utf-8")
        if name == "xl/worksheets/sheet1.xml":
            data = re.sub(r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>(.*?)</t></is></c>', share, data)
        elif name == "xl/_rels/workbook.xml.rels":
            data = data.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.'
                "openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" "
                'Target="sharedStrings.xml"/></Relationships>')
        elif name == "[Content_Types].xml":
            data = data.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType='
                '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        out.writestr(name, data)
    out.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                 '2006/main">' + "".join(f"<si><t>{t}</t></si>" for t in strings) + "</sst>")
assert len(strings) > 10, strings
PY

county --data "$WORK/twin" submit --allow-blank "$WORK/form.csv" >/dev/null 2>>"$WORK/notes" || fail "the CSV was refused"
values() { county --data "$1" evaluate --year 2018 --json | jq -c '.units[0] | [.criteria[] | {id, value}], .failed'; }
county --data "$WORK/inline" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
    --upstream-key "$(hub --data "$WORK/530100" key)" >/dev/null
county --data "$WORK/inline" submit --allow-blank "$WORK/form.xlsx" >/dev/null 2>>"$WORK/notes" || fail "the inline-string workbook was refused"
[ "$(values "$WORK/inline")" = "$(values "$WORK/twin")" ] ||
    fail "the inline-string workbook's report differs from the CSV's: $(values "$WORK/inline") vs $(values "$WORK/twin")"
from_book=$(county --data "$WORK/530102" submit --allow-blank "$WORK/shared.xlsx" 2>>"$WORK/notes") || fail "the shared-string workbook was refused"
[ "$(values "$WORK/530102")" = "$(values "$WORK/twin")" ] ||
    fail "the workbook's report differs from the CSV's: $(values "$WORK/530102") vs $(values "$WORK/twin")"
values "$WORK/530102" | grep -q '{"id":"2.1","value":{"num":912,"den":1000}}' || fail "2.1 not read: $(values "$WORK/530102")"
values "$WORK/530102" | grep -q '{"id":"1.2c","value":3}' || fail "1.2c not read"
values "$WORK/530102" | grep -q '{"id":"3.1","value":true}' || fail "the boolean cell 3.1 not read"
[ "$(status_field county-node "$WORK/530102" .reports)" -eq 1 ] || fail "the workbook's report was not stored"
[ -n "$from_book" ] || fail "submit printed no id"

# A mistake in the workbook: named by the sheet's row (9.9 on row 4).
"$PY" - "$WORK/bad.xlsx" <<'PY'
import sys, openpyxl
book = openpyxl.Workbook()
for row in (["unit", "year", "criterion", "value"], [530102, 2018, "1.1", "是"], [], [None, None, "9.9", 1]):
    book.active.append(row)
book.save(sys.argv[1])
PY
rc=0
county --data "$WORK/530102" submit --allow-blank "$WORK/bad.xlsx" 2>"$WORK/err" >/dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.xlsx: line 4: criterion 9.9" "$WORK/err" || fail "the bad workbook: exit $rc, $(cat "$WORK/err")"
# A zip that is no workbook, and a truncated one: refused, in Chinese.
"$PY" -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1], 'w').writestr('a.txt', 'x')" "$WORK/plain.xlsx"
rc=0
county --data "$WORK/530102" submit "$WORK/plain.xlsx" 2>"$WORK/err" >/dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q "plain.xlsx：不是 Excel 工作簿" "$WORK/err" || fail "a zip without a workbook: exit $rc, $(cat "$WORK/err")"
head -c 300 "$WORK/form.xlsx" >"$WORK/cut.xlsx"
rc=0
county --data "$WORK/530102" submit "$WORK/cut.xlsx" 2>"$WORK/err" >/dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q "cut.xlsx：" "$WORK/err" || fail "a truncated workbook: exit $rc, $(cat "$WORK/err")"
[ "$(status_field county-node "$WORK/530102" .reports)" -eq 1 ] || fail "a refused workbook was stored"
# The fill-in template as a workbook: the CSV template's table, and filled
# in Excel it gives the report the same values give in the CSV template.
county --data "$WORK/twin" template --lang zh --format xlsx --year 2018 --out "$WORK/template.xlsx" ||
    fail "template --format xlsx failed"
county --data "$WORK/twin" template --lang zh --format csv --year 2018 --out "$WORK/template.csv"
"$PY" - "$WORK/template.csv" "$WORK/template.xlsx" "$WORK/filled.csv" "$WORK/filled.xlsx" <<'PY'
import csv, sys, openpyxl
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig")))
book = openpyxl.load_workbook(sys.argv[2])
sheet = book.active
assert sheet.title == "自评表", sheet.title
assert sheet.freeze_panes == "A2", sheet.freeze_panes
cells = [[c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
as_text = [[str(c) for c in r] for r in cells]
assert as_text == rows, (as_text[:3], rows[:3])
header = rows[0]
value, num, den = header.index("值"), header.index("分子"), header.index("分母")
for r, row in enumerate(rows[1:], 2):
    kind = row[header.index("类型")]
    if "比例" in kind:
        row[num], row[den] = "95", "100"
        sheet.cell(r, num + 1, 95), sheet.cell(r, den + 1, 100)
    elif "是/否" in kind or "是否" in kind:
        row[value] = "是"
        sheet.cell(r, value + 1, "是")
    else:
        row[value] = "2"
        sheet.cell(r, value + 1, 2)
book.save(sys.argv[4])
with open(sys.argv[3], "w", encoding="utf-8-sig", newline="") as out:
    csv.writer(out).writerows(rows)
PY
for kind in csv xlsx; do
    county --data "$WORK/tpl$kind" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
        --upstream-key "$(hub --data "$WORK/530100" key)" >/dev/null
    county --data "$WORK/tpl$kind" submit "$WORK/filled.$kind" >/dev/null || fail "the filled $kind template was refused"
done
[ "$(values "$WORK/tplxlsx")" = "$(values "$WORK/tplcsv")" ] ||
    fail "the filled workbook template differs from the CSV one: $(values "$WORK/tplxlsx") vs $(values "$WORK/tplcsv")"
values "$WORK/tplxlsx" | grep -q '{"id":"2.1","value":{"num":95,"den":100}}' || fail "template 2.1 not read: $(values "$WORK/tplxlsx")"
note "ok: a workbook form gives the CSV's report; its mistakes are named by row; the workbook template fills in as the CSV one"
