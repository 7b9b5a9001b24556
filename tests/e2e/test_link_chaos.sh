#!/usr/bin/env bash
# Every accepted report reaches the province exactly once while the hub, the
# province and a county daemon are killed with SIGKILL at random moments and
# restarted: real processes, real LMDB, CURVE on loopback.
source "$(dirname "$0")/lib.sh"

setup_tree 530100:530102,530103,530111 530300:530302
start province province-core "$WORK/province"
start hub530100 prefecture-hub "$WORK/530100"
start hub530300 prefecture-hub "$WORK/530300"
for c in 530102 530103 530111 530302; do start "c$c" county-node "$WORK/$c"; done

counties=(530102 530103 530111 530302)
victims=(hub530100 province c530102)
: >"$WORK/submitted"
declare -A program=([hub530100]=prefecture-hub [province]=province-core [c530102]=county-node)
declare -A data=([hub530100]="$WORK/530100" [province]="$WORK/province" [c530102]="$WORK/530102")

RANDOM=${SEED:-4242}
end=$(($(now_ms) + ${DURATION_S:-20} * 1000))
next_kill=$(($(now_ms) + 700))
submits=0 kills=0
declare -A killed=([hub530100]=0 [province]=0 [c530102]=0)
while [ "$(now_ms)" -lt "$end" ]; do
    c=${counties[$((RANDOM % ${#counties[@]}))]}
    year=$((2017 + RANDOM % 4))
    id=$(report_json "$c" "$year" "$RANDOM" | county --data "$WORK/$c" submit - 2>/dev/null) ||
        fail "submit refused for $c $year"
    echo "$id" >>"$WORK/submitted"
    submits=$((submits + 1))
    if [ "$(now_ms)" -ge "$next_kill" ]; then
        # In turn, so that each of the three is killed several times.
        victim=${victims[$((kills % ${#victims[@]}))]}
        kill -0 "${PIDS[$victim]}" || fail "$victim was not running when its turn to be killed came"
        kill9 "$victim"
        kills=$((kills + 1))
        killed[$victim]=$((killed[$victim] + 1))
        sleep "0.$((RANDOM % 8))"
        start "$victim" "${program[$victim]}" "${data[$victim]}"
        next_kill=$(($(now_ms) + 300 + RANDOM % 1500))
    fi
    sleep "0.0$((RANDOM % 5))"
done
note "submitted $submits reports, $kills SIGKILLs (hub ${killed[hub530100]}, province ${killed[province]}, county ${killed[c530102]})"
[ "$kills" -ge 3 ] || fail "only $kills SIGKILLs in the run: each victim should be killed at least once"

province_has_all() {
    [ "$(status_field province-core "$WORK/province" .reports)" -eq "$submits" ]
}
wait_until 60 province_has_all ||
    fail "province holds $(status_field province-core "$WORK/province" .reports) of $submits reports"
for c in "${counties[@]}"; do
    wait_until 10 field_is county-node "$WORK/$c" .queued 0 ||
        fail "county $c still has $(status_field county-node "$WORK/$c" .queued) queued"
done

sort "$WORK/submitted" >"$WORK/expected"
province --data "$WORK/province" list --json | jq -r '.[].report_id' | sort >"$WORK/arrived"
diff -u "$WORK/expected" "$WORK/arrived" || fail "the ids at the province differ from those accepted"
[ "$(sort -u "$WORK/submitted" | wc -l)" -eq "$submits" ] || fail "submit printed the same id twice"
# (The province's list is keyed by report id, so it cannot show a duplicate:
# the exact id sets per hub, the drained queues and the latest versions can fail.)
# Each hub holds exactly its own counties' reports, and has forwarded all it holds.
for spec in 530100:530102,530103,530111 530300:530302; do
    hub_code=${spec%%:*} counties_re=${spec#*:}
    grep -E "^(${counties_re//,/|})-" "$WORK/submitted" | sort >"$WORK/expected.$hub_code"
    hub --data "$WORK/$hub_code" list --json | jq -r '.[].report_id' | sort >"$WORK/arrived.$hub_code"
    diff -u "$WORK/expected.$hub_code" "$WORK/arrived.$hub_code" || fail "hub $hub_code does not hold exactly its counties' reports"
    wait_until 10 field_is prefecture-hub "$WORK/$hub_code" .queued 0 ||
        fail "hub $hub_code still has $(status_field prefecture-hub "$WORK/$hub_code" .queued) queued upward"
done
# Whatever order the versions arrived in, the province evaluates the latest
# version submitted of each unit-year.
awk -F- '{ key = $1 "-" $2; v = substr($3, 2) + 0; if (v > max[key]) { max[key] = v; id[key] = $0 } }
    END { for (k in id) print id[k] }' "$WORK/submitted" | sort >"$WORK/latest.expected"
for year in 2017 2018 2019 2020; do
    province --data "$WORK/province" evaluate --year "$year" | jq -r '.units[] | select(.status != "missing") | .report_id'
done | sort >"$WORK/latest.evaluated"
diff -u "$WORK/latest.expected" "$WORK/latest.evaluated" || fail "the province does not evaluate the latest versions"
# A resend of a report already stored is skipped, not stored again: within one
# run of a daemon (a SIGKILL between logging and commit may legitimately make
# the next run store it once more), no report is logged as stored twice.
for log in hub530100 hub530300 province; do
    twice=$(awk '/ INFO listening on / { run++ }
        / INFO stored report / { for (i = 1; i < NF; i++) if ($i == "report") { key = run " " $(i + 1); if (seen[key]++) print key; break } }' \
        "$WORK/$log.log")
    [ -z "$twice" ] || fail "$log stored the same report twice in one run (run, id): $twice"
done
for name in "${!PIDS[@]}"; do kill -0 "${PIDS[$name]}" || fail "$name is no longer running"; done
note "all $submits reports at the province exactly once; each hub holds its own; latest versions evaluated"
