#!/bin/bash
# Tandem — MIT licence. The monitor's API against a collector fed by the simulator: the answers
# match what was sent (app count, job counts vs `tandem dump`, percentiles within the
# histogram's stated error), a growing queue is reported growing, bad input gets JSON 4xx.
. "$(dirname "$0")/lib.sh"

APPS=12
start_collector c 0
start_monitor m "$T/c/store" "stats_file \"$T/c/stats\"" "growth_window 12s" \
    "refresh_interval 200ms"
API="http://127.0.0.1:$M_PORT"
say "collector on $C_PORT, monitor on $M_PORT"

# get PATH: body to stdout; fails unless 200.
get() { curl -sS -m 10 -f "$API$1"; }
# status PATH: the HTTP status only.
status() { curl -sS -m 10 -o "$T/body" -w '%{http_code}' "$API$1"; }

start_ms=$(date +%s%3N)
"$AGENT" simulate -c 127.0.0.1:$C_PORT -n $APPS -r 6000 -d 20 -b 32 --timeout 30 \
    > "$T/sim.out" 2>&1 &
SIM=$!
PIDS+=("$SIM")

# While it runs: app-2's "inbound" queue grows (the simulator's pattern 2), app-0's is steady.
growing() { get /api/v1/queues/growing | jq -e '.queues[] | select(.app == "app-2" and .queue == "inbound")' > /dev/null; }
wait_until 25 growing || { get /api/v1/queues/growing; get /api/v1/apps/app-2/queues; die "app-2/inbound not reported growing"; }
say "growing: $(get /api/v1/queues/growing | jq -c '[.queues[] | .app + "/" + .queue]')"
v=$(get "/api/v1/apps/app-2/queues/inbound?from=-12s" | jq -r .verdict)
[ "$v" = growing ] || die "app-2/inbound verdict $v, want growing"
v=$(get "/api/v1/apps/app-0/queues/inbound?from=-12s" | jq -r .verdict)
[ "$v" != growing ] || die "app-0/inbound (steady) reported growing"
get /api/v1/transactions?limit=3 | jq -e '.transactions | length == 3' > /dev/null || die "live board"

wait_until 40 bash -c "! kill -0 $SIM 2>/dev/null" || die "simulator did not finish"
wait "$SIM" || die "simulator failed: $(tail -3 "$T/sim.out")"
end_ms=$(date +%s%3N)
touch "$T/acked"	# every event is acked, so durable: stats written after this show them all
# Derived records follow within about a second: wait until derive applied and wrote all.
derived() {
	[ "$T/c/stats" -nt "$T/acked" ] && [ "$T/c/stats.derive" -nt "$T/acked" ] &&
	[ "$(awk '$1 == "derive_events" { print $2 }' "$T/c/stats.derive")" = "$(stat c events_stored)" ] &&
	[ "$(awk '$1 == "derive_dirty" { print $2 }' "$T/c/stats.derive")" = 0 ]
}
wait_until 10 derived || { cat "$T/c/stats.derive"; die "derived state did not catch up"; }
stored=$(stat c events_stored)
say "stored $stored events"

# App count.
n=$(get /api/v1/apps | jq .count)
[ "$n" = "$APPS" ] || die "apps: $n, sent $APPS"

# Job counts per app and job vs the raw store.
"$TANDEM" dump -s "$T/c/store" -k job > "$T/jobs.jsonl"
jq -r '"\(.app) \(.job)"' "$T/jobs.jsonl" | sort | uniq -c | awk '{ print $2, $3, $1 }' > "$T/want"
get "/api/v1/perf?from=$((start_ms - 120000))&to=$((end_ms + 60000))" |
    jq -r '.jobs[] | "\(.app) \(.job) \(.count)"' | sort > "$T/got"
sort -o "$T/want" "$T/want"
diff -u "$T/want" "$T/got" > "$T/diff" || { head "$T/diff"; die "job counts differ from tandem dump"; }
say "job counts match tandem dump for $(wc -l < "$T/want") app/job pairs ($(wc -l < "$T/jobs.jsonl") timings)"

# Percentiles of one app/job within the histogram's stated error (1/128 of the value).
read -r app job < <(jq -r '"\(.app) \(.job)"' "$T/jobs.jsonl" | sort | uniq -c | sort -rn | head -1 | awk '{ print $2, $3 }')
jq -r --arg a "$app" --arg j "$job" 'select(.app == $a and .job == $j) | .duration_us' "$T/jobs.jsonl" | sort -n > "$T/d"
get "/api/v1/perf?app=$app&job=$job&from=$((start_ms - 120000))&to=$((end_ms + 60000))" > "$T/perf.json"
python3 - "$T/d" "$T/perf.json" <<'PY' || die "percentiles outside the stated error"
import json, math, sys
d = [int(x) for x in open(sys.argv[1])]
p = json.load(open(sys.argv[2]))["jobs"][0]
assert p["count"] == len(d), (p["count"], len(d))
for pct in (50, 95, 99):
    want = d[max(1, math.ceil(pct / 100 * len(d))) - 1]
    got = p["p%d_us" % pct]
    tol = max(1, want / 128)
    print("p%d: exact %d, api %d (tolerance %.0f)" % (pct, want, got, tol))
    assert abs(got - want) <= tol, pct
