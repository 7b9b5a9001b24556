#!/usr/bin/env bash
# Time you can check (docs/signing.md), through the whole chain: a county
# whose link to its hub works delivers a first report with the real clock,
# then submits a report with its clock three days in the past (SHIFAN_NOW);
# its hub receives it at once, having been in contact with it all along,
# so the province's evaluation flags claimed_time_implausible with a
# reason, in JSON and (⚠ and the reason) in HTML. A county that tells the
# truth is checked and not flagged.
#
# Needs the nodes to sign (the county its reports, the hub its receipts
# with claimed_before and session_since) and the province to hold their
# keys: until that is built the reports reach the province unsigned, and
# the test says so and skips (77) rather than pass on nothing.
source "$(dirname "$0")/lib.sh"

REWOUND=530102
HONEST=530103
setup_tree 530100:$REWOUND,$HONEST
start province province-core "$WORK/province"
start hub prefecture-hub "$WORK/530100"
start rewound county-node "$WORK/$REWOUND"
start honest county-node "$WORK/$HONEST"

submit() { # CODE YEAR SEED [SHIFAN_NOW]: submits with the real clock unless given
    if [ -n "${4:-}" ]; then
        report_json "$1" "$2" "$3" | SHIFAN_NOW=$4 county --data "$WORK/$1" submit - >/dev/null 2>&1
    else
        report_json "$1" "$2" "$3" | county --data "$WORK/$1" submit - >/dev/null 2>&1
    fi || fail "submit $1 $2 failed"
}

# 1. The county is in contact with its hub: a first report, real clock.
submit $REWOUND 2017 1
wait_until 20 field_is province-core "$WORK/province" .reports 1 || fail "the first report did not arrive"
note "$REWOUND delivered a report with the real clock"

# 2. Then its clock goes three days back for the next one, while the link works.
three_days_ago=$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%SZ)
submit $REWOUND 2018 2 "$three_days_ago"
submit $HONEST 2018 3
wait_until 20 field_is province-core "$WORK/province" .reports 3 || fail "the 2018 reports did not arrive"
note "$REWOUND submitted a report claimed at $three_days_ago; $HONEST one with the real clock"

province --data "$WORK/province" evaluate --year 2018 --format json --out "$WORK/eval.json" ||
    fail "evaluate failed"
prov() { jq -r --arg code "$1" ".units[] | select(.code == \$code) | .provenance.$2" "$WORK/eval.json"; }
flags() { jq -r --arg code "$1" '.units[] | select(.code == $code) | .flags | join(",")' "$WORK/eval.json"; }

if [ "$(prov $HONEST signed)" = false ]; then
    echo "SKIP: reports reach the province unsigned: the nodes do not sign yet (issue 12)"
    exit 77
fi

# 3. Both are signed by registered keys, received with receipts that verify.
for code in $REWOUND $HONEST; do
    for field in signed verifies registered receipt_verifies time_checked; do
        [ "$(prov $code $field)" = true ] || fail "$code: provenance.$field is $(prov $code $field)"
    done
    [ "$(prov $code signer)" = $code ] || fail "$code: signer $(prov $code signer)"
    [ "$(prov $code received_by)" = 530100 ] || fail "$code: received_by $(prov $code received_by)"
    [ "$(prov $code claimed_before)" != null ] || fail "$code: the hub's receipt has no claimed_before"
done
fingerprint=$(county --data "$WORK/$REWOUND" key --json | jq -r .fingerprint)
[ "$(prov $REWOUND fingerprint)" = "$fingerprint" ] ||
    fail "fingerprint $(prov $REWOUND fingerprint), the county's is $fingerprint"

# 4. The rewound claim is flagged, with its reason; the honest one is not.
[ "$(prov $REWOUND claimed_time_implausible)" = true ] ||
    fail "$REWOUND not flagged: $(prov $REWOUND reason)"
grep -q "claimed_time_implausible" <<<"$(flags $REWOUND)" || fail "$REWOUND flags: $(flags $REWOUND)"
case $(prov $REWOUND verdict) in later_item_first | session_up) ;; *) fail "$REWOUND: verdict $(prov $REWOUND verdict)" ;; esac
reason=$(prov $REWOUND reason)
grep -Eq "^the (hub had already received an item the county made|link was up) [0-9]+ h [0-9]+ min after the claimed time" \
    <<<"$reason" || fail "$REWOUND: reason \"$reason\""
[ "$(prov $HONEST claimed_time_implausible)" = false ] || fail "$HONEST flagged: $(prov $HONEST reason)"
[ "$(prov $HONEST verdict)" = plausible ] || fail "$HONEST: verdict $(prov $HONEST verdict)"
! grep -q "claimed_time_implausible" <<<"$(flags $HONEST)" || fail "$HONEST flags: $(flags $HONEST)"
note "$REWOUND flagged ($reason); $HONEST checked and not flagged"

# 5. The printable page marks the unit and explains it under its table.
province --data "$WORK/province" evaluate --year 2018 --format html --out "$WORK/eval.html" ||
    fail "evaluate --format html failed"
grep -q "申报时间存疑（与州（市）级节点签名的回执不符）" "$WORK/eval.html" || fail "HTML: no legend"
grep -q "（$REWOUND）：州（市）级节点此前已收到该县在申报时间之后\|（$REWOUND）：申报时间之后链路已连通" "$WORK/eval.html" ||
    fail "HTML: no reason for $REWOUND"
! grep -q "（$HONEST）：州（市）级节点此前已收到该县在申报时间之后" "$WORK/eval.html" || fail "HTML: $HONEST explained"
note "HTML: ⚠ and the reason for $REWOUND"
