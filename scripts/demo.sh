#!/usr/bin/env bash
# The main job: the embedded Yunnan 2017-2020 programme at its real size on
# this machine — the province core, its 16 prefecture hubs and 129 county
# nodes, each a separate process with its own store, on 127.0.0.1 — through
# the four years 2017-2020 (docs/demo.md says what it shows).
#
#   ./scripts/demo.sh            the full programme (a few minutes on 2 cores)
#   ./scripts/demo.sh --serve    the same, then keeps the consoles of the
#                                province, 昆明市 and 五华区 up until Ctrl-C
#   ./scripts/demo.sh --small [--serve]   the small demo: 2 hubs, 6 counties, 2018
#
# Every self-assessment is generated from the county code and the year (no
# randomness: two runs give the same results): some counties fail items, some
# submit after the programme's deadline, some never report; 昆明市 returns one
# report and the county corrects it; 曲靖市's inspection catches a
# discrepancy; four county daemons are stopped for a while each year, their
# queues wait and then drain. Each command is dated at its moment of the year
# (SHIFAN_NOW); the daemons run on the real clock. Each hub confirms its
# recommendation (recommend --confirm) before the province evaluates with
# --publish. Results per year: demo-output/YEAR/evaluation.{json,csv,html}.
# Exits non-zero if a prefecture with enough qualifying counties got fewer
# demonstration counties than its quota. Stops every process it started, by
# PID, also on Ctrl-C or an error.
set -euo pipefail
serve=false
for arg in "$@"; do
    case $arg in
    --small) exec "$(dirname "$0")/demo-small.sh" "$@" ;;
    --serve) serve=true ;;
    *) echo "usage: scripts/demo.sh [--small] [--serve]" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh build >/dev/null
