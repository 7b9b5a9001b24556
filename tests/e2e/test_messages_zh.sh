#!/usr/bin/env bash
# The messages an official reads speak Chinese by default and English where
# the locale asks for it, naming the same line, criterion and value either
# way: a CSV with an unknown criterion on line 7, a JSON ratio whose
# numerator is above its denominator, a year outside the programme, an
# unknown verb and option, --help. `--lang en` overrides a Chinese locale. And a
# reason the hub's admission gives for a report it refuses reaches the
# county in the hub's language (Chinese: no locale).
source "$(dirname "$0")/lib.sh"
export SHIFAN_TEST_MESSAGES= # the locale alone decides here
unset LC_ALL LC_MESSAGES LANG

setup_tree 530100:530102
C=$WORK/530102
cd "$WORK"
cat >bad.csv <<'CSV'
unit,year,criterion,value,numerator,denominator
530102,2018,1.1,yes,,
,,1.2a,yes,,
,,1.2b,yes,,
,,1.2c,2,,
,,1.3,yes,,
,,9.9,yes,,
CSV
report_json 530102 2018 5 | jq -c '.values["2.2"] = {"num":1200,"den":1000}' >over.json
report_json 530102 2031 5 >y2031.json

# expect LOCALE MESSAGE ARGS...: county-node under LOCALE ("-" for none at
# all, else VAR=VALUE) exits 2 and prints exactly MESSAGE on stderr.
expect() {
    local locale=$1 want=$2 rc=0
    shift 2
    local run=(env -u LC_ALL -u LC_MESSAGES -u LANG)
    [ "$locale" = - ] || run+=("$locale")
    "${run[@]}" "$BIN/county-node" --data "$C" "$@" >out 2>err || rc=$?
    [ "$rc" -eq 2 ] || fail "$locale $*: exit $rc, $(cat err)"
    [ "$(cat err)" = "$want" ] || fail "$locale $*: said \"$(cat err)\", not \"$want\""
}

note "Chinese without a locale, and under C.UTF-8 or zh_CN"
expect - "错误：bad.csv：第 7 行：指标 9.9：未知指标（标准 yunnan-2017-trial 中没有）" submit bad.csv
expect LANG=C.UTF-8 "错误：over.json：\$.values[\"2.2\"].num：指标 2.2：分子 1200 大于分母 1000" \
    submit over.json
expect LANG=zh_CN.UTF-8 "错误：y2031.json：\$.year：年度 2031 不在本方案的年度 2017..2020 之内" \
    submit y2031.json
expect - "错误：--year 2031：方案 yunnan-2017 适用于 2017-2020 年" template --year 2031
expect - "错误：未知命令“frobnicate”（见 county-node --help）" frobnicate
expect - "错误：county-node submit 不接受 --bogus（见 county-node --help）" submit --bogus x bad.csv

note "English, word for word as before, where the locale asks for it"
expect LANG=en_US.UTF-8 \
    "error: bad.csv: line 7: criterion 9.9: unknown criterion (not in standard yunnan-2017-trial)" \
    submit bad.csv
expect LANG=en_US.UTF-8 \
    "error: over.json: \$.values[\"2.2\"].num: criterion 2.2: numerator 1200 exceeds denominator 1000" \
    submit over.json
expect LC_MESSAGES=en_GB.UTF-8 \
    "error: y2031.json: \$.year: year 2031 is outside the programme's years 2017..2020" \
    submit y2031.json
expect LANG=en_US.UTF-8 "error: --year 2031: programme yunnan-2017 covers 2017-2020" \
    template --year 2031
expect LANG=en_US.UTF-8 "error: unknown verb 'frobnicate' (see county-node --help)" frobnicate
expect LANG=en_US.UTF-8 "error: county-node submit does not take --bogus (see county-node --help)" \
    submit --bogus x bad.csv

note "LC_ALL before LANG; --lang en over a Chinese locale"
expect LC_ALL=zh_CN.UTF-8 "错误：--year 2031：方案 yunnan-2017 适用于 2017-2020 年" template --year 2031
expect - "error: --year 2031: programme yunnan-2017 covers 2017-2020" template --lang en --year 2031

note "the other programs too"
rc=0; env -u LANG "$BIN/province-core" --data "$WORK/province" evaluate --year 2018 --format pdf \
    2>err >/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ "$(cat err)" = "错误：--format pdf：应为 json、csv、html 或 xlsx" ] ||
    fail "province-core --format pdf: exit $rc, $(cat err)"
rc=0; env -u LANG "$BIN/prefecture-hub" --data "$WORK/530100" report 2>err >/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ "$(cat err)" = "错误：须给出 --year YEAR" ] ||
    fail "prefecture-hub report without --year: exit $rc, $(cat err)"
note "--help in Chinese without a locale, in English under en_US"
env -u LANG "$BIN/county-node" --help >help.zh
grep -qxF "用法：county-node --data 目录 命令 [选项]" help.zh || fail "--help header: $(head -1 help.zh)"
grep -qE '^  submit +FILE\|- \[--check\] \[--allow-blank\]：校验并保存报告' help.zh ||
    fail "--help without a locale: $(grep submit help.zh)"
grep -qE '^  audit +\[--json\] \[--limit N\]：经控制台所做的更改及操作员$' help.zh ||
    fail "--help: the access verbs: $(grep audit help.zh)"
env LANG=en_US.UTF-8 "$BIN/county-node" --help >help.en
grep -qxF "usage: county-node --data DIR VERB [OPTIONS]" help.en || fail "--help in English: $(head -1 help.en)"
grep -qE '^  submit +FILE\|- \[--check\] \[--allow-blank\]: validate and store a report' help.en ||
    fail "--help under en_US: $(grep submit help.en)"
env -u LANG "$BIN/province-core" --help | grep -qE '^  publish +FILE：向下发布方案' ||
    fail "province-core --help is not in Chinese"

note "a refusal by the hub's admission, in the hub's language"
# The county's clock is a year ahead: the hub refuses the report's
# submitted_at, and the county shows why in the hub's words.
start hub prefecture-hub "$WORK/530100"
start county county-node "$C"
ahead=$(report_json 530102 2018 5 | SHIFAN_NOW=2099-06-01T09:00:00+08:00 \
    env -u LANG "$BIN/county-node" --data "$C" submit - 2>/dev/null)
state_of() { "$BIN/county-node" --data "$C" list --json | jq -r --arg id "$1" '.[] | select(.report_id == $id) | .state'; }
refused() { case "$(state_of "$ahead")" in refused:*) ;; *) return 1 ;; esac; }
wait_until 15 refused || fail "the report from the future shows as '$(state_of "$ahead")', not refused"
case "$(state_of "$ahead")" in
"refused: 报告 $ahead：submitted_at "*"：比本节点的时钟（"*"）超前一天以上") ;;
*) fail "the hub's reason is not in Chinese: $(state_of "$ahead")" ;;
esac
note "$(state_of "$ahead")"
stop county
stop hub

note "ok: Chinese by default, English on request, the same line, criterion and value"
