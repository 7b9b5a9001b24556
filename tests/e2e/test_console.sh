#!/usr/bin/env bash
# The console of run --http, over HTTP with the real daemons (the browser
# test drives the county's page itself): only loopback is accepted, with the
# reason; a port in use is a clear error; the county's API gives the CLI's
# message for the same bad file, stores nothing on a check, shows each
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

note "anything but loopback is refused at start, with the reason"
for address in 0.0.0.0:$PORT 192.168.1.10:$PORT "[::]:$PORT"; do
    if county --data "$WORK/530102" run --http "$address" 2>"$WORK/err"; then
        fail "run --http $address started"
    else
        rc=$?
    fi
    [ "$rc" = 2 ] || fail "run --http $address: exit $rc, not 2"
    grep -q "loopback only.*operator accounts.*not implemented yet" "$WORK/err" ||
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
echo "ok: loopback only, port in use, the CLI's message, check stores nothing, queued -> delivered -> returned"
