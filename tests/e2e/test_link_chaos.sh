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
while [ "$(now_ms)" -lt "$end" ]; do
    c=${counties[$((RANDOM % ${#counties[@]}))]}
    year=$((2017 + RANDOM % 4))
    id=$(report_json "$c" "$year" "$RANDOM" | county --data "$WORK/$c" submit - 2>/dev/null) ||
        fail "submit refused for $c $year"
    echo "$id" >>"$WORK/submitted"
    submits=$((submits + 1))
    if [ "$(now_ms)" -ge "$next_kill" ]; then
        victim=${victims[$((RANDOM % ${#victims[@]}))]}
        kill9 "$victim"
        kills=$((kills + 1))
        sleep "0.$((RANDOM % 8))"
        start "$victim" "${program[$victim]}" "${data[$victim]}"
        next_kill=$(($(now_ms) + 300 + RANDOM % 1500))
    fi
    sleep "0.0$((RANDOM % 5))"
done
note "submitted $submits reports, $kills SIGKILLs"

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
dups=$(sort "$WORK/arrived" | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups duplicate ids at the province"
# Each hub holds exactly its own counties' reports, once.
hub_total=$(($(status_field prefecture-hub "$WORK/530100" .reports) + $(status_field prefecture-hub "$WORK/530300" .reports)))
[ "$hub_total" -eq "$submits" ] || fail "hubs hold $hub_total reports, expected $submits"
note "all $submits reports at the province exactly once"
