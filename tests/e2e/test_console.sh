#!/usr/bin/env bash
# The console of run --http, over HTTP with the real daemons (the browser
# test drives the county's page itself): only loopback is accepted, with the
# reason; a port in use is a clear error; the county's API gives the CLI's
# message for the same bad file, stores nothing on a check, refuses blank
# criteria unless confirmed, imports a filled CSV or XLSX as `submit FILE`
# reads it and downloads the form as the filled template, shows each
# version's journey (queued, at the prefecture, returned with the reason),
# and the hub serves its own page.
source "$(dirname "$0")/lib.sh"

# http METHOD PATH [BODY]: the answer's body; its status in $WORK/status.
http() {
    local method=$1 path=$2
    shift 2
    curl -s -o "$WORK/body" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
        ${1+--data-binary "$1"} "http://127.0.0.1:$PORT$path" >"$WORK/status"
    cat "$WORK/body"
}
answers() { curl -sf "http://127.0.0.1:$1/api/node" >/dev/null; }

setup_tree "530100:530102"
PORT=$(free_port)
HUB_HTTP=$(free_port)

note "anything but loopback is refused at start while there is no operator account, with the reason"
for address in 0.0.0.0:$PORT 192.168.1.10:$PORT "[::]:$PORT"; do
    if county --data "$WORK/530102" run --http "$address" 2>"$WORK/err"; then
        fail "run --http $address started"
    else
        rc=$?
    fi
    [ "$rc" = 2 ] || fail "run --http $address: exit $rc, not 2"
    grep -q "not a loopback address.*no operator account.*operator add --name NAME" "$WORK/err" ||
        fail "run --http $address said: $(cat "$WORK/err")"
done
county --data "$WORK/530102" run --http 127.0.0.1:http 2>"$WORK/err" && fail "a port that is no number was taken"
grep -q "expected 127.0.0.1:PORT" "$WORK/err" || fail "bad port: $(cat "$WORK/err")"

"$BIN/prefecture-hub" --data "$WORK/530100" run --http "127.0.0.1:$HUB_HTTP" >>"$WORK/hub.log" 2>&1 &
PIDS[hub]=$!
ALL_PIDS+=("$!")
"$BIN/county-node" --data "$WORK/530102" run --http "127.0.0.1:$PORT" >>"$WORK/county.log" 2>&1 &
PIDS[county]=$!
ALL_PIDS+=("$!")
wait_until 10 answers "$PORT" || fail "the county's console does not answer"
wait_until 10 answers "$HUB_HTTP" || fail "the hub's console does not answer"

note "a port in use is a clear error"
if province --data "$WORK/province" run --http "127.0.0.1:$PORT" 2>"$WORK/err"; then
    fail "a second console on a port in use started"
fi
grep -q "cannot listen there" "$WORK/err" || fail "port in use: $(cat "$WORK/err")"

