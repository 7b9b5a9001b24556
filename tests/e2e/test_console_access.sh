#!/usr/bin/env bash
# Access to the console (docs/console.md, "Access"): beyond loopback only
# with an operator account (the refusal names the verb that makes one); on
# loopback with no account the console is open; once an account exists
# every page and API needs a login, a wrong password is 401, the right one a
# cookie that is HttpOnly and SameSite=Strict, a change without the
# session's CSRF token is 403, with it 200 and an audit entry naming the
# operator (audit --json, GET /api/audit); logout ends the session.
# (Tests bind 127.0.0.1 only: the non-loopback case is its refusal.)
source "$(dirname "$0")/lib.sh"

# req METHOD PATH [curl args...]: the body; the status in $WORK/status.
req() {
    local method=$1 path=$2
    shift 2
    curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" \
        -b "$WORK/jar" -c "$WORK/jar" "$@" "http://127.0.0.1:$PORT$path" >"$WORK/status"
    cat "$WORK/body"
}
status_is() { [ "$(cat "$WORK/status")" = "$1" ] || fail "$2: HTTP $(cat "$WORK/status"), not $1: $(cat "$WORK/body")"; }
json=(-H 'Content-Type: application/json')
draft='{"year":2018,"values":{"1.1":true}}'
answers() { curl -s -o /dev/null "http://127.0.0.1:$PORT/api/node"; }

setup_tree "530100:530102"
PORT=$(free_port)
C="$WORK/530102"

note "no account: a non-loopback address is refused, naming the verb that makes one"
if county --data "$C" run --http "0.0.0.0:$PORT" 2>"$WORK/err"; then fail "0.0.0.0 started"; else rc=$?; fi
[ "$rc" = 2 ] || fail "run --http 0.0.0.0: exit $rc"
grep -q "no operator account.*county-node --data DIR operator add --name NAME" "$WORK/err" ||
    fail "the refusal said: $(cat "$WORK/err")"
hub --data "$WORK/530100" run --http "192.168.1.10:$PORT" 2>"$WORK/err" && fail "the hub started"
grep -q "prefecture-hub --data DIR operator add" "$WORK/err" || fail "the hub said: $(cat "$WORK/err")"

note "no account, loopback: the console is open as before"
# The program itself in the background, not the `county` shell function: $!
# must be the daemon's PID, not a subshell's whose death would orphan it.
"$BIN/county-node" --data "$C" run --http "127.0.0.1:$PORT" >>"$WORK/county.log" 2>&1 &
PIDS[county]=$!
ALL_PIDS+=("$!")
wait_until 10 answers || fail "the console does not answer"
[ "$(req GET /api/session | jq -r .login_required)" = false ] || fail "open console: $(cat "$WORK/body")"
req POST "/api/county/draft?year=2018" "${json[@]}" --data-binary "$draft" >/dev/null
status_is 200 "a draft on the open console"

note "an account made while the daemon runs: every page and API needs a login now"
printf 'short\n' | county --data "$C" operator add --name 张三 2>"$WORK/err" && fail "a 5-byte password was taken"
grep -q "8 to 1024 bytes" "$WORK/err" || fail "short password: $(cat "$WORK/err")"
county --data "$C" operator add --name 张三 --password x 2>/dev/null && fail "a password on the command line was taken"
printf 'correct horse battery\n' | county --data "$C" operator add --name 张三 >/dev/null
printf 'correct horse battery\n' | county --data "$C" operator add --name 张三 2>"$WORK/err" && fail "added twice"
grep -q "exists" "$WORK/err" || fail "added twice: $(cat "$WORK/err")"
[ "$(county --data "$C" operator list --json | jq -r '.[0].name')" = 张三 ] || fail "operator list"
for path in / /api/node "/api/county/form?year=2018" /api/audit /static/county.js; do
    req GET "$path" >/dev/null
    status_is 401 "GET $path without a login"
done
req GET / | grep -q 'id="login"' || fail "/ without a login is not the login page"
req GET /static/login.js >/dev/null
status_is 200 "the login page's script"
req POST "/api/county/draft?year=2018" "${json[@]}" --data-binary "$draft" >/dev/null
status_is 401 "a draft without a login"

note "a wrong password and an unknown name: 401, alike"
req POST /api/login "${json[@]}" --data-binary '{"name":"张三","password":"wrong horse"}' >/dev/null
status_is 401 "a wrong password"
msg_wrong=$(cat "$WORK/body")
req POST /api/login "${json[@]}" --data-binary '{"name":"nobody","password":"correct horse battery"}' >/dev/null
status_is 401 "an unknown name"
[ "$(cat "$WORK/body")" = "$msg_wrong" ] || fail "an unknown name is told apart: $(cat "$WORK/body")"
grep -qi '^set-cookie' "$WORK/headers" && fail "a failed login set a cookie"

