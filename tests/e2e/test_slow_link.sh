#!/usr/bin/env bash
# A county behind a slow, lossy link (16 kbit/s, 400 ms delay, 2 % loss, a
# ~32 KiB queue, both directions), once steady and once flapping (the link
# goes fully down for 4 s, three times): every report arrives exactly once,
# within K x (payload bytes / link rate) + fixed allowances, and the county
# sends fewer than 3 bytes per payload byte (no resend storm).
#
# The hub and the county each run in a network namespace of their own,
# joined by one link with private addresses (10.200.X.1 and .2/30) that
# exist only inside those namespaces. The link is shaped by tc netem on both
# ends of a veth pair; on a kernel without sch_netem, by tests/tools/slowwire
# (the same model in userspace, between two TAP devices). Skips (77) where
# it cannot make namespaces (not root, no CAP_SYS_ADMIN, no ip/tc).
# Figures: lines "slow_link_<name> VALUE" per variant. docs/protocol.md, "Slow and
# lossy links",
# explains the setup and every bound.
#
# Environment (all optional):
#   SLOW_LINK_VARIANTS   "steady flapping" (default), or one of them
#   SLOW_LINK_REPORTS    reports submitted per variant (default 12, ~1.45 KB each)
#   SLOW_LINK_EMULATION  auto (default: netem if the kernel has it, else slowwire),
#                        netem, slowwire
#   SLOW_LINK_PATIENCE   seconds to keep watching past the bound before giving up
#                        (default 0; for diagnosis: the test still fails on the bound)
#   SLOW_LINK_SEED       slowwire's loss seed (default: random, printed)
#   SLOW_LINK_RATE_BITS, SLOW_LINK_DELAY_MS, SLOW_LINK_LOSS_PCT
#                        another link, to explore (defaults 16000, 400, 2: the test)
source "$(dirname "$0")/lib.sh"
require_netns
command -v tc >/dev/null || skip "needs tc (iproute2)"

# The link, per direction: what `tc ... netem rate 16kbit delay 400ms loss 2%` says.
RATE_BITS=${SLOW_LINK_RATE_BITS:-16000}
DELAY_MS=${SLOW_LINK_DELAY_MS:-400}
LOSS_PCT=${SLOW_LINK_LOSS_PCT:-2}
QUEUE_BYTES=32768       # slowwire counts bytes
QUEUE_PACKETS=22        # netem counts packets: 22 full 1514-byte frames = 32.5 KiB
# Bounds (docs/protocol.md, "Slow and lossy links", says why):
K=4                     # time <= K x payload/rate + ALLOWANCE_S (+ per flap: down time + FLAP_ALLOWANCE_S)
ALLOWANCE_S=10          # one session set-up over this link (~5 round trips), a lost SYN, the last ack
FLAP_ALLOWANCE_S=8      # per flap: noticing, TCP back-off, a new session
MAX_BYTES_PER_PAYLOAD_BYTE=3
# The flapping variant: down for FLAP_DOWN_S after FLAP_UP_S up, FLAPS times.
FLAP_UP_S=6
FLAP_DOWN_S=4
FLAPS=3

REPORTS=${SLOW_LINK_REPORTS:-12}
VARIANTS=${SLOW_LINK_VARIANTS:-steady flapping}
PATIENCE_S=${SLOW_LINK_PATIENCE:-0}
EMULATION=${SLOW_LINK_EMULATION:-auto}
NET=$(($$ % 256)) # the X of 10.200.X.0/30; private to the namespaces, so any X will do
HUB_IP=10.200.$NET.1
CTY_IP=10.200.$NET.2
HUB_PORT=7402