BIN=$PWD/build/bin
OUT=$PWD/demo-output
PROGRAMME=libshifan/data/programme-yunnan-2017.json
WORK=$(mktemp -d /tmp/shifan-demo.XXXXXX)
T0=$(date +%s)
pids=()
declare -A PID=() # node name -> pid of its running daemon
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/*.log; do
            grep -q -E "ERROR|FATAL" "$log" 2>/dev/null || continue
            echo "=== $log (last 3 lines)" >&2
            tail -3 "$log" >&2
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say() { printf '\n== [%3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
declare -A HANDED=()
port() { # a free port on 127.0.0.1 below the ephemeral range, never handed twice
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        [ -n "${HANDED[$p]:-}" ] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            HANDED[$p]=1
            echo "$p"
            return 0
        fi
    done
    echo "no free port" >&2
    exit 1
}
run() { # NAME PROGRAM [run's options]: starts NAME's daemon
    "$BIN/$2" --data "$WORK/$1" run "${@:3}" >>"$WORK/$1.log" 2>&1 &
    pids+=("$!")
    PID[$1]=$!
}
stop() { # NAME: stops NAME's daemon (SIGTERM) and waits for it
    kill -TERM "${PID[$1]}" 2>/dev/null || true
    wait "${PID[$1]}" 2>/dev/null || true
}

mapfile -t hubs < <(jq -r '.units[] | select(.level == "prefecture") | .code' "$PROGRAMME")
mapfile -t county_lines < <(jq -r '.units[] | select(.level == "county") | "\(.parent) \(.code)"' "$PROGRAMME")
declare -A NAME=() SHORT=() PARENT=() N_COUNTIES=()
# SHORT: a prefecture's first two characters (昆明 for 昆明市, 楚雄 for 楚雄彝族自治州), for the progress lines
while IFS=$'\t' read -r code name short; do
    NAME[$code]=$name
    SHORT[$code]=$short
done < <(jq -r '.units[] | "\(.code)\t\(.name)\t\(.name[0:2])"' "$PROGRAMME")
counties=()
for line in "${county_lines[@]}"; do
    read -r hub county <<<"$line"
    counties+=("$county")
    PARENT[$county]=$hub
    N_COUNTIES[$hub]=$((${N_COUNTIES[$hub]:-0} + 1))
done

say "Deployment: province 530000, ${#hubs[@]} prefecture hubs, ${#counties[@]} county nodes (the embedded Yunnan programme)"
province_port=$(port)
"$BIN/province-core" --data "$WORK/province" init --listen "tcp://127.0.0.1:$province_port" >/dev/null
province_key=$("$BIN/province-core" --data "$WORK/province" key 2>/dev/null)
# Read out to every county and hub at init (docs/signing.md).
province_fingerprint=$("$BIN/province-core" --data "$WORK/province" key --json | jq -r .fingerprint)
echo "the province's signing key fingerprint: $province_fingerprint"
declare -A HUB_PORT=() HUB_KEY=()
for hub in "${hubs[@]}"; do
    HUB_PORT[$hub]=$(port)
    "$BIN/prefecture-hub" --data "$WORK/$hub" init --code "$hub" --listen "tcp://127.0.0.1:${HUB_PORT[$hub]}" \
        --upstream "tcp://127.0.0.1:$province_port" --upstream-key "$province_key" \
        --province-fingerprint "$province_fingerprint" >/dev/null
    HUB_KEY[$hub]=$("$BIN/prefecture-hub" --data "$WORK/$hub" key 2>/dev/null)
    "$BIN/province-core" --data "$WORK/province" allow --code "$hub" --key "${HUB_KEY[$hub]}" >/dev/null
done
for county in "${counties[@]}"; do
    hub=${PARENT[$county]}
    # Installed in May 2017, before its first submission (June 2017): its
    # signed key announcement carries that time, and a county clock going
    # back from it would be flagged (docs/signing.md, "Time you can check").
    SHIFAN_NOW=2017-05-20T09:00:00+08:00 "$BIN/county-node" --data "$WORK/$county" init \
        --code "$county" --province-fingerprint "$province_fingerprint" \
        --upstream "tcp://127.0.0.1:${HUB_PORT[$hub]}" --upstream-key "${HUB_KEY[$hub]}" >/dev/null
    "$BIN/prefecture-hub" --data "$WORK/$hub" allow --code "$county" \
        --key "$("$BIN/county-node" --data "$WORK/$county" key 2>/dev/null)" >/dev/null
done
# Three of them serve their console (docs/console.md), on loopback only.
declare -A console=([province]=$(port) [530100]=$(port) [530102]=$(port))
run province province-core --http "127.0.0.1:${console[province]}"
for hub in "${hubs[@]}"; do
    if [ "$hub" = 530100 ]; then run "$hub" prefecture-hub --http "127.0.0.1:${console[530100]}"; else run "$hub" prefecture-hub; fi
done
for county in "${counties[@]}"; do
    if [ "$county" = 530102 ]; then run "$county" county-node --http "127.0.0.1:${console[530102]}"; else run "$county" county-node; fi
done
echo "started ${#pids[@]} processes (PIDs ${pids[0]} to ${pids[-1]}), logs in $WORK"
echo "web consoles (open in a browser on this machine):"
echo "  province 云南省     http://127.0.0.1:${console[province]}/"
echo "  hub 昆明市 530100   http://127.0.0.1:${console[530100]}/"
echo "  county 五华区 530102 http://127.0.0.1:${console[530102]}/"

# hash COUNTY YEAR: a deterministic number in 0..2^32-1 from the code and year.
hash() {
    local h=$((($1 * 7919 + $2 * 104729) & 0xffffffff))
    h=$(((h ^ (h >> 15)) * 2246822519 & 0xffffffff))
    h=$(((h ^ (h >> 13)) * 3266489917 & 0xffffffff))
    echo $((h ^ (h >> 16)))
}
# A generated self-assessment: every criterion of the standard, ratios at
# base + a spread from the hash; FAIL names the criterion set below its
# threshold (none, 2.2 or 2.6), 2.1 can be given (a correction, an inspected value).
generate() { # COUNTY YEAR HASH FAIL [R21]
    local county=$1 year=$2 h=$3 fail=$4 spread=$((($3 >> 4) % 60))
    local r21=${5:-$((910 + spread))} r22=850 r26=$((860 + spread))
    [ "$fail" = 2.2 ] && r22=700
    [ "$fail" = 2.6 ] && r26=690
    cat <<JSON
{"unit":"$county","year":$year,"values":{"1.1":true,"1.2a":true,"1.2b":true,"1.2c":2,"1.3":true,
"1.4a":true,"1.4b":3,"1.5":true,"2.1":{"num":$r21,"den":1000},"2.2":{"num":$r22,"den":1000},
"2.3":{"num":$((955 + spread / 2)),"den":1000},"2.4":{"num":$((900 + (h >> 10) % 50)),"den":1000},"2.5":{"num":880,"den":1000},
"2.6":{"num":$r26,"den":1000},"2.7":{"num":42,"den":42},"2.8":{"num":960,"den":1000},
"3.1":true,"3.2":true,"3.3a":true,"3.3b":3,"3.4":true,"3.5":6,"3.6":2,"4.1":true,"4.2":true,
"4.3":true,"4.4":true,"4.5":true,"5.1":true,"5.2":true,"5.3":2,"5.4a":1,"5.4b":1,"5.4c":15,
"5.5":true,"6.1":{"num":93,"den":100},"6.2":{"num":95,"den":100},"6.3":{"num":97,"den":100}},
"comments":{"2.1":"流动人口目标人群"}}
JSON
}

# progress YEAR: one line per prefecture, counties whose YEAR report the
# province holds / counties expected, from the province's store.
progress_line() { # YEAR
    "$BIN/province-core" --data "$WORK/province" list --json 2>/dev/null |
        jq -r --argjson y "$1" '[.[] | select(.year == $y) | .unit] | unique | .[]' >"$WORK/held.$1" || true
    local line="" total=0 hub n
    for hub in "${hubs[@]}"; do
        n=$(grep -c "^${hub:0:4}" "$WORK/held.$1" || true)
        total=$((total + n))
        line+=$(printf ' %s %s/%s' "${SHORT[$hub]}" "$n" "${EXPECT[$hub]}")
    done
    HELD=$total
    printf '  [%3ss] %s: %3d/%d at the province |%s\n' "$(($(date +%s) - T0))" "$1" "$total" "$EXPECTED" "$line"
}
wait_province() { # YEAR COUNT TIMEOUT_S: progress every 3 s until the province holds COUNT
    local deadline=$(($(date +%s) + $3))
    while :; do
        progress_line "$1"
        [ "$HELD" -ge "$2" ] && return 0
        [ "$(date +%s)" -lt "$deadline" ] || { echo "demo: the province holds $HELD of $2 reports for $1 after $3 s" >&2; return 1; }
        sleep 3
    done
}

mkdir -p "$OUT"
failed_check=0
summary=()
for year in 2017 2018 2019 2020; do
    say "$year: June-July, the counties' self-assessments (自检自评), due $year-07-31"
    declare -A EXPECT=()
    for hub in "${hubs[@]}"; do EXPECT[$hub]=0; done
    EXPECTED=0
    plan=()
    n_missing=0 n_late=0 n_fail=0
    for county in "${counties[@]}"; do
        h=$(hash "$county" "$year")
        kind=$((h % 100))
        if [ "$kind" -lt 6 ]; then n_missing=$((n_missing + 1)); continue; fi   # never reports
        if [ "$kind" -lt 14 ]; then                                               # after the deadline
            when=$(printf '%s-08-%02dT09:00:00+08:00' "$year" $((1 + (h >> 8) % 20)))
            n_late=$((n_late + 1))
        else
            when=$(printf '%s-%02d-%02dT09:00:00+08:00' "$year" $((6 + (h >> 8) % 2)) $((1 + (h >> 9) % 28)))
        fi
        fail=-
        case $(((h >> 20) % 100)) in
        [0-9] | 1[0-4]) fail=2.2 ;;
        1[5-9] | 2[0-4]) fail=2.6 ;;
        esac
        [ "$fail" = - ] || n_fail=$((n_fail + 1))
        plan+=("$when $county $h $fail")
        EXPECT[${PARENT[$county]}]=$((${EXPECT[${PARENT[$county]}]} + 1))
        EXPECTED=$((EXPECTED + 1))
    done
    echo "  generated: $EXPECTED reports ($n_fail failing an item, $n_late after the deadline), $n_missing counties never report"
    # Four county links drop this year: their daemons stop before the
    # submissions and come back once the others are in; meanwhile their
    # reports wait in their queues.
    down=()
    for entry in "${plan[@]}"; do
        read -r _ county h _ <<<"$entry"
        [ "$county" = 530102 ] && continue
        [ $(((h >> 24) % 100)) -lt 4 ] && [ "${#down[@]}" -lt 4 ] && down+=("$county")
    done
    for county in "${down[@]}"; do stop "$county"; done
    [ "${#down[@]}" -eq 0 ] || echo "  links down: ${down[*]} (daemons stopped: their reports wait in their queues)"
    mapfile -t plan < <(printf '%s\n' "${plan[@]}" | sort)
    for entry in "${plan[@]}"; do
        read -r when county h fail <<<"$entry"
        generate "$county" "$year" "$h" "$fail" |
            SHIFAN_NOW=$when "$BIN/county-node" --data "$WORK/$county" submit - >/dev/null
    done
    echo "  submitted at the counties: $EXPECTED; the province receives them:"
    wait_province "$year" $((EXPECTED - $(for c in "${down[@]}"; do printf '%s\n' "${plan[@]}" | grep -c " $c " ; done | awk '{s += $1} END {print s + 0}'))) 120
    if [ "${#down[@]}" -gt 0 ]; then
        echo "  links back: ${down[*]}"
        for county in "${down[@]}"; do run "$county" county-node; done
        wait_province "$year" "$EXPECTED" 120
    fi

    say "$year: August-September, the prefectures check and recommend (市级推荐), due $year-09-30"
    if [ "$year" = 2018 ]; then
        # 昆明市 returns 五华区's report; the county corrects and resubmits.
        reason="2.1 分母应为流动人口目标人群总数"
        SHIFAN_NOW=$year-08-05T10:00:00+08:00 "$BIN/prefecture-hub" --data "$WORK/530100" return \
            --unit 530102 --year "$year" --reason "$reason" >/dev/null
        echo "  昆明市 returns 530102 五华区's report: $reason"
        for _ in $(seq 1 100); do
            "$BIN/county-node" --data "$WORK/530102" list --json | jq -e 'any(.[]; .state == "returned")' >/dev/null && break
            sleep 0.2
        done
        echo "  530102 sees it: $("$BIN/county-node" --data "$WORK/530102" list --json | jq -r '[.[] | select(.year == 2018) | .state] | join(", ")')"
        h=$(hash 530102 "$year")
        generate 530102 "$year" "$h" - 935 |
            SHIFAN_NOW=$year-08-10T09:00:00+08:00 "$BIN/county-node" --data "$WORK/530102" submit - >/dev/null
        echo "  530102 resubmits a corrected version on $year-08-10"
    fi
    if [ "$year" = 2020 ]; then
        # 曲靖市 inspects the county it would recommend: 2.1 found at 80%,
        # far from what the county claimed: a discrepancy disqualifies it.
        sleep 1
        top=$(SHIFAN_NOW=$year-08-20T10:00:00+08:00 "$BIN/prefecture-hub" --data "$WORK/530300" recommend --year "$year" --json |
            jq -r '.units[0] // empty')
        if [ -n "$top" ] && [ "$top" != null ]; then
            echo "{\"unit\":\"$top\",\"year\":$year,\"values\":{\"2.1\":{\"num\":800,\"den\":1000}}}" |
                SHIFAN_NOW=$year-08-20T10:00:00+08:00 "$BIN/prefecture-hub" --data "$WORK/530300" inspect - >/dev/null 2>&1
            echo "  曲靖市 inspects $top ${NAME[$top]}: 2.1 found at 80.0%"
        fi
    fi
    sleep 2 # the hubs re-rank once a second
    for hub in "${hubs[@]}"; do
        SHIFAN_NOW=$year-09-25T10:00:00+08:00 "$BIN/prefecture-hub" --data "$WORK/$hub" recommend --year "$year" --confirm \
            --json >"$WORK/recommend.$hub.$year" 2>/dev/null
    done
    confirmed=$(for hub in "${hubs[@]}"; do jq -r 'select(.confirmed) | .prefecture' "$WORK/recommend.$hub.$year"; done | jq -R . | jq -sc .)
    echo "  confirmed (recommend --confirm; a hub with no qualified county or a quota of 0 has no list):"
    for hub in "${hubs[@]}"; do
        jq -r --arg n "${NAME[$hub]}" 'select(.confirmed) | "    \(.prefecture) \($n): \(.units | join(", "))"' "$WORK/recommend.$hub.$year"
    done

    say "$year: November, the province evaluates (省级评估) and publishes"
    mkdir -p "$OUT/$year"
    R=$OUT/$year/evaluation.json
    for _ in $(seq 1 60); do
        SHIFAN_NOW=$year-11-15T10:00:00+08:00 "$BIN/province-core" --data "$WORK/province" \
            evaluate --year "$year" --format json --out "$R"
        # every confirmed list has reached the province
        jq -e --argjson c "$confirmed" 'all(.prefectures[] | select(.code as $x | $c | index($x)); .source == "confirmed")' "$R" >/dev/null && break
        sleep 0.5
    done
    for format in csv html json; do
        publish=()
        [ "$format" = json ] && publish=(--publish) # once, with the last file
        SHIFAN_NOW=$year-11-15T10:00:00+08:00 "$BIN/province-core" --data "$WORK/province" \
            evaluate --year "$year" --format "$format" --out "$OUT/$year/evaluation.$format" \
            "${publish[@]}"
    done
    jq -r '
      "  prefecture        quota recommended qualified(new) reported    demonstration",
      (.prefectures[] as $p | [.units[] | select(.prefecture == $p.code)] as $u |
        "  \($p.code) \($p.name)\t\($p.quota)\t\($p.recommended | length)\t\([$u[] | select(.qualified and (.flags | index("designated_earlier") | not))] | length)\t\($p.completeness.reported)/\($p.completeness.expected)\t\([$u[] | select(.demonstration) | .code + " " + .name + (if .national_candidate then " (国家级候选)" else "" end)] | join(", "))"),
      "  units: \([.units[] | select(.status == "late")] | length) late, \([.units[] | select(.status == "missing")] | length) missing, \([.units[] | select(.status != "missing" and (.qualified | not))] | length) not qualified, discrepancy: \([.units[] | select(.flags | index("discrepancy"))] | map(.code) | join(",") | if . == "" then "none" else . end), returned or corrected: \([.units[] | select(.flags | index("returned") or index("corrected"))] | map(.code + " (" + (.flags | join(",")) + ")") | join(", ") | if . == "" then "none" else . end)",
      "  province: \(.province.demonstration | length) demonstration counties, \(.province.national_candidates | length) national candidates (国家级候选) this year",
      (.province.progress.targets[] | "  target \(.id): \(.achieved) of \(.value) by \(.by)")
    ' "$R"
    # Each prefecture with at least its quota of new qualifying counties must
    # get its quota of demonstration counties.
    while read -r code quota demo qual; do
        line=$(printf '%s %s %s: quota %s, recommended %s, qualified %s' "$year" "$code" "${NAME[$code]}" "$quota" "$demo" "$qual")
        if [ "$qual" -ge "$quota" ] && [ "$demo" -lt "$quota" ]; then
            line+="  <-- FEWER THAN THE QUOTA"
            failed_check=1
        fi
        summary+=("$line")
    done < <(jq -r '.prefectures[] as $p | [.units[] | select(.prefecture == $p.code)] as $u |
        "\($p.code) \($p.quota) \([$u[] | select(.demonstration)] | length) \([$u[] | select(.qualified and (.flags | index("designated_earlier") | not))] | length)"' "$R")
    echo "  written: $OUT/$year/evaluation.{json,csv,html}"
done

say "Summary: per year and prefecture, quota / demonstration counties recommended / new counties that qualified"
printf '%s\n' "${summary[@]}"
jq -r '.province.progress.targets[] | "target \(.id): \(.achieved) of \(.value) by \(.by)"' "$OUT/2020/evaluation.json"
echo "results: $OUT/{2017,2018,2019,2020}/evaluation.{json,csv,html} (open the HTML in a browser to print it)"
echo "wall time: $(($(date +%s) - T0)) s"
if [ "$failed_check" -ne 0 ]; then
    echo "demo: a prefecture with enough qualifying counties got fewer demonstration counties than its quota" >&2
    exit 1
fi
if $serve; then
    say "Serving: the consoles above stay up until Ctrl-C"
    trap 'exit 0' INT TERM
    wait
else
    echo "To look at the consoles in a browser, run ./scripts/demo.sh --serve: it keeps them up until Ctrl-C."
fi
say "Stopping the ${#pids[@]} processes started"
