#!/usr/bin/env bash
# Every verb's bad input (missing flags, unknown codes, unknown keys, bad
# files) gives exit 2 and a message naming the option, file, line, field or
# code, and changes nothing: after each refused command the three nodes'
# `status --json` counts, `list --json`, keys/ and store/data.mdb, and the
# file listing of every data directory are as they were before.
# The verbs work offline: no daemon runs here.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102
P=$WORK/province H=$WORK/530100 C=$WORK/530102
IN=$WORK/in NEW=$WORK/new
mkdir -p "$IN" "$NEW/empty"
province_key=$(province --data "$P" key)
hub_key=$(hub --data "$H" key)
county_key=$(county --data "$C" key)
# A key that is registered nowhere: a spare county's.
county --data "$WORK/spare" init --code 530103 --upstream "tcp://127.0.0.1:$HUB_PORT_530100" \
    --upstream-key "$hub_key" >/dev/null
spare_key=$(county --data "$WORK/spare" key)
# Something accepted already, so that "loses nothing" has something to lose.
report_json 530102 2018 1 | county --data "$C" submit - >/dev/null
echo '{"unit":"530102","year":2018,"values":{"2.1":{"num":800,"den":1000}}}' >"$IN/inspection.json"
hub --data "$H" inspect "$IN/inspection.json" >/dev/null 2>&1
province --data "$P" inspect "$IN/inspection.json" >/dev/null 2>&1