# Which emulation: netem if a qdisc can be added in a scratch namespace.
netem_works() {
    local ns=sf-probe-$$ ok=1
    ip netns add "$ns" || return 1
    ip -n "$ns" link add p0 type veth peer name p1 &&
        tc -n "$ns" qdisc add dev p0 root netem rate 16kbit delay 400ms loss 2% limit 22 2>/dev/null &&
        ok=0
    ip netns del "$ns"
    return $ok
}
case $EMULATION in
auto)
    if netem_works; then
        EMULATION=netem
    elif [ -c /dev/net/tun ]; then
        EMULATION=slowwire
        note "this kernel has no sch_netem: the link is emulated by slowwire (TAP devices)"
    else
        skip "neither sch_netem (tc qdisc netem) nor /dev/net/tun is available"
    fi
    ;;
netem) netem_works || fail "SLOW_LINK_EMULATION=netem, but 'tc qdisc add ... netem' fails here" ;;
slowwire) [ -c /dev/net/tun ] || fail "SLOW_LINK_EMULATION=slowwire needs /dev/net/tun" ;;
*) fail "SLOW_LINK_EMULATION=$EMULATION: auto, netem or slowwire" ;;
esac

# A report of about 1.45 KB as queued: report_json plus a 936-character comment.
make_report() {
    local seed=$1 pad
    pad=$(head -c 700 /dev/urandom | base64 -w0)
    report_json 530102 $((2017 + seed % 4)) "$seed" | jq -c --arg pad "$pad" '.comments["2.2"] = $pad'
}

# Bytes of the items in a county's upward outbox (the Payloads as they go in
# Item.payload), read from its store: keys of stream "up" start 75 70 00.
outbox_up_bytes() {
    mdb_dump -s outbox "$1/store" | awk '
        /^HEADER=END/ { body = 1; next }
        /^DATA=END/ { body = 0 }
        body { if (key) { if (up) sum += length($1) / 2; key = 0 } else { up = ($1 ~ /^757000/); key = 1 } }
        END { print sum + 0 }'
}