note "the hub serves its own page and no county API"
curl -sf "http://127.0.0.1:$HUB_HTTP/" | grep -q '/static/hub.js' || fail "the hub's page"
[ "$(curl -s "http://127.0.0.1:$HUB_HTTP/api/node" | jq -r .role)" = prefecture ] || fail "hub /api/node"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HUB_HTTP/api/county/form")" = 404 ] ||
    fail "the hub answers the county's API"

note "a bad value: the console's message is the CLI's for the same file"
report_json 530102 2018 1 | jq -c '.values["2.2"] = {"num": 12, "den": 10}' >"$WORK/bad.json"
county --data "$WORK/530102" submit "$WORK/bad.json" 2>"$WORK/cli.err" && fail "the CLI took a bad report"
cli_message=$(sed -n 's/^error: [^ ]*bad.json: //p' "$WORK/cli.err")
[ -n "$cli_message" ] || fail "the CLI said: $(cat "$WORK/cli.err")"
answer=$(http POST /api/county/check "$(cat "$WORK/bad.json")")
[ "$(cat "$WORK/status")" = 200 ] || fail "check: HTTP $(cat "$WORK/status")"
[ "$(jq -r '.fields["2.2"]' <<<"$answer")" = "form: $cli_message" ] ||
    fail "check said $(jq -r '.fields["2.2"]' <<<"$answer"), the CLI $cli_message"
answer=$(http POST /api/county/submit "$(cat "$WORK/bad.json")")
[ "$(cat "$WORK/status")" = 400 ] || fail "a bad submit: HTTP $(cat "$WORK/status")"

note "a check stores nothing; a good report evaluates as the CLI's self-check"
report_json 530102 2018 1 >"$WORK/good.json"
answer=$(http POST /api/county/check "$(cat "$WORK/good.json")")
[ "$(jq -r .qualified <<<"$answer")" = true ] || fail "check of a good report: $answer"
[ "$(county --data "$WORK/530102" list --json | jq length)" = 0 ] || fail "a check stored a version"

note "blank criteria: named by the check, refused at submit unless confirmed (as --allow-blank)"
jq -c 'del(.values["1.1"])' "$WORK/good.json" >"$WORK/blank.json"
answer=$(http POST /api/county/check "$(cat "$WORK/blank.json")")
[ "$(jq -c .blank <<<"$answer")" = '["1.1"]' ] || fail "check of a blank: $answer"
[ "$(jq -r '.criteria["1.1"].reason' <<<"$answer")" = "未填写，要求 是（缺项按不合格计）" ] ||
    fail "the blank's reason: $answer"
answer=$(http POST /api/county/submit "$(cat "$WORK/blank.json")")
[ "$(cat "$WORK/status")" = 400 ] && [ "$(jq -r .confirm_blank <<<"$answer")" = true ] ||
    fail "a blank submitted unconfirmed: HTTP $(cat "$WORK/status"): $answer"
jq -r .error <<<"$answer" | grep -q "1 项指标未填写：1.1；报告未保存" || fail "the refusal: $answer"
[ "$(county --data "$WORK/530102" list --json | jq length)" = 0 ] || fail "an unconfirmed blank was stored"

note "import: a filled sheet read as submit FILE reads it; download: the template with the form's values"
upload() { # upload FILE NAME: POST the file's bytes as the page does
    curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
        --data-binary "@$1" "http://127.0.0.1:$PORT/api/county/import?name=$2" >"$WORK/status"
    cat "$WORK/body"
}
http POST '/api/county/export?format=csv' "$(cat "$WORK/good.json")" >"$WORK/form.csv"
[ "$(cat "$WORK/status")" = 200 ] || fail "export csv: HTTP $(cat "$WORK/status")"
county --data "$WORK/530102" submit --check "$WORK/form.csv" >"$WORK/cli.check" ||
    fail "the downloaded CSV does not read back: $(cat "$WORK/form.csv")"
tail -c +4 "$WORK/form.csv" | iconv -f UTF-8 -t GB18030 >"$WORK/form-gbk.csv" # no BOM: GBK as Excel saves it
answer=$(upload "$WORK/form-gbk.csv" form-gbk.csv)
[ "$(cat "$WORK/status")" = 200 ] || fail "import of a GB18030 CSV: HTTP $(cat "$WORK/status"): $answer"
[ "$(jq -cS .report.values <<<"$answer")" = "$(jq -cS .values "$WORK/good.json")" ] ||
    fail "the import gave $(jq -c .report.values <<<"$answer")"
[ "$(jq -cS .report.comments <<<"$answer")" = "$(jq -cS .comments "$WORK/good.json")" ] ||
    fail "the import lost comments: $answer"
[ "$(jq -r .note <<<"$answer")" = "" ] || fail "the import skipped columns of the form: $answer"
http POST '/api/county/export?format=xlsx' "$(cat "$WORK/good.json")" >"$WORK/form.xlsx"
answer=$(upload "$WORK/form.xlsx" form.xlsx)
[ "$(jq -cS .report.values <<<"$answer")" = "$(jq -cS .values "$WORK/good.json")" ] ||
    fail "the XLSX download did not import as it was: $answer"
printf 'PK\003\004broken' >"$WORK/broken.xlsx"
answer=$(upload "$WORK/broken.xlsx" broken.xlsx)
(cd "$WORK" && county --data "$WORK/530102" submit broken.xlsx 2>"$WORK/cli.err") && fail "the CLI read a broken workbook"
[ "$(cat "$WORK/status")" = 400 ] && [ "error: $(jq -r .error <<<"$answer")" = "$(cat "$WORK/cli.err")" ] ||
    fail "a broken workbook: the console said $answer, the CLI $(cat "$WORK/cli.err")"
sed 's/530102/530103/' "$WORK/form.csv" >"$WORK/other.csv"
answer=$(upload "$WORK/other.csv" other.csv)
[ "$(cat "$WORK/status")" = 400 ] && jq -r .error <<<"$answer" | grep -q "^other.csv: .*own unit" ||
    fail "another county's sheet: HTTP $(cat "$WORK/status"): $answer"
[ "$(county --data "$WORK/530102" list --json | jq length)" = 0 ] || fail "an import or export stored a version"

note "submit through the console: the journey as list knows it"
answer=$(http POST /api/county/submit "$(cat "$WORK/good.json")")
[ "$(cat "$WORK/status")" = 200 ] || fail "submit: HTTP $(cat "$WORK/status"): $answer"
id=$(jq -r .report_id <<<"$answer")
[ "$(county --data "$WORK/530102" list --json | jq -r '.[0].report_id')" = "$id" ] ||
    fail "list does not show $id"
delivered() { [ "$(http GET '/api/county/history?year=2018' | jq -r '.versions[0].state')" = delivered ]; }
wait_until 15 delivered || fail "the console never showed $id at the prefecture"
hub --data "$WORK/530100" return --unit 530102 --year 2018 --reason "2.1 分母有误" >/dev/null
returned() { [ "$(http GET '/api/county/history?year=2018' | jq -r '.versions[0].return_reason')" = "2.1 分母有误" ]; }
wait_until 15 returned || fail "the console never showed the return's reason"
[ "$(http GET '/api/county/form?year=2018' | jq -r .draft.submitted_version)" = 1 ] ||
    fail "the submitted draft is not marked with its version"

stop county
stop hub
echo "ok: loopback only, port in use, the CLI's message, check stores nothing, blanks confirmed, import/export, queued -> delivered -> returned"
