#!/usr/bin/env bash
# A form filled in Excel comes back as the same report, whatever Chinese
# Excel saved it as: the county writes the fill-in template, an official
# fills it (here python3), adds a 序号 and a 单位名称 column, and saves it as
# "CSV UTF-8", as GB18030 with its byte order mark, or as "Unicode text"
# (UTF-16LE, tabs); each submitted gives the values of the same report typed
# as JSON. And the evaluation's CSV is Chinese with a BOM by default, English
# on request. The verbs work offline: no daemon runs here.
source "$(dirname "$0")/lib.sh"

export SHIFAN_NOW=2018-06-20T10:00:00+08:00
unset LC_ALL LC_MESSAGES
export LANG=C.UTF-8 SHIFAN_TEST_MESSAGES= # the locale alone decides: Chinese
setup_tree 530100:530102
C=$WORK/530102 P=$WORK/province
cd "$WORK"

# ---- the template ----
county --data "$C" template --format csv --year 2018 --out template.csv
[ "$(head -c 3 template.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] || fail "the template has no UTF-8 BOM"
head -1 template.csv | grep -q $'单位代码,年度,指标编号,部分,条目,指标名称,类型,要求,值,分子,分母,说明\r$' ||
    fail "template header: $(head -1 template.csv)"
[ "$(($(wc -l <template.csv) - 1))" -eq 38 ] || fail "the template has not one row per criterion (38)"
grep -q $'^530102,2018,2.1,基本服务,2.1,[^,]*,比例（填分子、分母）,≥ 90%,,,,\r$' template.csv ||
    fail "template row 2.1: $(grep ',2.1,' template.csv)"
# Without --year: this year within the programme; stdout without --out.
county --data "$C" template | cmp -s - template.csv || fail "template without --year/--out differs"
# (Read whole, then the first line: head -1 closing the pipe early would
# kill the writer with SIGPIPE, and pipefail would fail the test.)
env LANG=en_US.UTF-8 "$BIN/county-node" --data "$C" template >template-env.csv
sed -n 1p template-env.csv | grep -q $'^\xef\xbb\xbfunit,year,criterion,section,item,title,kind,requirement,value,numerator,denominator,comment\r$' ||
    fail "LANG=en_US: the template is not in English"
county --data "$C" template --lang en --out template-en.csv
rc=0; county --data "$C" template --format pdf 2>err || rc=$?
[ "$rc" -eq 2 ] && grep -qx '错误：--format pdf：应为 csv 或 xlsx' err || fail "template --format pdf: exit $rc $(cat err)"
rc=0; county --data "$C" template --year 2016 2>err || rc=$?
[ "$rc" -eq 2 ] && grep -qx '错误：--year 2016：方案 yunnan-2017 适用于 2017-2020 年' err || fail "template --year 2016: exit $rc $(cat err)"
note "the template: BOM, Chinese headers, one row per criterion; English on request"

# ---- filled in as in Excel ----
report_json 530102 2018 3 >typed.json
# fill TEMPLATE OUT DELIMITER: the typed values into the template's cells,
# with the columns an official adds (序号 first, 单位名称 last); UTF-8, no BOM.
fill() {
    python3 - "$1" "$2" "$3" <<'PY'
import csv, json, sys
src, out, delim = sys.argv[1], sys.argv[2], sys.argv[3]
report = json.load(open("typed.json"))
rows = list(csv.reader(open(src, encoding="utf-8-sig", newline="")))
head = rows[0]
zh = "值" in head
col = {k: head.index(n) for k, n in zip(("value", "num", "den", "comment"),
       ("值", "分子", "分母", "说明") if zh else ("value", "numerator", "denominator", "comment"))}
cid = head.index("指标编号" if zh else "criterion")
w = csv.writer(open(out, "w", encoding="utf-8", newline=""), delimiter=delim, lineterminator="\r\n")
w.writerow(["序号"] + head + ["单位名称"])
for i, row in enumerate(rows[1:], 1):
    v = report["values"].get(row[cid])
    if isinstance(v, bool):
        row[col["value"]] = ("是" if v else "否") if zh else ("yes" if v else "no")
    elif isinstance(v, int):
        row[col["value"]] = str(v)
    elif isinstance(v, dict):
        row[col["num"]], row[col["den"]] = str(v["num"]), str(v["den"])
    row[col["comment"]] = report["comments"].get(row[cid], "")
    w.writerow([str(i)] + row + ["五华区"])
PY
}
fill template.csv filled.csv ,
fill template.csv filled.tsv $'\t'
fill template-en.csv filled-en.csv ,
{ printf '\357\273\277'; cat filled.csv; } >utf8-bom.csv
{ printf '\204\061\225\063'; iconv -f UTF-8 -t GB18030 filled.csv; } >gb18030-bom.csv
iconv -f UTF-8 -t GB18030 filled.csv >gbk.csv
{ printf '\377\376'; iconv -f UTF-8 -t UTF-16LE filled.tsv; } >unicode.txt
{ printf '\376\377'; iconv -f UTF-8 -t UTF-16BE filled.tsv; } >unicode-be.txt
cmp -s gbk.csv filled.csv && fail "the GBK file is not re-encoded"

values() { county --data "$C" evaluate --year 2018 --json | jq -cS '[.units[0].criteria[] | {id, value}]'; }
county --data "$C" submit typed.json >/dev/null
want=$(values)
[ "$(jq length <<<"$want")" -eq 38 ] && [ "$(jq '[.[] | select(.value == null)] | length' <<<"$want")" -eq 0 ] ||
    fail "the typed report does not carry 38 values: $want"
version=1
for file in utf8-bom.csv gb18030-bom.csv gbk.csv unicode.txt unicode-be.txt filled-en.csv; do
    county --data "$C" submit "$file" >out 2>err || { cat err >&2; fail "$file refused"; }
    version=$((version + 1))
    grep -qE "^530102-2018-v$version-" out || fail "$file: printed $(cat out)"
    grep -qx "注意：$file：已忽略的列：序号, 单位名称" err || fail "$file: no note of the ignored columns: $(cat err)"
    [ "$(values)" = "$want" ] || fail "$file gives other values than the typed report: $(values)"
done
[ "$(status_field county-node "$C" .reports)" -eq 7 ] || fail "not seven versions stored"
note "the template filled in, saved as UTF-8 BOM, GB18030 BOM, GBK, UTF-16LE/BE with tabs and in English: the same report"

# ---- the evaluation's CSV ----
province --data "$P" evaluate --year 2018 --format csv --out zh.csv
[ "$(head -c 3 zh.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] || fail "the result CSV has no BOM"
head -1 zh.csv | grep -q $'^\xef\xbb\xbf'"年度,单位代码,单位名称,市（州）代码,市（州）名称,上报情况,是否合格,"  || fail "result CSV header: $(head -1 zh.csv)"
grep -q '^2018,530102,五华区,530100,昆明市,未报,否,' zh.csv || fail "result CSV row: $(grep 530102 zh.csv)"
province --data "$P" evaluate --year 2018 --format csv --lang en --out en.csv
head -1 en.csv | grep -q $'^\xef\xbb\xbf'"year,code,name,prefecture,prefecture_name,status,qualified,"  || fail "English result CSV header: $(head -1 en.csv)"
grep -q '^2018,530102,五华区,530100,昆明市,missing,false,' en.csv || fail "English result CSV row: $(grep 530102 en.csv)"
env LC_MESSAGES=en_GB.UTF-8 "$BIN/province-core" --data "$P" evaluate --year 2018 --format csv | cmp -s - en.csv ||
    fail "LC_MESSAGES=en_GB does not give the English CSV"
env LC_ALL=zh_CN.UTF-8 LANG=en_US.UTF-8 "$BIN/province-core" --data "$P" evaluate --year 2018 --format csv | cmp -s - zh.csv ||
    fail "LC_ALL=zh_CN before LANG=en_US does not give the Chinese CSV"
rc=0; province --data "$P" evaluate --year 2018 --format csv --lang fr 2>err >/dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -qx '错误：--lang fr：应为 zh 或 en' err || fail "--lang fr: exit $rc $(cat err)"
note "the result CSV: Chinese with a BOM by default, English with --lang en or an English locale"