PY

# A transaction's timeline equals its raw events.
"$TANDEM" dump -s "$T/c/store" -a app-1 -k txn > "$T/txn.jsonl"
tid=$(jq -r 'select(.state == "end") | .txn_id' "$T/txn.jsonl" | head -1)
want=$(jq -c --arg t "$tid" 'select(.txn_id == $t) | .step' "$T/txn.jsonl" | wc -l)
got=$(get "/api/v1/apps/app-1/transactions/$tid" | jq '.timeline | length')
[ "$want" = "$got" ] || die "timeline of $tid: $got events, store has $want"
get "/api/v1/apps/app-1/transactions/$tid" | jq -e '.state == "done"' > /dev/null || die "txn state"

# Steps model, logs newest first and paged, cluster, metrics.
get /api/v1/apps/app-1/steps | jq -e '.slowest_step != null and (.steps | length) > 2' > /dev/null || die "steps model"
get "/api/v1/logs?app=app-3&limit=5" > "$T/l1"
jq -e '.logs | length == 5 and (.[0].time_ms >= .[4].time_ms)' "$T/l1" > /dev/null || die "logs page 1"
cur=$(jq -r .next_cursor "$T/l1")
get "/api/v1/logs?app=app-3&limit=5&cursor=$cur" > "$T/l2"
jq -e --argjson last "$(jq '.logs[4].time_ms' "$T/l1")" '.logs | length == 5 and .[0].time_ms <= $last' "$T/l2" > /dev/null || die "logs page 2"
nerr=$(jq -r 'select(.level == "error" or .level == "fatal") | .app' <("$TANDEM" dump -s "$T/c/store" -a app-3 -k log) | wc -l)
got=$(get "/api/v1/logs?app=app-3&level=error&limit=1000&from=$((start_ms - 120000))" | jq '.logs | length')
[ "$got" = "$nerr" ] || die "error logs of app-3: $got, store has $nerr"
get /api/v1/cluster | jq -e '.role == "single"' > /dev/null || die "cluster"
get /metrics | grep -q "^tandem_collector_events_stored $stored" || die "metrics: events_stored"
get /metrics | grep -q "^tandem_collector_log_pos [1-9]" || die "metrics: log_pos gauge"
get /metrics | grep -q '^tandem_http_latency_us_count{route="perf"}' || die "metrics: latency by route"
get /api/v1/perf/top?n=3 | jq -e '.jobs | length == 3' > /dev/null || die "perf top"
get "/api/v1/perf/top?n=3&compare=1d" | jq -e '.jobs[0].compare.count == 0' > /dev/null || die "perf compare"

# Bad input: 400 naming the parameter, 404 for unknown routes and names, all JSON.
check() {
	local want=$1 path=$2 param=$3 s
	s=$(status "$path")
	[ "$s" = "$want" ] || die "$path: status $s, want $want: $(cat "$T/body")"
	jq -e . "$T/body" > /dev/null || die "$path: not JSON"
	[ -z "$param" ] || jq -e --arg p "$param" '.param == $p' "$T/body" > /dev/null ||
	    die "$path: does not name $param: $(cat "$T/body")"
}
check 400 "/api/v1/perf?from=abc" from
check 400 "/api/v1/perf?from=2000&to=1000" from
check 400 "/api/v1/logs?limit=100000" limit
check 400 "/api/v1/logs?limit=-1" limit
check 400 "/api/v1/logs?level=loud" level
check 400 "/api/v1/logs?cursor=zzz" cursor
check 400 "/api/v1/transactions?bogus=1" bogus
check 400 "/api/v1/transactions?attr=novalue" attr
check 400 "/api/v1/perf?compare=2d" compare
check 400 "/api/v1/perf/top?n=0" n
check 404 "/api/v1/nope" ""
check 404 "/api/v1/apps/no-such-app/queues" app
check 404 "/api/v1/apps/app-1/transactions/no-such-txn" txn_id
s=$(curl -sS -m 10 -o "$T/body" -w '%{http_code}' -X POST "$API/api/v1/apps")
[ "$s" = 405 ] && jq -e . "$T/body" > /dev/null || die "POST /api/v1/apps: $s"
say "bad parameters: 400 naming the parameter; unknown routes and names: 404; all JSON"
say "PASS"
