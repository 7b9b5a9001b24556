#!/usr/bin/env bash
# Issue 13: keys a person can handle and the operator's verbs. A tree wired
# with --key-file, --upstream-key-file (the line `key` prints, a node.public,
# a hex key) and hex --key carries a report to the province; both key forms,
# or neither, or a file with no key, is a usage error. `key` keeps stdout the
# one Z85 line. --version on every program; `programme --export` gives a
# document that publishes once its revision is raised; text `status` shows
# returns, refused, the programme revision and how long the queue has waited.
source "$(dirname "$0")/lib.sh"

P="$WORK/province" H="$WORK/530100" C="$WORK/530102"
# usage_error PATTERN COMMAND...: exit 2, PATTERN on stderr, nothing on stdout.
usage_error() {
    local pattern=$1 rc=0
    shift
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "exit $rc, not 2: $*"
    grep -q -- "$pattern" "$WORK/err" || fail "no '$pattern' in: $(cat "$WORK/err")"
    [ ! -s "$WORK/out" ] || fail "printed on bad input: $(cat "$WORK/out")"
}
hex_of() { "$BIN/$1" --data "$2" key 2>&1 >/dev/null | sed -n 's/^public key (hex): //p'; }

# 1. --version: the program, "(Shifan)" and project()'s version; exit 0.
for prog in county-node prefecture-hub province-core; do
    "$BIN/$prog" --version >"$WORK/out" || fail "$prog --version failed"
    grep -qxE "$prog \(Shifan\) [0-9]+\.[0-9]+\.[0-9]+" "$WORK/out" ||
        fail "$prog --version printed: $(cat "$WORK/out")"
    "$BIN/$prog" --help | grep -qE '^  --version +print the program and its version' ||
        fail "$prog --help does not list --version"
done
note "--version on all three programs"

# 2. Keys. `key` prints the Z85 line alone on stdout, its hex on stderr.
PROVINCE_PORT=$(free_port) HUB_PORT=$(free_port)
province --data "$P" init --listen "tcp://127.0.0.1:$PROVINCE_PORT" >/dev/null
province --data "$P" key >"$WORK/province.key" 2>"$WORK/province.key.err"
[ "$(wc -l <"$WORK/province.key")" -eq 1 ] && [ "$(wc -c <"$WORK/province.key")" -eq 41 ] ||
    fail "key: stdout is not the one Z85 line: $(cat "$WORK/province.key")"
province_hex=$(sed -n 's/^public key (hex): //p' "$WORK/province.key.err")
[[ $province_hex =~ ^[0-9a-f]{64}$ ]] || fail "key: no hex line on stderr: $(cat "$WORK/province.key.err")"
[ "$(province --data "$P" key --json | jq -r .curve_hex)" = "$province_hex" ] ||
    fail "key --json: curve_hex differs from the stderr line"
[ "$(province --data "$P" key --json | jq -r .curve)" = "$(cat "$WORK/province.key")" ] ||
    fail "key --json: curve differs from stdout"

# The hub: the province's key from the file `key` wrote.
hub --data "$H" init --code 530100 --listen "tcp://127.0.0.1:$HUB_PORT" \
    --upstream "tcp://127.0.0.1:$PROVINCE_PORT" --upstream-key-file "$WORK/province.key" >/dev/null ||
    fail "hub init --upstream-key-file failed"
usage_error "error: give --key KEY or --key-file FILE, not both" \
    province --data "$P" allow --code 530100 --key "$(hex_of prefecture-hub "$H")" \
    --key-file "$H/keys/node.public"
usage_error "allow needs --code CODE and --key KEY (or --key-file FILE)" \
    province --data "$P" allow --code 530100
echo 'not a key' >"$WORK/junk.key"
usage_error "error: --key-file $WORK/junk.key: expected one public key" \
    province --data "$P" allow --code 530100 --key-file "$WORK/junk.key"
usage_error "error: $WORK/missing.key: No such file" \
    province --data "$P" allow --code 530100 --key-file "$WORK/missing.key"
# The hex form, unquoted: nothing in it a shell would touch.
province --data "$P" allow --code 530100 --key $(hex_of prefecture-hub "$H") >/dev/null ||
    fail "allow --key HEX failed"

# The county: the hub's node.public itself; both forms and a junk file refused.
usage_error "error: give --upstream-key KEY or --upstream-key-file FILE, not both" \
    county --data "$C" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key "$(hex_of prefecture-hub "$H")" --upstream-key-file "$H/keys/node.public"
usage_error "error: --upstream-key-file $WORK/junk.key: expected one public key" \
    county --data "$C" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key-file "$WORK/junk.key"