# ---- snapshots ----
snapshot() {
    {
        county --data "$C" status --json
        hub --data "$H" status --json
        province --data "$P" status --json
    } | jq -c '{role, reports, queued, children_registered, inspections, returns}'
    county --data "$C" list --json
    hub --data "$H" list --json
    province --data "$P" list --json
    (cd "$WORK" && md5sum {province,530100,530102,spare}/keys/* {province,530100,530102,spare}/store/data.mdb)
    # Nothing created or removed (a half-made --data dir, an --out file...).
    (cd "$WORK" && find province 530100 530102 spare new -not -name lock.mdb | sort)
}
BASELINE=$WORK/baseline.snap
snapshot >"$BASELINE"
# What the baseline holds, exactly: one report (queued after the county's
# signing key) at the county, one inspection (after the hub's signing key)
# each at the hub and the province, one key at each parent.
[ "$(county --data "$C" status --json | jq -c '[.reports, .queued, .returns]')" = '[1,2,0]' ] ||
    fail "county baseline: $(county --data "$C" status --json | jq -c .)"
[ "$(hub --data "$H" status --json | jq -c '[.reports, .queued, .inspections, .children_registered]')" = '[0,2,1,1]' ] ||
    fail "hub baseline: $(hub --data "$H" status --json | jq -c .)"
[ "$(province --data "$P" status --json | jq -c '[.reports, .inspections, .children_registered]')" = '[0,1,1]' ] ||
    fail "province baseline: $(province --data "$P" status --json | jq -c .)"
[ "$(county --data "$C" list --json | jq -r '.[] | "\(.unit) \(.year) v\(.version) \(.state)"')" = "530102 2018 v1 queued" ] ||
    fail "county baseline list: $(county --data "$C" list --json | jq -c .)"

# ---- the table runner ----
cases=0
# expect CODE PATTERN COMMAND...: COMMAND exits CODE, its stderr matches the
# extended regex PATTERN, and nothing changed since the baseline.
expect() {
    local want=$1 pattern=$2
    shift 2
    local rc=0
    "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
    cases=$((cases + 1))
    if [ "$rc" -ne "$want" ]; then
        sed 's/^/  stderr: /' "$WORK/err" >&2
        fail "exit $rc, expected $want: ${*#"$BIN/"}"
    fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$WORK/err"; then
        sed 's/^/  stderr: /' "$WORK/err" >&2
        fail "the message does not match /$pattern/: $*"
    fi
    if [ "$want" -ne 0 ] && [ -s "$WORK/out" ]; then
        sed 's/^/  stdout: /' "$WORK/out" >&2
        fail "a refused command printed to stdout: $*"
    fi
    snapshot >"$WORK/now.snap"
    if ! diff -u "$BASELINE" "$WORK/now.snap" >"$WORK/diff"; then
        cat "$WORK/diff" >&2
        fail "state changed after: $*"
    fi
}
bad() { expect 2 "$@"; }
C_=("$BIN/county-node" --data "$C")
H_=("$BIN/prefecture-hub" --data "$H")
P_=("$BIN/province-core" --data "$P")

# ---- every program ----
for prog in county-node prefecture-hub province-core; do
    bad 'no verb given'                        "$BIN/$prog"
    bad 'no verb given'                        "$BIN/$prog" --data "$C"
    bad "unknown verb 'frob'"                  "$BIN/$prog" --data "$C" frob
    bad 'does not take --bogus'                "$BIN/$prog" --data "$C" status --bogus
    bad 'unknown option --bogus'               "$BIN/$prog" --bogus --data "$C" status
    bad '--json given twice'                   "$BIN/$prog" --data "$C" status --json --json
    bad '--data given twice'                   "$BIN/$prog" --data "$C" --data "$H" status
    bad '--data given twice'                   "$BIN/$prog" --data "$C" status --data "$C"
    bad '--data DIR is required'               "$BIN/$prog" status
    bad '--data needs a directory'             "$BIN/$prog" status --data
    bad '--data needs a directory'             "$BIN/$prog" --data "" status
    bad "$NEW/empty holds no node"             "$BIN/$prog" --data "$NEW/empty" status
    bad "$NEW/absent holds no node"            "$BIN/$prog" --data "$NEW/absent" list
    bad "unexpected argument 'extra'"          "$BIN/$prog" --data "$C" key extra
done
bad "$C holds a county node, not a prefecture node"      "${H_[0]}" --data "$C" status
bad "$H holds a prefecture node, not a county node"      "${C_[0]}" --data "$H" list
bad "$H holds a prefecture node, not a province node"    "${P_[0]}" --data "$H" key
bad "$P holds a province node, not a county node"        "${C_[0]}" --data "$P" status
bad "unknown verb 'allow'"                               "${C_[@]}" allow --code 530103 --key "$spare_key"
bad "unknown verb 'inspect'"                             "${C_[@]}" inspect "$IN/inspection.json"
bad "unknown verb 'publish'"                             "${H_[@]}" publish /dev/null
bad "unknown verb 'submit'"                              "${P_[@]}" submit "$IN/inspection.json"

# ---- init ----
UP_H=(--upstream "tcp://127.0.0.1:$HUB_PORT_530100" --upstream-key "$hub_key")
UP_P=(--upstream "tcp://127.0.0.1:$PROVINCE_PORT" --upstream-key "$province_key")
bad '--code CODE is required'                "${C_[0]}" --data "$NEW/c" init "${UP_H[@]}"
bad '--code 999999: no such unit'            "${C_[0]}" --data "$NEW/c" init --code 999999 "${UP_H[@]}"
bad '--code 530100: .* is not a county'      "${C_[0]}" --data "$NEW/c" init --code 530100 "${UP_H[@]}"
bad '--code 530102: .* is not a prefecture'  "${H_[0]}" --data "$NEW/h" init --code 530102 --listen tcp://127.0.0.1:1 "${UP_P[@]}"
bad '--code 530000: .* is not a prefecture'  "${H_[0]}" --data "$NEW/h" init --code 530000 --listen tcp://127.0.0.1:1 "${UP_P[@]}"
bad '--code needs a value'                   "${C_[0]}" --data "$NEW/c" init "${UP_H[@]}" --code
bad '--upstream ENDPOINT is required'        "${C_[0]}" --data "$NEW/c" init --code 530102 --upstream-key "$hub_key"
bad '--upstream 127.0.0.1:7001: expected'    "${C_[0]}" --data "$NEW/c" init --code 530102 --upstream 127.0.0.1:7001 --upstream-key "$hub_key"
bad '--upstream tcp://nohost: expected'      "${H_[0]}" --data "$NEW/h" init --code 530100 --listen tcp://127.0.0.1:1 --upstream tcp://nohost --upstream-key "$province_key"
bad '--upstream-key: expected .*40-character' "${C_[0]}" --data "$NEW/c" init --code 530102 --upstream tcp://127.0.0.1:1
bad '--upstream-key: expected .*40-character' "${C_[0]}" --data "$NEW/c" init --code 530102 --upstream tcp://127.0.0.1:1 --upstream-key "${hub_key:0:39}"
bad '--upstream-key: expected .*40-character' "${C_[0]}" --data "$NEW/c" init --code 530102 --upstream tcp://127.0.0.1:1 --upstream-key "${hub_key}x"
bad '--upstream-key: expected .*40-character' "${C_[0]}" --data "$NEW/c" init --code 530102 --upstream tcp://127.0.0.1:1 --upstream-key "$(printf '~%.0s' {1..40})"
bad '--listen ENDPOINT is required'          "${H_[0]}" --data "$NEW/h" init --code 530100 "${UP_P[@]}"
bad '--listen 7001: expected'                "${P_[0]}" --data "$NEW/p" init --listen 7001
bad 'province-core init does not take --code' "${P_[0]}" --data "$NEW/p" init --code 530000 --listen tcp://127.0.0.1:1
bad 'county-node init does not take --listen' "${C_[0]}" --data "$NEW/c" init --code 530102 --listen tcp://127.0.0.1:1 "${UP_H[@]}"
# Twice into the same directory: refused, the keys and data stay.
bad "$C already holds a node"                "${C_[@]}" init --code 530102 "${UP_H[@]}"
bad "$C already holds a node"                "${C_[@]}" init --code 530103 "${UP_H[@]}"
bad "$H already holds a node"                "${H_[@]}" init --code 530100 --listen tcp://127.0.0.1:1 "${UP_P[@]}"
bad "$P already holds a node"                "${P_[@]}" init --listen tcp://127.0.0.1:1

# ---- allow ----
bad 'allow needs --code CODE and --key KEY'  "${H_[@]}" allow --key "$spare_key"
bad 'allow needs --code CODE and --key KEY'  "${H_[@]}" allow --code 530103
bad '--key abc: expected a 40-character'     "${H_[@]}" allow --code 530103 --key abc
bad '--key .*: expected a 40-character'      "${H_[@]}" allow --code 530103 --key "${spare_key:0:39}~"
bad '--code 999999: no such unit'            "${H_[@]}" allow --code 999999 --key "$spare_key"
bad '--code 530302: .* is not a county under 530100' "${H_[@]}" allow --code 530302 --key "$spare_key"
bad '--code 530100: .* is not a county under 530100' "${H_[@]}" allow --code 530100 --key "$spare_key"
bad '--code 530300: .* is not a county under 530100' "${H_[@]}" allow --code 530300 --key "$spare_key"
bad "--key is this node's own key"           "${H_[@]}" allow --code 530103 --key "$hub_key"
bad '--key is already registered to 530102'  "${H_[@]}" allow --code 530103 --key "$county_key"
bad '--code 530102: .* is not a prefecture under 530000' "${P_[@]}" allow --code 530102 --key "$spare_key"
bad "--key is this node's own key"           "${P_[@]}" allow --code 530300 --key "$province_key"
bad '--key is already registered to 530100'  "${P_[@]}" allow --code 530300 --key "$hub_key"

# ---- submit ----
cd "$IN"
: >empty.json
printf 'hello world\001\002 garbage\n' >garbage.txt
printf '{"unit":"530102","year":2018,\n "values":{"1.1":true,}}\n' >syntax.json
echo '{"year":2018,"values":{"9.9":true}}' >unknown.json
echo '{"year":2018,"values":{"1.1":{"num":1,"den":2}}}' >kind.json
echo '{"year":2018,"values":{"1.2c":-3}}' >negcount.json
echo '{"year":2018,"values":{"2.1":{"num":-1,"den":2}}}' >negnum.json
echo '{"year":2018,"values":{"2.1":{"num":12,"den":10}}}' >numden.json
echo '{"year":2018,"values":{"2.1":{"num":1,"den":0}}}' >den0.json
echo '{"year":2018,"values":{"1.2c":5.0}}' >real.json
echo '{"year":2018,"values":{"1.2c":99999999999999999999}}' >huge.json
echo '{"year":2016,"values":{"1.1":true}}' >y2016.json
echo '{"year":2021,"values":{"1.1":true}}' >y2021.json
echo '{"year":"2018","values":{"1.1":true}}' >yearstr.json
echo '{"values":{"1.1":true}}' >noyear.json
echo '{"unit":"110101","year":2018,"values":{"1.1":true}}' >unitnone.json
echo '{"unit":"530103","year":2018,"values":{"1.1":true}}' >unitother.json
echo '{"unit":"530100","year":2018,"values":{"1.1":true}}' >unitpref.json
echo '{"year":2018,"values":{"1.1":true,"1.1":false}}' >dupkey.json
echo '{"year":2018,"values":{"1.1":true},"colour":"red"}' >unknownkey.json
echo '{"year":2018,"values":{"1.1":true},"comments":{"2.1":"x"}}' >comment.json
echo '{"year":2018,"standard_id":"other","values":{"1.1":true}}' >standard.json
printf '{"year":2018,\000"values":{}}' >nul.json
head -c 70000 /dev/zero | tr '\0' ' ' >big.json
HEADER='unit,year,criterion,value,numerator,denominator,comment'
printf '%s\n530102,2018,1.1,是,,,\n,,2.1,,12,10,\n' "$HEADER" >numden.csv
printf '%s\n530102,2018,1.1,是,,,\n,,1.2c,abc,,,\n' "$HEADER" >count.csv
printf '%s\n530102,2018,1.1,是,,,\n,,9.9,1,,,\n' "$HEADER" >unknown.csv
printf '%s\n530102,2018,1.1,是,,,\n,,1.1,否,,,\n' "$HEADER" >again.csv
printf 'unit,year,criterion,value\n530102,2018,1.1,是,extra\n' >fields.csv
printf '%s\n530102,2018,1.1,"是,,,\n' "$HEADER" >quote.csv
printf '\357\273\277%s\n530102,2018,1.1,是,,,\n,,2.1,,912,1000,ok\n' "$HEADER" >bom.csv
cd - >/dev/null

bad 'county-node submit needs a FILE'        "${C_[@]}" submit
bad "unexpected argument 'b'"                "${C_[@]}" submit a b
bad "$IN/nonexistent.json: No such file"     "${C_[@]}" submit "$IN/nonexistent.json"
bad "$IN: cannot read"                       "${C_[@]}" submit "$IN"
bad "$IN/empty.json: empty"                  "${C_[@]}" submit "$IN/empty.json"
bad '<stdin>: empty'                         "${C_[@]}" submit -
bad "$IN/garbage.txt: line 1: the header needs the columns year, criterion and value" "${C_[@]}" submit "$IN/garbage.txt"
bad "$IN/syntax.json: line 2, column [0-9]+"  "${C_[@]}" submit "$IN/syntax.json"
bad 'unknown.json: \$.values\["9.9"\]: criterion 9.9: unknown criterion' "${C_[@]}" submit "$IN/unknown.json"
bad 'kind.json: \$.values\["1.1"\]: .*bool criterion, got a ratio' "${C_[@]}" submit "$IN/kind.json"
bad 'negcount.json: \$.values\["1.2c"\]: count -3 is negative' "${C_[@]}" submit "$IN/negcount.json"
bad 'negnum.json: \$.values\["2.1"\].num: numerator -1 is negative' "${C_[@]}" submit "$IN/negnum.json"
bad 'numden.json: \$.values\["2.1"\].*numerator 12 exceeds denominator 10' "${C_[@]}" submit "$IN/numden.json"
bad 'den0.json: \$.values\["2.1"\].den: .*denominator is 0 but numerator is 1' "${C_[@]}" submit "$IN/den0.json"
bad 'real.json: \$.values\["1.2c"\]: .*not a whole number' "${C_[@]}" submit "$IN/real.json"
bad 'huge.json: line 1, column [0-9]+: too big integer' "${C_[@]}" submit "$IN/huge.json"
bad 'y2016.json: \$.year: year 2016 is outside .*2017..2020' "${C_[@]}" submit "$IN/y2016.json"
bad 'y2021.json: \$.year: year 2021 is outside .*2017..2020' "${C_[@]}" submit "$IN/y2021.json"
bad 'yearstr.json: \$.year: expected a year'  "${C_[@]}" submit "$IN/yearstr.json"
bad 'noyear.json: \$.year: missing'          "${C_[@]}" submit "$IN/noyear.json"
bad 'unitnone.json: \$.unit: unit 110101 is not in the programme' "${C_[@]}" submit "$IN/unitnone.json"
bad 'unitother.json: unit 530103: this node \(530102\) may report only for its own unit' "${C_[@]}" submit "$IN/unitother.json"
bad 'unitpref.json: \$.unit: unit 530100 .* is a prefecture' "${C_[@]}" submit "$IN/unitpref.json"
bad "dupkey.json: line 1, column [0-9]+: duplicate object key near '\"1.1\"'" "${C_[@]}" submit "$IN/dupkey.json"
bad 'unknownkey.json: \$.colour: unknown key' "${C_[@]}" submit "$IN/unknownkey.json"
bad 'comment.json: \$.comments\["2.1"\]: .*without a value' "${C_[@]}" submit "$IN/comment.json"
bad 'standard.json: standard_id: "other"'    "${C_[@]}" submit "$IN/standard.json"
bad 'nul.json: contains a NUL byte'          "${C_[@]}" submit "$IN/nul.json"
bad 'big.json: larger than 65536 bytes'      "${C_[@]}" submit "$IN/big.json"
bad 'numden.csv: line 3: criterion 2.1: numerator 12 exceeds denominator 10' "${C_[@]}" submit "$IN/numden.csv"
bad 'count.csv: line 3: criterion 1.2c: .*"abc" is not a whole number' "${C_[@]}" submit "$IN/count.csv"
bad 'unknown.csv: line 3: criterion 9.9: unknown criterion' "${C_[@]}" submit "$IN/unknown.csv"
bad 'again.csv: line 3: criterion 1.1: given again \(first on line 2\)' "${C_[@]}" submit "$IN/again.csv"
bad 'fields.csv: line 2: 5 fields, the header has 4' "${C_[@]}" submit "$IN/fields.csv"
bad 'quote.csv: line 2: unterminated quoted field' "${C_[@]}" submit "$IN/quote.csv"
bad '<stdin>: line 1: the header needs the columns'        sh -c '"$@" <"$0"' "$IN/garbage.txt" "${C_[@]}" submit -

# ---- evaluate, report, recommend ----
for node in C_ P_; do
    eval "cmd=(\"\${$node[@]}\")"
    bad '--year YEAR is required'            "${cmd[@]}" evaluate
    bad '--year abc: expected a year'        "${cmd[@]}" evaluate --year abc
    bad '--year 2018x: expected a year'      "${cmd[@]}" evaluate --year 2018x
    bad '--year needs a value'               "${cmd[@]}" evaluate --year
    bad '--year 2030: programme yunnan-2017 covers 2017-2020' "${cmd[@]}" evaluate --year 2030
    bad '--year given twice'                 "${cmd[@]}" evaluate --year 2018 --year 2019
done
bad '--format pdf: expected json, csv, html or xlsx' "${P_[@]}" evaluate --year 2018 --format pdf
bad '--format pdf: expected json, csv, html or xlsx' "${P_[@]}" evaluate --year 2018 --format pdf --out "$NEW/out.pdf"
bad 'county-node evaluate does not take --format' "${C_[@]}" evaluate --year 2018 --format csv
for verb in recommend report; do
    bad '--year YEAR is required'            "${H_[@]}" $verb
    bad '--year abc: expected a year'        "${H_[@]}" $verb --year abc
    bad '--year 1800: expected a year'       "${H_[@]}" $verb --year 1800
    bad '--year 2030: programme yunnan-2017 covers 2017-2020' "${H_[@]}" $verb --year 2030
done
bad '--year 2030: programme yunnan-2017 covers 2017-2020' "${H_[@]}" recommend --year 2030 --confirm
bad '--year YEAR is required'                "${H_[@]}" recommend --confirm
bad '--override goes with --confirm'         "${H_[@]}" recommend --year 2018 --override

# ---- inspect (hub, province) ----
echo '{"unit":"530302","year":2018,"values":{"1.1":true}}' >"$IN/insp_other.json"
echo '{"year":2018,"values":{"1.1":true}}' >"$IN/insp_nounit.json"
echo '{"unit":"530102","year":2018,"values":{}}' >"$IN/insp_novalues.json"
echo '{"unit":"530102","year":2018,"values":{"9.9":true}}' >"$IN/insp_unknown.json"
echo '{"unit":"530102","year":2030,"values":{"1.1":true}}' >"$IN/insp_year.json"
echo '{"unit":"110101","year":2018,"values":{"1.1":true}}' >"$IN/insp_foreign.json"
for node in H_ P_; do
    eval "cmd=(\"\${$node[@]}\")"
    bad 'needs a FILE'                       "${cmd[@]}" inspect
    bad "$IN/nonexistent.json: No such file" "${cmd[@]}" inspect "$IN/nonexistent.json"
    bad "$IN/garbage.txt: line 1: the header needs the columns year, criterion and value" "${cmd[@]}" inspect "$IN/garbage.txt"
    bad "$IN/syntax.json: line 2, column [0-9]+" "${cmd[@]}" inspect "$IN/syntax.json"
    bad 'insp_nounit.json: \$.unit: missing'  "${cmd[@]}" inspect "$IN/insp_nounit.json"
    bad 'insp_novalues.json: the inspection gives no values' "${cmd[@]}" inspect "$IN/insp_novalues.json"
    bad 'insp_unknown.json: \$.values\["9.9"\]: criterion 9.9: unknown criterion' "${cmd[@]}" inspect "$IN/insp_unknown.json"
    bad 'insp_year.json: \$.year: year 2030 is outside' "${cmd[@]}" inspect "$IN/insp_year.json"
    bad 'insp_foreign.json: \$.unit: unit 110101 is not in the programme' "${cmd[@]}" inspect "$IN/insp_foreign.json"
    bad 'unitpref.json: \$.unit: unit 530100 .* is a prefecture' "${cmd[@]}" inspect "$IN/unitpref.json"
done
bad 'insp_other.json: unit 530302: not a unit under 530100' "${H_[@]}" inspect "$IN/insp_other.json"

# ---- return (hub) ----
bad '--unit CODE is required'                "${H_[@]}" return --year 2018 --reason why
bad '--year YEAR is required'                "${H_[@]}" return --unit 530102 --reason why
bad '--reason TEXT is required'              "${H_[@]}" return --unit 530102 --year 2018
bad '--reason TEXT is required'              "${H_[@]}" return --unit 530102 --year 2018 --reason ""
bad '--year abc: expected a year'            "${H_[@]}" return --unit 530102 --year abc --reason why
bad '--unit 999999: not a unit under prefecture 530100' "${H_[@]}" return --unit 999999 --year 2018 --reason why
bad '--unit 530302: not a unit under prefecture 530100' "${H_[@]}" return --unit 530302 --year 2018 --reason why
bad '--unit 530100: not a unit under prefecture 530100' "${H_[@]}" return --unit 530100 --year 2018 --reason why
# The hub has no report of 530102 (no daemon ran): nothing to return.
bad '--unit 530102 --year 2018: no report of that unit-year' "${H_[@]}" return --unit 530102 --year 2018 --reason why
bad '--unit 530103 --year 2019: no report of that unit-year' "${H_[@]}" return --unit 530103 --year 2019 --reason why

# ---- publish (province) ----
SRC=${SHIFAN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
yunnan=$SRC/libshifan/data/programme-yunnan-2017.json
jq '.standard.criteria[3].op = ">"' "$yunnan" >"$IN/prog_op.json"
jq '.revision = 2 | .units[3].parent = "539999"' "$yunnan" >"$IN/prog_parent.json"
jq '.revision = 2 | .colour = "red"' "$yunnan" >"$IN/prog_key.json"
jq '.revision = 2 | del(.id)' "$yunnan" >"$IN/prog_noid.json"
bad 'needs a FILE'                           "${P_[@]}" publish
bad "$IN/nonexistent.json: cannot open"      "${P_[@]}" publish "$IN/nonexistent.json"
bad "$IN/empty.json: line 1, column 0: '\\[' or '\\{' expected near end of file" "${P_[@]}" publish "$IN/empty.json"
bad "$IN/garbage.txt: line 1, column 5: '\\[' or '\\{' expected near 'hello'" "${P_[@]}" publish "$IN/garbage.txt"
bad "$IN/syntax.json: line 2, column [0-9]+" "${P_[@]}" publish "$IN/syntax.json"
bad 'prog_op.json: \$.standard.criteria\[3\].op: ">": expected' "${P_[@]}" publish "$IN/prog_op.json"
bad 'prog_parent.json: \$.units\[3\].parent: unknown parent "539999"' "${P_[@]}" publish "$IN/prog_parent.json"
bad 'prog_key.json: \$.colour'               "${P_[@]}" publish "$IN/prog_key.json"
bad 'prog_noid.json: \$.id: missing'         "${P_[@]}" publish "$IN/prog_noid.json"
bad 'programme-yunnan-2017.json: revision 1 is not newer than the programme in use' "${P_[@]}" publish "$yunnan"
bad 'qinhuangdao-2018.json: its root unit is 130000, but this province is 530000' "${P_[@]}" publish "$SRC/programmes/qinhuangdao-2018.json"
note "$cases bad-input cases: exit 2, a message naming the culprit, nothing changed"

# ---- accepted: help, and input that looks odd but is fine ----
for prog in county-node prefecture-hub province-core; do
    expect 0 '' "$BIN/$prog" --help
    grep -q "usage: $prog" "$WORK/out" || fail "$prog --help printed no usage"
    expect 0 '' "$BIN/$prog" --data "$C" status --help
    grep -q "usage: $prog" "$WORK/out" || fail "$prog status --help printed no usage"
done
# Options in any order: the same JSON status of this county, not some other output.
for args in "--data $C --json status" "status --json --data $C"; do
    expect 0 '' "$BIN/county-node" $args
    jq -e '.role == "county" and .code == "530102" and .reports == 1 and .queued == 2' "$WORK/out" >/dev/null ||
        fail "county-node $args printed: $(cat "$WORK/out")"
done
# A CSV saved by Excel with a UTF-8 BOM is accepted, and adds exactly one version
# (it gives two criteria: the blanks are confirmed with --allow-blank).
before=$(status_field county-node "$C" .reports)
queued_before=$(status_field county-node "$C" .queued)
rc=0
county --data "$C" submit --allow-blank "$IN/bom.csv" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/err" >&2; fail "a CSV with a BOM exited $rc"; }
grep -qE '^530102-2018-v2-' "$WORK/out" || fail "a CSV with a BOM printed no report id: $(cat "$WORK/out")"
[ "$(status_field county-node "$C" .reports)" -eq $((before + 1)) ] || fail "the BOM CSV did not add one version"
[ "$(status_field county-node "$C" .queued)" -eq $((queued_before + 1)) ] || fail "the BOM CSV was not queued"
# Its rows were read into the right criteria (the BOM did not eat the first column).
[ "$(county --data "$C" evaluate --year 2018 --json | jq -c '.units[0] | [.version, [.criteria[] | select(.value != null) | {id, value}]]')" = \
    '[2,[{"id":"1.1","value":true},{"id":"2.1","value":{"num":912,"den":1000}}]]' ] ||
    fail "the BOM CSV's values: $(county --data "$C" evaluate --year 2018 --json | jq -c '[.units[0].criteria[] | select(.value != null) | {id, value}]')"
note "--help anywhere exits 0; a UTF-8 BOM CSV is accepted"