netstat_of() { # NS DEV COUNTER
    ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# Makes the two namespaces and the shaped link between them. Sets NS_HUB,
# NS_CTY, DEV_HUB, DEV_CTY, WIRE (slowwire's PID, or "").
make_link() {
    local tag=$1
    NS_HUB=sf-hub-$$-$tag
    NS_CTY=sf-cty-$$-$tag
    WIRE=""
    ip netns add "$NS_HUB" || fail "ip netns add $NS_HUB"
    on_cleanup "ip netns del $NS_HUB 2>/dev/null"
    ip netns add "$NS_CTY" || fail "ip netns add $NS_CTY"
    on_cleanup "ip netns del $NS_CTY 2>/dev/null"
    if [ "$EMULATION" = netem ]; then
        DEV_HUB=hub0
        DEV_CTY=cty0
        ip link add "$DEV_CTY" netns "$NS_CTY" type veth peer name "$DEV_HUB" netns "$NS_HUB" ||
            fail "cannot make a veth pair between $NS_CTY and $NS_HUB"
    else
        DEV_HUB=sw0
        DEV_CTY=sw0
        "$BIN/slowwire" --netns-a "$NS_CTY" --netns-b "$NS_HUB" --dev sw0 --rate "$RATE_BITS" \
            --delay "$DELAY_MS" --loss "$LOSS_PCT" --limit "$QUEUE_BYTES" \
            ${SLOW_LINK_SEED:+--seed "$SLOW_LINK_SEED"} >"$WORK/$tag-wire.out" 2>"$WORK/$tag-wire.err" &
        WIRE=$!
        ALL_PIDS+=("$WIRE")
        wait_until 5 grep -q '^ready' "$WORK/$tag-wire.out" || fail "slowwire did not start: $(cat "$WORK/$tag-wire.err")"
        note "slowwire: $(cat "$WORK/$tag-wire.out") (a = county, b = hub)"
    fi
    local ns dev addr
    for side in hub cty; do
        if [ $side = hub ]; then ns=$NS_HUB dev=$DEV_HUB addr=$HUB_IP; else ns=$NS_CTY dev=$DEV_CTY addr=$CTY_IP; fi
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
            true # no IPv6 chatter in the byte counts
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr/30" dev "$dev"
        ip -n "$ns" link set "$dev" up
        if [ "$EMULATION" = netem ]; then
            # One qdisc packet = one wire frame: no TCP super-packets (TSO/GSO)
            # for netem to delay, drop or count as one (TAP devices have none).
            ip -n "$ns" link set dev "$dev" gso_max_segs 1 gso_max_size 1514 ||
                fail "cannot turn off GSO on $dev in $ns"
            tc -n "$ns" qdisc add dev "$dev" root netem rate ${RATE_BITS}bit delay ${DELAY_MS}ms loss ${LOSS_PCT}% \
                limit $QUEUE_PACKETS || fail "tc netem on $dev in $ns"
        fi
    done
}

# The link fully down (both ends: carrier off, queued frames gone) and up again.
link_down() {
    [ -z "$WIRE" ] || kill -USR1 "$WIRE"
    ip -n "$NS_CTY" link set "$DEV_CTY" down
    ip -n "$NS_HUB" link set "$DEV_HUB" down
}
link_up() {
    ip -n "$NS_CTY" link set "$DEV_CTY" up
    ip -n "$NS_HUB" link set "$DEV_HUB" up
    [ -z "$WIRE" ] || kill -USR2 "$WIRE"
}

count_in() { grep -c -E "$1" "$2" 2>/dev/null || true; } # PATTERN FILE: matching lines (0 if none)
ms_to_s() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

failed_variants=()
run_variant() {
    local variant=$1 problems=()
    local hub_data=$WORK/$variant-hub cty_data=$WORK/$variant-county
    note "variant $variant: $REPORTS reports, $EMULATION, ${RATE_BITS} bit/s, ${DELAY_MS} ms, ${LOSS_PCT} % loss"
    make_link "$variant"

    # A hub alone (its province is never reachable: it keeps what it would
    # forward) and one county, set up offline.
    local province_key
    province_key=$(province --data "$WORK/$variant-province" init --listen tcp://127.0.0.1:1 | sed -n 's/^public key: //p')
    hub --data "$hub_data" init --code 530100 --listen "tcp://$HUB_IP:$HUB_PORT" \
        --upstream "tcp://127.0.0.1:7401" --upstream-key "$province_key" >/dev/null
    county --data "$cty_data" init --code 530102 --upstream "tcp://$HUB_IP:$HUB_PORT" \
        --upstream-key "$(hub --data "$hub_data" key)" >/dev/null
    hub --data "$hub_data" allow --code 530102 --key "$(county --data "$cty_data" key)" >/dev/null

    # The backlog: every report queued before the county's daemon starts.
    : >"$WORK/$variant-ids"
    for seed in $(seq 1 "$REPORTS"); do
        make_report "$seed" | county --data "$cty_data" submit - >>"$WORK/$variant-ids" 2>/dev/null ||
            fail "submit failed"
    done
    local payload
    payload=$(outbox_up_bytes "$cty_data")
    # The reports, behind the county's signing key (queued at init).
    [ "$(status_field county-node "$cty_data" .queued)" -eq $((REPORTS + 1)) ] ||
        fail "the county did not queue its key and $REPORTS reports"
    [ "$payload" -gt 0 ] || fail "cannot read the payload size from the county's outbox"

    start_in "$NS_HUB" "$variant-hub" prefecture-hub "$hub_data"
    wait_until 10 field_is prefecture-hub "$hub_data" .daemon running || fail "the hub did not start"
    local tx0 rx0
    tx0=$(netstat_of "$NS_CTY" "$DEV_CTY" tx_bytes)
    rx0=$(netstat_of "$NS_CTY" "$DEV_CTY" rx_bytes)

    # From the county's start until the hub holds every report and the
    # county has its acks (queued 0), driving the flaps meanwhile.
    local t0 now elapsed bound_ms at_hub queued delivered=0 arrived_ms="" flaps=0 down_ms=0 is_down=0 toggle_at
    local base_ms=$((K * payload * 8 * 1000 / RATE_BITS + ALLOWANCE_S * 1000))
    t0=$(now_ms)
    toggle_at=$((t0 + FLAP_UP_S * 1000))
    start_in "$NS_CTY" "$variant-county" county-node "$cty_data"
    while :; do
        now=$(now_ms)
        elapsed=$((now - t0))
        if [ "$variant" = flapping ]; then
            if [ $is_down = 0 ] && [ $flaps -lt $FLAPS ] && [ "$now" -ge $toggle_at ]; then
                link_down
                is_down=1 flaps=$((flaps + 1)) toggle_at=$((now + FLAP_DOWN_S * 1000))
                note "flap $flaps: link down at $(ms_to_s $elapsed) s"
            elif [ $is_down = 1 ] && [ "$now" -ge $toggle_at ]; then
                link_up
                is_down=0 down_ms=$((down_ms + now - (toggle_at - FLAP_DOWN_S * 1000)))
                toggle_at=$((now + FLAP_UP_S * 1000))
                note "flap $flaps: link up at $(ms_to_s $elapsed) s"
            fi
        fi
        bound_ms=$((base_ms + flaps * FLAP_ALLOWANCE_S * 1000 + down_ms + is_down * FLAP_DOWN_S * 1000))
        at_hub=$(status_field prefecture-hub "$hub_data" .reports) || fail "cannot read the hub's status"
        [ -n "$arrived_ms" ] || [ "$at_hub" -lt "$REPORTS" ] || arrived_ms=$elapsed
        if [ "$at_hub" -ge "$REPORTS" ]; then
            queued=$(status_field county-node "$cty_data" .queued) || fail "cannot read the county's status"
            if [ "$queued" -eq 0 ]; then
                delivered=1
                break
            fi
        fi
        [ "$elapsed" -le $((bound_ms + PATIENCE_S * 1000)) ] || break
        sleep 0.25
    done
    [ $is_down = 0 ] || { link_up; down_ms=$((down_ms + $(now_ms) - (toggle_at - FLAP_DOWN_S * 1000))); }
    local tx rx
    tx=$(($(netstat_of "$NS_CTY" "$DEV_CTY" tx_bytes) - tx0))
    rx=$(($(netstat_of "$NS_CTY" "$DEV_CTY" rx_bytes) - rx0))
    local qdisc_cty="" qdisc_hub=""
    if [ "$EMULATION" = netem ]; then
        qdisc_cty=$(tc -n "$NS_CTY" -s qdisc show dev "$DEV_CTY" | tr -s ' \n' ' ')
        qdisc_hub=$(tc -n "$NS_HUB" -s qdisc show dev "$DEV_HUB" | tr -s ' \n' ' ')
    fi
    stop "$variant-county"
    stop "$variant-hub"
    if [ -n "$WIRE" ]; then
        kill -TERM "$WIRE"
        wait "$WIRE" 2>/dev/null || true
    fi

    # What arrived, once each?
    at_hub=$(status_field prefecture-hub "$hub_data" .reports)
    queued=$(status_field county-node "$cty_data" .queued)
    sort "$WORK/$variant-ids" >"$WORK/$variant-expected"
    hub --data "$hub_data" list --json | jq -r '.[].report_id' | sort >"$WORK/$variant-arrived"
    local duplicates missing extra
    duplicates=$(uniq -d "$WORK/$variant-arrived" | wc -l)
    missing=$(comm -23 "$WORK/$variant-expected" "$WORK/$variant-arrived" | wc -l)
    extra=$(comm -13 "$WORK/$variant-expected" "$WORK/$variant-arrived" | sort -u | wc -l)

    local log_c=$WORK/$variant-county.log log_h=$WORK/$variant-hub.log
    local seconds ratio
    if [ $delivered = 1 ]; then seconds=$(ms_to_s $elapsed); else seconds="none"; fi
    ratio=$(awk -v t="$tx" -v p="$payload" 'BEGIN { printf "%.2f", t / p }')
    echo "slow_link_variant $variant"
    echo "slow_link_emulation $EMULATION"
    echo "slow_link_reports_submitted $REPORTS"
    echo "slow_link_reports_at_hub $at_hub"
    echo "slow_link_county_queued $queued"
    echo "slow_link_seconds $seconds"
    echo "slow_link_all_at_hub_seconds $([ -n "$arrived_ms" ] && ms_to_s "$arrived_ms" || echo none)"
    echo "slow_link_watched_seconds $(ms_to_s $elapsed)"
    echo "slow_link_bound_seconds $(ms_to_s $bound_ms)"
    echo "slow_link_flaps $flaps"
    echo "slow_link_down_seconds $(ms_to_s $down_ms)"
    echo "slow_link_payload_bytes $payload"
    echo "slow_link_bytes_sent $tx"
    echo "slow_link_bytes_received $rx"
    echo "slow_link_bytes_per_payload_byte $ratio"
    echo "slow_link_county_sessions_up $(count_in 'link to .* up' "$log_c")"
    echo "slow_link_county_links_down $(count_in 'link to .* down' "$log_c")"
    echo "slow_link_county_resends $(count_in 'acknowledgements stopped|resending from seq' "$log_c")"
    echo "slow_link_hub_child_connected $(count_in 'child 530102 connected' "$log_h")"
    if [ -n "$WIRE" ]; then
        sed 's/^slowwire a->b/slow_link_wire county->hub/; s/^slowwire b->a/slow_link_wire hub->county/' \
            "$WORK/$variant-wire.err"
    else
        echo "slow_link_qdisc_county $qdisc_cty"
        echo "slow_link_qdisc_hub $qdisc_hub"
    fi

    [ "$at_hub" -eq "$REPORTS" ] || problems+=("the hub holds $at_hub of $REPORTS reports")
    [ "$missing" -eq 0 ] || problems+=("$missing report id(s) never arrived")
    [ "$extra" -eq 0 ] || problems+=("$extra report id(s) at the hub that were never submitted")
    [ "$duplicates" -eq 0 ] || problems+=("$duplicates report id(s) stored twice")
    [ "$queued" -eq 0 ] || problems+=("the county still has $queued queued")
    [ $delivered = 1 ] && [ "$elapsed" -le "$bound_ms" ] ||
        problems+=("not delivered within $(ms_to_s $bound_ms) s (= $K x $payload B / $RATE_BITS bit/s + $ALLOWANCE_S s$([ $flaps -eq 0 ] || echo " + $(ms_to_s $down_ms) s down + $flaps x $FLAP_ALLOWANCE_S s"))")
    [ "$tx" -lt $((MAX_BYTES_PER_PAYLOAD_BYTE * payload)) ] ||
        problems+=("the county sent $tx bytes for $payload payload bytes ($ratio per byte, limit < $MAX_BYTES_PER_PAYLOAD_BYTE)")
    if [ ${#problems[@]} -eq 0 ]; then
        note "variant $variant: all $REPORTS reports exactly once in $seconds s (bound $(ms_to_s $bound_ms) s), $ratio bytes sent per payload byte"
    else
        for problem in "${problems[@]}"; do echo "FAIL: $variant: $problem" >&2; done
        failed_variants+=("$variant")
    fi
    ip netns del "$NS_HUB" 2>/dev/null || true
    ip netns del "$NS_CTY" 2>/dev/null || true
}

for variant in $VARIANTS; do
    case $variant in steady | flapping) run_variant "$variant" ;; *) fail "unknown variant '$variant'" ;; esac
done
[ ${#failed_variants[@]} -eq 0 ] || fail "slow link: ${failed_variants[*]}"