usage_error "error: --upstream-key: expected" \
    county --data "$C" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT"
[ ! -e "$C" ] || fail "a refused init left $C behind"
# (At a set time: its signing key's announcement is the first item it queues.)
SHIFAN_NOW=2019-01-15T09:00:00+08:00 \
    county --data "$C" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key-file "$H/keys/node.public" >/dev/null || fail "county init --upstream-key-file failed"
county --data "$C" key >"$WORK/county.key" 2>/dev/null
hub --data "$H" allow --code 530102 --key-file "$WORK/county.key" >/dev/null ||
    fail "allow --key-file failed"
# set-upstream from a file holding the hex form: the same key, unchanged.
hex_of prefecture-hub "$H" >"$WORK/hub.hex"
county --data "$C" set-upstream --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key-file "$WORK/hub.hex" >"$WORK/out" || fail "set-upstream --upstream-key-file failed"
grep -qFx "upstream key: $(hub --data "$H" key 2>/dev/null) (unchanged)" "$WORK/out" ||
    fail "set-upstream output: $(cat "$WORK/out")"
usage_error "error: give --upstream-key KEY or --upstream-key-file FILE, not both" \
    county --data "$C" set-upstream --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key-file "$WORK/hub.hex" --upstream-key "$(cat "$WORK/hub.hex")"
note "keys: file, node.public and hex forms accepted; both, neither or junk: exit 2"

# 3. Offline, the key announcement and a report wait: text status says since
#    when the oldest (the announcement, made at init) waits.
SHIFAN_NOW=2019-01-15T10:00:00+08:00 \
    county --data "$C" submit <(report_json 530102 2018 1) >/dev/null 2>&1 || fail "submit failed"
county --data "$C" status >"$WORK/status"
grep -qF "county 530102 (programme yunnan-2017 revision 1), daemon stopped" "$WORK/status" ||
    fail "status: $(cat "$WORK/status")"
for line in "  queued upstream:  2" "  returns:          0" "  refused:          0" \
    "  oldest queued item waiting since 2019-01-15T09:00:00+08:00"; do
    grep -qFx "$line" "$WORK/status" || fail "status lacks '$line': $(cat "$WORK/status")"
done
[ "$(status_field county-node "$C" .queue_oldest)" = "2019-01-15T09:00:00+08:00" ] ||
    fail "status --json: queue_oldest is $(status_field county-node "$C" .queue_oldest)"

# The link works with keys given these ways: the report reaches the province.
start province province-core "$P"
start hub prefecture-hub "$H"
start county county-node "$C"
wait_until 20 field_is province-core "$P" .reports 1 || fail "the report did not reach the province"
wait_until 5 field_is county-node "$C" .queued 0 || fail "the county's queue did not drain"
[ "$(status_field county-node "$C" .queue_oldest)" = null ] || fail "queue_oldest is not null when empty"
! county --data "$C" status | grep -q "oldest queued" || fail "an empty queue has an oldest item"
note "a report went county -> hub -> province over links keyed from files and hex"

# 4. programme --export, raise the revision, publish: status shows it.
province --data "$P" programme --export "$WORK/programme.json" >"$WORK/out" || fail "export failed"
grep -qFx "exported yunnan-2017 revision 1 to $WORK/programme.json" "$WORK/out" ||
    fail "export printed: $(cat "$WORK/out")"
[ "$(jq -r .revision "$WORK/programme.json")" = 1 ] || fail "the exported document is not revision 1"
usage_error "error: --export $WORK/programme.json: the file exists (--force replaces it)" \
    province --data "$P" programme --export "$WORK/programme.json"
jq '.revision += 1' "$WORK/programme.json" >"$WORK/programme-2.json"
province --data "$P" publish "$WORK/programme-2.json" >/dev/null || fail "publishing the bumped export failed"
province --data "$P" status | grep -qF "province 530000 (programme yunnan-2017 revision 2)" ||
    fail "province status: $(province --data "$P" status)"
province --data "$P" programme --export "$WORK/programme.json" --force >"$WORK/out" ||
    fail "export --force failed"
[ "$(jq -r .revision "$WORK/programme.json")" = 2 ] || fail "export --force did not write revision 2"
wait_until 20 field_is county-node "$C" .programme_revision 2 || fail "revision 2 did not reach the county"
county --data "$C" status | grep -qF "(programme yunnan-2017 revision 2)" ||
    fail "county status: $(county --data "$C" status)"
note "programme exported, revision raised, published: revision 2 in force down to the county"
