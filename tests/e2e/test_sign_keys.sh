#!/usr/bin/env bash
# Every program's signing pair (docs/signing.md, "Keys"): init makes
# keys/sign.secret (0600) and keys/sign.public; `key` keeps the CURVE key
# alone on stdout (scripts take all of it) and shows the signing key and its
# fingerprint after it, `key --json` all three, the fingerprint as python
# computes it; a data directory made before signing keys (the two files
# deleted) gets a pair the next time a program opens it, logged once; a
# damaged secret is refused, not replaced.
source "$(dirname "$0")/lib.sh"

mode_of() { stat -c %a "$1"; }

# The fingerprint of a hex public key, computed apart from the programs.
fingerprint_of() {
    python3 -c 'import base64, hashlib, sys
d = hashlib.blake2b(bytes.fromhex(sys.argv[1]), digest_size=32).digest()[:10]
b = base64.b32encode(d).decode()
print("-".join(b[i:i + 4] for i in range(0, 16, 4)))' "$1"
}

check_key_output() { # DIR PROGRAM
    local dir=$1 prog=$2 json sign fingerprint
    "$BIN/$prog" --data "$dir" key >"$WORK/key.out" 2>"$WORK/key.err"
    [ "$(wc -l <"$WORK/key.out")" -eq 1 ] || fail "$prog key: stdout is not one line: $(cat "$WORK/key.out")"
    [ "$(wc -c <"$WORK/key.out")" -eq 41 ] || fail "$prog key: stdout is not the 40-character key"
    [ "$(cat "$WORK/key.out")" = "$(cat "$dir/keys/node.public")" ] || fail "$prog key: not node.public"
    json=$("$BIN/$prog" --data "$dir" key --json)
    [ "$(jq -r .curve <<<"$json")" = "$(cat "$WORK/key.out")" ] || fail "$prog key --json: curve"
    sign=$(jq -r .sign <<<"$json")
    [ "$sign" = "$(cat "$dir/keys/sign.public")" ] || fail "$prog key --json: sign is not sign.public"
    fingerprint=$(jq -r .fingerprint <<<"$json")
    [ "$fingerprint" = "$(fingerprint_of "$sign")" ] ||
        fail "$prog: fingerprint $fingerprint, python says $(fingerprint_of "$sign")"
    grep -qx "signing key: $sign" "$WORK/key.err" || fail "$prog key: no signing key line"
    grep -qx "signing key fingerprint: $fingerprint" "$WORK/key.err" ||
        fail "$prog key: no fingerprint line: $(cat "$WORK/key.err")"
    echo "$fingerprint"
}

for prog in province-core prefecture-hub county-node; do
    dir=$WORK/$prog
    case $prog in
    county-node) opts=(--code 530102 --upstream tcp://127.0.0.1:1 --upstream-key "$(province --data "$WORK/province-core" key 2>/dev/null)") ;;
    prefecture-hub) opts=(--code 530100 --listen tcp://127.0.0.1:1 --upstream tcp://127.0.0.1:2
        --upstream-key "$(province --data "$WORK/province-core" key 2>/dev/null)") ;;
    province-core) opts=(--listen tcp://127.0.0.1:1) ;;
    esac
    [ "$prog" != county-node ] || [ -d "$WORK/province-core" ] || fail "order: the province first"
    "$BIN/$prog" --data "$dir" init "${opts[@]}" >/dev/null
    [ "$(mode_of "$dir/keys/sign.secret")" = 600 ] || fail "$prog init: sign.secret mode $(mode_of "$dir/keys/sign.secret")"
    [ -s "$dir/keys/sign.public" ] || fail "$prog init: no sign.public"
    first=$(check_key_output "$dir" "$prog")
    [ "$(check_key_output "$dir" "$prog")" = "$first" ] || fail "$prog: the fingerprint changed"
    note "$prog: init made the signing pair; key shows fingerprint $first"

    # A directory made before signing keys: the next command makes a pair, once.
    rm "$dir/keys/sign.secret" "$dir/keys/sign.public"
    "$BIN/$prog" --data "$dir" status >/dev/null 2>"$WORK/open.err"
    grep -q "created a signing key pair in $dir/keys" "$WORK/open.err" ||
        fail "$prog: no log of the new pair: $(cat "$WORK/open.err")"
    [ "$(mode_of "$dir/keys/sign.secret")" = 600 ] || fail "$prog: new sign.secret mode"
    second=$(check_key_output "$dir" "$prog")
    [ "$second" != "$first" ] || fail "$prog: the new pair has the old fingerprint"
    "$BIN/$prog" --data "$dir" status >/dev/null 2>"$WORK/open.err"
    ! grep -q "created a signing key pair" "$WORK/open.err" || fail "$prog: a second pair was made"
    note "$prog: an old data directory got a pair on open ($second), logged once"
done

# A damaged secret: refused with a sentence, exit 1, and left as it was.
dir=$WORK/county-node
echo "not a key" >"$dir/keys/sign.secret"
rc=0
county --data "$dir" key >/dev/null 2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 1 ] || fail "a damaged sign.secret: exit $rc"
grep -q "sign.secret is not a signing secret key" "$WORK/bad.err" || fail "no reason: $(cat "$WORK/bad.err")"
[ "$(cat "$dir/keys/sign.secret")" = "not a key" ] || fail "the damaged secret was replaced"
chmod 640 "$dir/keys/sign.secret"
county --data "$dir" key >/dev/null 2>"$WORK/bad.err" && fail "a readable sign.secret was accepted"
grep -q "run chmod 600" "$WORK/bad.err" || fail "no chmod advice: $(cat "$WORK/bad.err")"
note "a damaged or readable sign.secret is refused and kept"
echo "PASS"
