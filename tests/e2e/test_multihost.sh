#!/usr/bin/env bash
# The three tiers on three "hosts": each daemon in a network namespace of
# its own, made by this test (shifan-prov-<pid>, shifan-hub-<pid>,
# shifan-cty-<pid>), joined by two veth links with private addresses that
# exist only inside those namespaces:
#
#   province 10.213.1.1/30 -- 10.213.1.2/30 hub 10.213.2.1/30 -- 10.213.2.2/30 counties
#
# The hub listens on its county-side address and connects to the
# province's; two counties share the county namespace. Reports flow; the
# hub<->county link goes down (they queue at the counties, whose link is
# not up) and up again; the province<->hub link goes down and up while
# reports are being submitted. In the end the province and the hub hold
# exactly the report ids the counties' `submit` printed, each stored once.
# Skips (77) where it cannot make namespaces (not root, no ip, not allowed).
source "$(dirname "$0")/lib.sh"
require_netns veth

NS_PROV=shifan-prov-$$
NS_HUB=shifan-hub-$$
NS_CTY=shifan-cty-$$
PROV_IP=10.213.1.1 HUB_UP_IP=10.213.1.2 # province <-> hub
HUB_IP=10.213.2.1 CTY_IP=10.213.2.2     # hub <-> counties
PROV_PORT=7401 HUB_PORT=7402            # any port: nothing else listens in these namespaces
COUNTIES="530102 530103"

# The namespaces and links. Each veth end is made inside its namespace, so
# no device or address ever exists outside them; deleting a namespace
# deletes its ends (after the cleanup has killed the daemons in it).
for ns in "$NS_PROV" "$NS_HUB" "$NS_CTY"; do
    ip netns add "$ns" || fail "ip netns add $ns"
    on_cleanup "ip netns del $ns 2>/dev/null"
    ip -n "$ns" link set lo up
done
ip link add p-hub netns "$NS_PROV" type veth peer name h-prov netns "$NS_HUB" ||
    fail "cannot make the veth pair province <-> hub"
ip link add h-cty netns "$NS_HUB" type veth peer name c-hub netns "$NS_CTY" ||
    fail "cannot make the veth pair hub <-> county"
addr() { # NS DEV ADDR
    ip -n "$1" addr add "$3/30" dev "$2"
    ip -n "$1" link set "$2" up
}
addr "$NS_PROV" p-hub "$PROV_IP"
addr "$NS_HUB" h-prov "$HUB_UP_IP"
addr "$NS_HUB" h-cty "$HUB_IP"
addr "$NS_CTY" c-hub "$CTY_IP"
# A link down is both its ends down: no carrier, no route, in flight gone.
link() { # prov-hub|hub-cty up|down
    case $1 in
    prov-hub) ip -n "$NS_PROV" link set p-hub "$2" && ip -n "$NS_HUB" link set h-prov "$2" ;;
    hub-cty) ip -n "$NS_HUB" link set h-cty "$2" && ip -n "$NS_CTY" link set c-hub "$2" ;;
    esac || fail "ip link set $1 $2"
}

# Set up offline (init binds nothing): the addresses are the namespaces'.
P=$WORK/province H=$WORK/530100
province --data "$P" init --listen "tcp://$PROV_IP:$PROV_PORT" >/dev/null
hub --data "$H" init --code 530100 --listen "tcp://$HUB_IP:$HUB_PORT" \
    --upstream "tcp://$PROV_IP:$PROV_PORT" --upstream-key "$(province --data "$P" key)" >/dev/null
province --data "$P" allow --code 530100 --key "$(hub --data "$H" key)" >/dev/null
for c in $COUNTIES; do
    county --data "$WORK/$c" init --code "$c" --upstream "tcp://$HUB_IP:$HUB_PORT" \
        --upstream-key "$(hub --data "$H" key)" >/dev/null
    hub --data "$H" allow --code "$c" --key "$(county --data "$WORK/$c" key)" >/dev/null
done

# Each daemon in its namespace; the PID recorded is the daemon's own.
runs_in() { # PID NS PROGRAM: that PID is PROGRAM's own process, in NS
    local exe
    exe=$(readlink "/proc/$1/exe" 2>/dev/null) && [ "${exe##*/}" = "$3" ] &&
        [ "$(ip netns identify "$1" 2>/dev/null)" = "$2" ]
}
started_in() { # NAME NS PROGRAM (ip netns exec, then lib.sh's wrapper, exec it)
    local pid=${PIDS[$1]}
    wait_until 5 runs_in "$pid" "$2" "$3" ||
        fail "$1: PID $pid runs '$(readlink "/proc/$pid/exe" 2>/dev/null)' in '$(ip netns identify "$pid" 2>/dev/null)', not $3 in $2"
}
start_in "$NS_PROV" province province-core "$P"
start_in "$NS_HUB" hub prefecture-hub "$H"
for c in $COUNTIES; do start_in "$NS_CTY" "county$c" county-node "$WORK/$c"; done
started_in province "$NS_PROV" province-core
started_in hub "$NS_HUB" prefecture-hub
for c in $COUNTIES; do started_in "county$c" "$NS_CTY" county-node; done
note "province $PROV_IP (PID ${PIDS[province]}), hub $HUB_UP_IP/$HUB_IP (PID ${PIDS[hub]}), counties $CTY_IP, each in its namespace"