note "the right password: a cookie that is HttpOnly and SameSite=Strict"
req POST /api/login "${json[@]}" --data-binary '{"name":"张三","password":"correct horse battery"}' >/dev/null
status_is 200 "the right password"
cookie=$(grep -i '^set-cookie:' "$WORK/headers" | tr -d '\r')
grep -q 'shifan_session=[0-9a-f]\{64\};' <<<"$cookie" || fail "cookie: $cookie"
grep -q 'HttpOnly' <<<"$cookie" || fail "cookie not HttpOnly: $cookie"
grep -q 'SameSite=Strict' <<<"$cookie" || fail "cookie not SameSite=Strict: $cookie"
grep -q 'Path=/' <<<"$cookie" || fail "cookie without Path=/: $cookie"
req GET /api/node >/dev/null
status_is 200 "GET /api/node logged in"
token=$(req GET /api/session | jq -r .csrf_token)
[ "$(jq -r .operator "$WORK/body")" = 张三 ] || fail "session: $(cat "$WORK/body")"
[ "${#token}" = 64 ] || fail "CSRF token: $token"

note "a change without the CSRF token (or with a wrong one): 403, nothing stored"
saved_before=$(req GET "/api/county/form?year=2018" | jq -r .draft.saved_at)
req POST "/api/county/draft?year=2018" "${json[@]}" --data-binary '{"year":2018,"values":{}}' >/dev/null
status_is 403 "a draft without the CSRF token"
grep -q "X-CSRF-Token" "$WORK/body" || fail "the 403 does not say why: $(cat "$WORK/body")"
wrong=${token%?}0
[ "$wrong" != "$token" ] || wrong=${token%?}1
req POST /api/county/submit "${json[@]}" -H "X-CSRF-Token: $wrong" \
    --data-binary "$(report_json 530102 2018 1)" >/dev/null
status_is 403 "a submit with a wrong CSRF token"
[ "$(county --data "$C" list --json | jq length)" = 0 ] || fail "a refused submit stored a version"

note "with the token: 200, and the audit trail names the operator"
req POST /api/county/submit "${json[@]}" -H "X-CSRF-Token: $token" \
    --data-binary "$(report_json 530102 2018 1)" >/dev/null
status_is 200 "a submit with the CSRF token"
id=$(jq -r .report_id "$WORK/body")
req POST /api/county/check "${json[@]}" -H "X-CSRF-Token: $token" \
    --data-binary "$(report_json 530102 2018 1)" >/dev/null
status_is 200 "a check with the CSRF token"
county --data "$C" audit --json >"$WORK/audit.json"
jq -e --arg id "$id" '[.[] | select(.operator == "张三" and .action == "county/submit" and .target == $id and .node == "530102")] | length == 1' \
    "$WORK/audit.json" >/dev/null || fail "no audit entry of the submit by 张三: $(cat "$WORK/audit.json")"
jq -e '[.[] | select(.action == "county/draft" and .operator == "(no login)")] | length == 1' \
    "$WORK/audit.json" >/dev/null || fail "the open console's draft is not in the trail"
jq -e '[.[] | select(.action == "operator/add" and .target == "张三")] | length == 1' \
    "$WORK/audit.json" >/dev/null || fail "operator add is not in the trail"
jq -e '[.[] | select(.action == "county/check")] | length == 0' "$WORK/audit.json" >/dev/null ||
    fail "a check, which changes nothing, is in the trail"
[ "$(req GET /api/audit | jq -r '.entries[-1].target')" = "$id" ] || fail "GET /api/audit: $(cat "$WORK/body")"
county --data "$C" audit | grep -q "张三.*county/submit.*$id" || fail "audit: $(county --data "$C" audit)"
grep -q "console: county/submit by 张三: $id" "$WORK/county.log" || fail "no log line of the submit"

note "logout ends the session; a removed operator's session ends too (another account left)"
req POST /api/logout "${json[@]}" -H "X-CSRF-Token: $token" --data-binary '{}' >/dev/null
status_is 200 "logout"
req GET /api/node >/dev/null
status_is 401 "after logout"
req POST /api/login "${json[@]}" --data-binary '{"name":"张三","password":"correct horse battery"}' >/dev/null
status_is 200 "a second login"
printf 'another password\n' | county --data "$C" operator add --name li >/dev/null
county --data "$C" operator remove --name 张三 >/dev/null
req GET /api/node >/dev/null
status_is 401 "the session of a removed operator"

note "guessing: after 5 failed logins the name waits (429)"
for _ in 1 2 3 4 5; do
    req POST /api/login "${json[@]}" --data-binary '{"name":"li","password":"guess guess"}' >/dev/null
    status_is 401 "a guess"
done
req POST /api/login "${json[@]}" --data-binary '{"name":"li","password":"another password"}' >/dev/null
status_is 429 "the sixth try"

stop county
echo "ok: non-loopback refused without an account, open on loopback without one, 401 without a login or with a wrong password, HttpOnly SameSite=Strict cookie, 403 without the CSRF token, the audit trail names the operator, logout, removal, lockout"
