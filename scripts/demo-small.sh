#!/usr/bin/env bash
# The small demo (`scripts/demo.sh --small`) on the embedded Yunnan 2017-2020 programme: sets everything up,
# then runs a small real deployment on this machine — the province, two
# prefecture hubs and six counties as separate processes on 127.0.0.1 —
# submits generated self-assessments for 2018, lets the hubs rank and
# recommend, and prints the province's evaluation. It stops everything it
# started. Results (JSON, CSV, printable HTML) are left in demo-output/.
# The province, the hub of 昆明市 and the county 五华区 serve their web
# consoles on 127.0.0.1 while it runs (the addresses are printed);
# `./scripts/demo.sh --small --serve` keeps everything running at the end, for a
# browser, until Ctrl-C.
set -euo pipefail
serve=false
for arg in "$@"; do if [ "$arg" = "--serve" ]; then serve=true; fi; done
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh build >/dev/null
BIN=$PWD/build/bin
OUT=$PWD/demo-output
WORK=$(mktemp -d /tmp/shifan-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
port() {
    local p
    for _ in $(seq 1 100); do
        p=$((30000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    echo "no free port" >&2
    exit 1
}
run() { # NAME PROGRAM DATA [run's options, e.g. --http ADDR]
    "$BIN/$2" --data "$3" run "${@:4}" >>"$WORK/$1.log" 2>&1 &
    pids+=("$!")
}

say "Deployment: province 530000, hubs 昆明市 530100 and 曲靖市 530300, six counties"
province_port=$(port)
"$BIN/province-core" --data "$WORK/province" init --listen "tcp://127.0.0.1:$province_port" >/dev/null
province_key=$("$BIN/province-core" --data "$WORK/province" key)
# Read out to every county and hub at init (docs/signing.md): they take no
# other key as the province's.
province_fingerprint=$("$BIN/province-core" --data "$WORK/province" key --json | jq -r .fingerprint)
echo "the province's signing key fingerprint: $province_fingerprint"
declare -A counties=([530100]="530102 530103 530111" [530300]="530302 530303 530304")
for hub in 530100 530300; do
    hub_port=$(port)
    "$BIN/prefecture-hub" --data "$WORK/$hub" init --code "$hub" --listen "tcp://127.0.0.1:$hub_port" \
        --upstream "tcp://127.0.0.1:$province_port" --upstream-key "$province_key" \
        --province-fingerprint "$province_fingerprint" >/dev/null
    "$BIN/province-core" --data "$WORK/province" allow --code "$hub" \
        --key "$("$BIN/prefecture-hub" --data "$WORK/$hub" key)" >/dev/null
    for county in ${counties[$hub]}; do
        # Installed in June 2018, as the July submissions below are dated:
        # its signed key announcement carries that time, and a county clock
        # going back from it would be flagged (docs/signing.md).
        SHIFAN_NOW=2018-06-01T09:00:00+08:00 "$BIN/county-node" --data "$WORK/$county" init \
            --code "$county" --province-fingerprint "$province_fingerprint" \
            --upstream "tcp://127.0.0.1:$hub_port" \
            --upstream-key "$("$BIN/prefecture-hub" --data "$WORK/$hub" key)" >/dev/null
        "$BIN/prefecture-hub" --data "$WORK/$hub" allow --code "$county" \
            --key "$("$BIN/county-node" --data "$WORK/$county" key)" >/dev/null
    done
done
# Three of them serve their console (docs/console.md), on loopback only.
declare -A console=([province]=$(port) [530100]=$(port) [530102]=$(port))
run province province-core "$WORK/province" --http "127.0.0.1:${console[province]}"
run hub530100 prefecture-hub "$WORK/530100" --http "127.0.0.1:${console[530100]}"
run hub530300 prefecture-hub "$WORK/530300"
run c530102 county-node "$WORK/530102" --http "127.0.0.1:${console[530102]}"
for county in 530103 530111 ${counties[530300]}; do run "c$county" county-node "$WORK/$county"; done
echo "started ${#pids[@]} processes: $(printf '%s ' "${pids[@]}")"
echo "web consoles (open in a browser on this machine):"
echo "  province 云南省     http://127.0.0.1:${console[province]}/?year=2018"
echo "  hub 昆明市 530100   http://127.0.0.1:${console[530100]}/?year=2018"
echo "  county 五华区 530102 http://127.0.0.1:${console[530102]}/?year=2018"

# A generated self-assessment: every criterion of the standard, ratios at
# (base + the county's spread) per mille, one county short on item 2.2.
generate() { # COUNTY SPREAD
    local county=$1 spread=$2 r22=850
    [ "$county" = 530304 ] && r22=700
    cat <<JSON
{"unit":"$county","year":2018,"values":{"1.1":true,"1.2a":true,"1.2b":true,"1.2c":2,"1.3":true,
"1.4a":true,"1.4b":3,"1.5":true,"2.1":{"num":$((910 + spread)),"den":1000},"2.2":{"num":$r22,"den":1000},
"2.3":{"num":$((955 + spread / 2)),"den":1000},"2.4":{"num":930,"den":1000},"2.5":{"num":880,"den":1000},
"2.6":{"num":$((860 + spread)),"den":1000},"2.7":{"num":42,"den":42},"2.8":{"num":960,"den":1000},
"3.1":true,"3.2":true,"3.3a":true,"3.3b":3,"3.4":true,"3.5":6,"3.6":2,"4.1":true,"4.2":true,
"4.3":true,"4.4":true,"4.5":true,"5.1":true,"5.2":true,"5.3":2,"5.4a":1,"5.4b":1,"5.4c":15,
"5.5":true,"6.1":{"num":93,"den":100},"6.2":{"num":95,"den":100},"6.3":{"num":97,"den":100}},
"comments":{"2.1":"流动人口目标人群"}}
JSON
}

say "July 2018: counties submit their self-assessments (自评), each checked offline first"
day=10
for county in ${counties[530100]} ${counties[530300]}; do
    spread=$(((county * 7) % 60))
    when=2018-07-${day}T09:00:00+08:00
    [ "$county" = 530111 ] && when=2018-08-03T09:00:00+08:00   # this one is late
    id=$(generate "$county" "$spread" | SHIFAN_NOW=$when "$BIN/county-node" --data "$WORK/$county" submit -)
    verdict=$(SHIFAN_NOW=$when "$BIN/county-node" --data "$WORK/$county" evaluate --year 2018 | sed -n 2p)
    echo "  $county submitted $id at $when"
    echo "      self-check: $verdict"
    day=$((day + 2))
done

say "The reports travel county -> hub -> province over CURVE; hubs rank automatically"
for _ in $(seq 1 100); do
    [ "$("$BIN/province-core" --data "$WORK/province" status --json | jq .reports)" -eq 6 ] && break
    sleep 0.2
done
"$BIN/province-core" --data "$WORK/province" status
sleep 2  # the hubs re-rank once a second and send their provisional lists up

say "September: 昆明市 confirms its recommendation (市级推荐); 曲靖市 leaves its list provisional"
SHIFAN_NOW=2018-09-25T10:00:00+08:00 "$BIN/prefecture-hub" --data "$WORK/530100" recommend --year 2018 --confirm
SHIFAN_NOW=2018-09-25T10:00:00+08:00 "$BIN/prefecture-hub" --data "$WORK/530300" recommend --year 2018
sleep 2

say "November: the province evaluates 2018 (省级评估)"
mkdir -p "$OUT"
for format in json csv html; do
    SHIFAN_NOW=2018-11-15T10:00:00+08:00 "$BIN/province-core" --data "$WORK/province" \
        evaluate --year 2018 --format "$format" --out "$OUT/evaluation-2018.$format"
done
jq -r '
  "units that reported:",
  (.units[] | select(.status != "missing") |
     "  \(.code) \(.name)  \(.status)  qualified=\(.qualified)  failed=\(.failed | join(",") | if . == "" then "-" else . end)  recommended=\(.recommended)  demonstration=\(.demonstration)  national=\(.national_candidate)"),
  "prefectures:",
  (.prefectures[] | select(.code == "530100" or .code == "530300") |
     "  \(.code) \(.name)  quota \(.quota)  recommended \(.recommended)  (\(.source))  completeness \(.completeness.reported)/\(.completeness.expected)"),
  "province: demonstration units \(.province.demonstration), national candidates \(.province.national_candidates)",
  (.province.progress.targets[] | "  target \(.id): \(.achieved) of \(.value) by \(.by)")
' "$OUT/evaluation-2018.json"
echo
echo "Full results: $OUT/evaluation-2018.{json,csv,html} (open the HTML in a browser to print it)"
if $serve; then
    say "Serving: the consoles above stay up until Ctrl-C"
    trap 'exit 0' INT TERM
    wait
else
    echo "To look at the consoles in a browser, run ./scripts/demo.sh --small --serve: it keeps them up until Ctrl-C."
fi
say "Stopping the ${#pids[@]} processes started"