SEED=0
submit() { # COUNTY: one report of a year 2017..2020; its id goes to ids.all
    SEED=$((SEED + 1))
    report_json "$1" $((2017 + SEED % 4)) "$SEED" | county --data "$WORK/$1" submit - 2>/dev/null \
        >>"$WORK/ids.all" || fail "submit at $1 failed"
}
submitted() { wc -l <"$WORK/ids.all"; }
linked() { field_is "$1" "$2" .link.state up; } # PROGRAM DATA
not_linked() { ! linked "$@"; }

# 1. Reports flow county -> hub -> province across the namespaces.
for c in $COUNTIES; do wait_until 15 linked county-node "$WORK/$c" || fail "county $c: link not up"; done
for c in $COUNTIES; do for _ in 1 2 3; do submit "$c"; done; done
wait_until 15 field_is province-core "$P" .reports "$(submitted)" ||
    fail "the province has $(status_field province-core "$P" .reports) of $(submitted) reports"
note "$(submitted) reports at the province"

# 2. The hub <-> county link down: new reports queue at the counties.
t0=$(now_ms)
link hub-cty down
for c in $COUNTIES; do
    wait_until 15 not_linked county-node "$WORK/$c" || fail "county $c: link still up with its device down"
done
note "hub <-> county down: the counties see their link down after $(($(now_ms) - t0)) ms"
before=$(submitted)
for c in $COUNTIES; do for _ in 1 2 3; do submit "$c"; done; done
sleep 1
for c in $COUNTIES; do
    q=$(status_field county-node "$WORK/$c" .queued)
    s=$(status_field county-node "$WORK/$c" .link.state)
    [ "$q" -eq 3 ] && [ "$s" != up ] || fail "county $c with the link down: queued $q (expected 3), link $s"
done
[ "$(status_field province-core "$P" .reports)" -eq "$before" ] || fail "reports crossed a link that is down"
note "link down: each county queued 3, link $(status_field county-node "$WORK/530102" .link.state)"
t0=$(now_ms)
link hub-cty up
for c in $COUNTIES; do wait_until 20 field_is county-node "$WORK/$c" .queued 0 || fail "county $c did not drain"; done
wait_until 15 field_is province-core "$P" .reports "$(submitted)" ||
    fail "the province has $(status_field province-core "$P" .reports) of $(submitted) reports"
note "hub <-> county up: queues drained, $(submitted) at the province $(($(now_ms) - t0)) ms later"

# 3. The province <-> hub link down and up while reports are submitted
#    (every 0.3 s, alternating counties); the hub queues meanwhile.
hub_queued_max=0 hub_state_down=""
for round in $(seq 1 16); do
    for c in $COUNTIES; do submit "$c"; done
    case $round in
    3) link prov-hub down; note "province <-> hub down after round $round" ;;
    13) link prov-hub up; note "province <-> hub up after round $round" ;;
    esac
    if [ "$round" -ge 4 ] && [ "$round" -le 13 ]; then
        q=$(status_field prefecture-hub "$H" .queued)
        [ "$q" -le "$hub_queued_max" ] || hub_queued_max=$q
        s=$(status_field prefecture-hub "$H" .link.state)
        [ "$s" = up ] || hub_state_down=$s
    fi
    sleep 0.3
done
[ "$hub_queued_max" -gt 0 ] || fail "the hub never queued while its upstream link was down"
[ -n "$hub_state_down" ] || fail "the hub's link stayed up with its upstream device down"
note "while down: the hub queued up to $hub_queued_max, its link $hub_state_down"
wait_until 20 field_is prefecture-hub "$H" .queued 0 || fail "the hub did not drain"
wait_until 15 field_is province-core "$P" .reports "$(submitted)" ||
    fail "the province has $(status_field province-core "$P" .reports) of $(submitted) reports"
for c in $COUNTIES; do wait_until 10 field_is county-node "$WORK/$c" .queued 0 || fail "county $c did not drain"; done

# 4. Nothing lost, nothing twice: every id submitted, at the hub and the
#    province, once in each list and stored once (log lines).
sort "$WORK/ids.all" >"$WORK/ids.sorted"
[ "$(uniq -d "$WORK/ids.sorted" | wc -l)" -eq 0 ] || fail "submit printed an id twice"
for node in province-core:"$P":province prefecture-hub:"$H":hub; do
    IFS=: read -r program data name <<<"$node"
    "$BIN/$program" --data "$data" list --json | jq -r '.[].report_id' | sort >"$WORK/ids.$name"
    diff -u "$WORK/ids.sorted" "$WORK/ids.$name" || fail "the $name's report ids differ from those submitted"
    while read -r id; do
        n=$(grep -c "INFO stored report $id " "$WORK/$name.log" || true)
        [ "$n" -eq 1 ] || fail "$name: report $id stored $n times"
    done <"$WORK/ids.sorted"
done
note "the province and the hub hold all $(submitted) report ids, each once"
