#!/bin/bash
# Tandem — MIT licence. The monitor benchmark (issue 4): prints figures, is not a timed test.
#
#   tests/bench/monitor_bench.sh [--quick] [--no-build] [--keep]
#
# On 127.0.0.1 only, ports chosen at run time, everything in one temp dir removed on exit:
#   1. fills a Tandem store: collectord + `tandem-agent simulate -n 1000 -b 64 --seed 1
#      --max-events $EVENTS` offered at $FILL_RATE/s (one simulator, one seed: the same stream
#      influx_load generates). The simulator stamps events with the wall clock, so the store
#      covers only the seconds the fill took; "last hour" and "last 24 hours" below are that span.
#   2. loads the same stream (influx_load, same apps and seed) into InfluxDB 1.6 (influxd of the
#      Debian package, own dirs and ports), spread over the same span (--span-ms), for at most
#      $INFLUX_MAX_S seconds: if that is not enough for all $EVENTS points, fewer are loaded
#      (always the oldest part of the stream) and the output says how many.
#   3. starts monitord on the store and a second simulator at $LIVE_RATE events/s (300 000) into
#      the same collector (agent ids live-<i>, same apps), kept running through step 4.
#   4. times each query $REQS times (http_lat: sequential GETs over one keep-alive connection,
#      CLOCK_MONOTONIC per request, $WARMUP uncounted warm-up requests, at most $QUERY_MAX_S
#      seconds per query and system): first the five against monitord, then the equivalent
#      InfluxQL over InfluxDB's HTTP /query (the live ingest into Tandem runs through both
#      blocks), and prints p50/p99 side by side, the ingest rate actually stored during each
#      block, monitord's CPU time per request, and a summary of the issue's targets, each MET
#      or MISSED (the p99 target counts as met only if the ingest held 95% of $LIVE_RATE/s).
#
# Environment: EVENTS (default 50000000; --quick 5000000), FILL_RATE (450000), LIVE_RATE
# (300000), REQS (300), QUERY_MAX_S (90; --quick 30), INFLUX_MAX_S (300; --quick 60),
# TANDEM_BAZEL_OUTPUT_BASE (default /root/.cache/bazel-mbench), TANDEM_BENCH_TMP (default /tmp).
set -u

QUICK=0
BUILD=1
KEEP=0
for arg in "$@"; do
	case "$arg" in
	--quick) QUICK=1 ;;
	--no-build) BUILD=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,27p' "$0"; exit 0 ;;
	*) echo "usage: $0 [--quick] [--no-build] [--keep]" >&2; exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT_BASE=${TANDEM_BAZEL_OUTPUT_BASE:-/root/.cache/bazel-mbench}

APPS=1000
SEED=1
BATCH=64
if [ "$QUICK" = 1 ]; then
	EVENTS=${EVENTS:-5000000}; QUERY_MAX_S=${QUERY_MAX_S:-30}; INFLUX_MAX_S=${INFLUX_MAX_S:-60}
else
	EVENTS=${EVENTS:-50000000}; QUERY_MAX_S=${QUERY_MAX_S:-90}; INFLUX_MAX_S=${INFLUX_MAX_S:-300}
fi
FILL_RATE=${FILL_RATE:-450000}
LIVE_RATE=${LIVE_RATE:-300000}
REQS=${REQS:-300}
WARMUP=3
TARGET_P99_US=10000
# The queried objects. app-17 (agent/sim.c): jobs (17 + k) % 8 for k 0..3 = test, pack, label,
# print; 17 % 7 == 3, a noisy app whose error lines include "database deadlock on order N".
QAPP=app-17
QQUEUE=inbound
QJOB=test
QWORD=deadlock
for v in EVENTS FILL_RATE LIVE_RATE REQS QUERY_MAX_S INFLUX_MAX_S; do
	case "${!v}" in ''|*[!0-9]*) echo "monitor_bench: $v must be a number" >&2; exit 2 ;; esac
done
[ "$EVENTS" -ge 100000 ] || { echo "monitor_bench: EVENTS must be >= 100000" >&2; exit 2; }

WORK=$(mktemp -d "${TANDEM_BENCH_TMP:-/tmp}/tandem-mbench.XXXXXX") || exit 1
CPID=""		# collectord
SPID=""		# simulator filling the store
LIVEPID=""	# simulator at LIVE_RATE
MPID=""		# monitord
IPID=""		# influxd
LPID=""		# influx_load
HPID=""		# http_lat

# A simulator (under timeout, which passes signals on) drains on the first TERM, quits on the second.
stop_sim() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null && sleep 0.3 && kill -TERM "$pid" 2>/dev/null
	stop_pid "$pid"
}
cleanup() {
	trap - EXIT INT TERM
	stop_pid "$HPID"
	stop_sim "$LIVEPID"
	stop_sim "$SPID"
	stop_pid "$LPID"
	stop_pid "$MPID"
	stop_pid "$CPID"
	stop_pid "$IPID"
	if [ "$KEEP" = 1 ]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

die() { echo "monitor_bench: $*" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
now_ms() { date +%s%3N; }
stat_counter() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
urlenc() { jq -rn --arg s "$1" '$s | @uri'; }

# ---- binaries --------------------------------------------------------------------------
cd "$ROOT" || die "no $ROOT"
if [ "$BUILD" = 1 ]; then
	bazel --output_base="$OUTPUT_BASE" build //collector:collectord //agent:tandem-agent \
	    //monitor:monitord //tests/bench:influx_load //tests/bench:http_lat \
	    >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "build failed"; }
fi
BIN=$(bazel --output_base="$OUTPUT_BASE" info bazel-bin 2>/dev/null) || die "bazel info failed"
COLLECTORD=$BIN/collector/collectord
AGENT=$BIN/agent/tandem-agent
MONITORD=$BIN/monitor/monitord
INFLUX_LOAD=$BIN/tests/bench/influx_load
HTTP_LAT=$BIN/tests/bench/http_lat
for b in "$COLLECTORD" "$AGENT" "$MONITORD" "$INFLUX_LOAD" "$HTTP_LAT"; do
	[ -x "$b" ] || die "missing $b (build it, or drop --no-build)"
done
command -v influxd >/dev/null || apt-get install -y influxdb >/dev/null 2>&1 ||
    die "influxd missing (Debian package influxdb)"
for c in curl jq ss; do command -v "$c" >/dev/null || die "$c missing"; done

# wait_log FILE PID: the port from FILE's "listening on 127.0.0.1:PORT" (10 s at most).
wait_log() {
	local i p
	for i in $(seq 1 100); do
		p=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | tail -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
check_alive() {	# check_alive PID NAME LOG
	kill -0 "$1" 2>/dev/null && return 0
	tail -5 "$3" | sed 's/^/    | /' >&2
	die "$2 (pid $1) exited before the benchmark stopped it: figures void"
}

echo "== Tandem monitor benchmark ($([ $QUICK = 1 ] && echo quick || echo full)) $(date -u +%FT%TZ)"
echo "   host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at start (shared machine); temp dir $WORK"
echo "   workload: agent/sim.c, $APPS apps, seed $SEED; store target $EVENTS events;" \
    "$LIVE_RATE events/s ingested while measuring; everything on this one machine"
echo

# ---- 1. fill the store ------------------------------------------------------------------
CDIR=$WORK/collector
mkdir -p "$CDIR/store"
cat >"$CDIR/collectord.conf" <<EOF
node_name "bench"
listen 127.0.0.1:0
store "$CDIR/store"
map_size 64G
token "bench"
stats_interval 1s
stats_file "$CDIR/stats"
EOF
"$COLLECTORD" -d -f "$CDIR/collectord.conf" >"$CDIR/collectord.log" 2>&1 &
CPID=$!
CPORT=$(wait_log "$CDIR/collectord.log" "$CPID") || { cat "$CDIR/collectord.log" >&2; die "collectord did not start"; }

# Agents' windows of 16 384 events (default here: half a second of the rate) so that a
# collector that falls behind slows the offer down instead of making the agents drop events:
# the store gets the whole stream, as influx_load does.
FILL_D=$((EVENTS / FILL_RATE * 4 + 60))	# the offer stops at --max-events; this only bounds it
echo "-- 1. filling the store: $EVENTS events offered at up to $FILL_RATE/s ($APPS apps, batch $BATCH)"
FILL_T0=$(now_ms)
timeout -k 5 $((FILL_D + 240)) "$AGENT" simulate -c "127.0.0.1:$CPORT" -t bench -n "$APPS" \
    -r "$FILL_RATE" -d "$FILL_D" -b "$BATCH" -w 16384 --seed "$SEED" --max-events "$EVENTS" \
    --timeout 180 >"$CDIR/fill.out" 2>&1 &
SPID=$!
wait "$SPID"; FILL_RC=$?; SPID=""
FILL_T1=$(now_ms)
check_alive "$CPID" collectord "$CDIR/collectord.log"
sleep 1.5	# the stats file is rewritten every second
STORED=$(stat_counter "$CDIR/stats" events_stored)
FILL_MS=$((FILL_T1 - FILL_T0))
REFUSED=$(sed -n 's/^total: refused window-full \([0-9]*\),.*/\1/p' "$CDIR/fill.out")
grep '^total: [0-9.]* s,\|^total: [0-9]* apps\|^total: refused' "$CDIR/fill.out" | sed 's/^/    /'
[ "$FILL_RC" = 0 ] || echo "    simulator exit $FILL_RC (not every event acked in time)"
echo "1. store: $STORED events from $APPS apps in $(calc "%.1f" "$FILL_MS / 1000") s" \
    "($(calc "%.0f" "$STORED * 1000 / $FILL_MS") events/s), refused by agents ${REFUSED:-?}," \
    "data.mdb $(du -m "$CDIR/store/data.mdb" | cut -f1) MB on disk, load $(load1)"
echo "   note: events carry wall-clock times, so the store spans those $(calc "%.0f" "$FILL_MS / 1000") s" \
    "(plus what arrives while measuring): 'last hour' and 'last 24 hours' cover exactly that"
echo

# ---- 2. InfluxDB ------------------------------------------------------------------------
IDIR=$WORK/influx
influx_start "$IDIR"
echo "-- 2. InfluxDB $(influxd version 2>/dev/null | awk '{print $2}'): the same stream ($APPS apps," \
    "seed $SEED), up to $EVENTS points spread over the store's $(calc "%.1f" "$FILL_MS / 1000") s," \
    "at most $INFLUX_MAX_S s of loading (batch 5000, 4 connections)"
timeout -k 5 $((INFLUX_MAX_S + 120)) "$INFLUX_LOAD" -u "http://127.0.0.1:$IPORT" --db bench \
    -n "$APPS" --seed "$SEED" -N "$EVENTS" --span-ms "$FILL_MS" -d "$INFLUX_MAX_S" -B 5000 -C 4 \
    >"$IDIR/load.out" 2>"$IDIR/load.err" &
LPID=$!
wait "$LPID"; LPID=""
[ -s "$IDIR/load.err" ] && head -5 "$IDIR/load.err" | sed 's/^/    stderr: /'
sed 's/^/    /' "$IDIR/load.out"
check_alive "$IPID" influxd "$IDIR/influxd.log"
INFLUX_POINTS=$(sed -n 's/^influxdb: \([0-9]*\) points in.*/\1/p' "$IDIR/load.out")
[ -n "$INFLUX_POINTS" ] && [ "$INFLUX_POINTS" -gt 0 ] || die "InfluxDB stored nothing"
if [ "$INFLUX_POINTS" -lt "$EVENTS" ]; then
	INFLUX_NOTE="only the first $INFLUX_POINTS of the $EVENTS events (the $INFLUX_MAX_S s bound): the older $(calc "%.0f" "$INFLUX_POINTS * 100 / $EVENTS")% of the span"
else
	INFLUX_NOTE="all $INFLUX_POINTS events"
fi
echo "2. influxdb: $INFLUX_NOTE, load $(load1)"
echo

# ---- 3. monitord and the live ingest ----------------------------------------------------
MDIR=$WORK/monitor
mkdir -p "$MDIR"
cat >"$MDIR/monitord.conf" <<EOF
listen 127.0.0.1:0
store "$CDIR/store"
stats_file "$CDIR/stats"
EOF
"$MONITORD" -d -f "$MDIR/monitord.conf" >"$MDIR/monitord.log" 2>&1 &
MPID=$!
MPORT=$(wait_log "$MDIR/monitord.log" "$MPID") || { cat "$MDIR/monitord.log" >&2; die "monitord did not start"; }
LIVE_D=$((QUERY_MAX_S * 10 + 600))	# longer than step 4 can take; stopped when it ends
timeout -k 5 $((LIVE_D + 240)) "$AGENT" simulate -c "127.0.0.1:$CPORT" -t bench -n "$APPS" \
    -r "$LIVE_RATE" -d "$LIVE_D" -b "$BATCH" -w 16384 --seed "$SEED" --id-prefix live --timeout 20 \
    >"$CDIR/live.out" 2>&1 &
LIVEPID=$!
echo "-- 3. monitord on the store (default settings: refresh_interval 1s, growth_window 15m);" \
    "simulator 'live' offering $LIVE_RATE events/s to the same collector ($APPS apps, batch $BATCH)"
sleep 5	# connected and at rate before the first timed request
check_alive "$LIVEPID" "live simulator" "$CDIR/live.out"
echo

# ---- 4. the queries ---------------------------------------------------------------------
NAMES=(overview queue_1h perf_p99_24h txn_board log_search)
LABELS=("overview of all apps" "one queue, last hour" "one app/job p99, last 24 h" \
    "running-transaction board" "log search")
T_PATH=(
	"/api/v1/apps"
	"/api/v1/apps/$QAPP/queues/$QQUEUE?from=-1h"
	"/api/v1/perf?app=$QAPP&job=$QJOB&from=-24h"
	"/api/v1/transactions?limit=100"
	"/api/v1/logs?app=$QAPP&q=$QWORD&limit=50"
)
I_Q=(
	"SELECT last(depth) FROM queue GROUP BY app"
	"SELECT depth FROM queue WHERE app='$QAPP' AND queue='$QQUEUE' AND time > now() - 1h"
	"SELECT percentile(duration_us, 99) FROM job WHERE app='$QAPP' AND job='$QJOB' AND time > now() - 24h"
	"SELECT txn_id, state, app, step FROM txn WHERE state = 'begin' OR state = 'step' ORDER BY time DESC LIMIT 100"
	"SELECT level, message FROM log WHERE app='$QAPP' AND message =~ /$QWORD/ AND time > now() - 1h ORDER BY time DESC LIMIT 50"
)
echo "-- 4. HTTP latency: $REQS sequential GETs per query and system over one keep-alive connection" \
    "($WARMUP warm-up requests not counted; at most $QUERY_MAX_S s each), while ingesting"
echo "   tandem:   http://127.0.0.1:$MPORT<path>"
echo "   influxdb: http://127.0.0.1:$IPORT/query?db=bench&q=<InfluxQL>"
echo "   the InfluxQL board is an approximation: txn_id is a field, so InfluxQL cannot take the latest" \
    "event per transaction nor drop those that ended; it returns the 100 newest begin/step events"
# lat TAG PORT PATH: runs http_lat in the background (so that a signal reaches the trap), sets LAT.
lat() {
	"$HTTP_LAT" -p "$2" -u "$3" -n "$REQS" -T "$QUERY_MAX_S" -w "$WARMUP" -o "$WORK/$1.body" \
	    >"$WORK/$1.lat" 2>"$WORK/$1.err" &
	HPID=$!
	wait "$HPID"; HPID=""
	LAT=$(cat "$WORK/$1.lat")
	[ -n "$LAT" ] || LAT="n 0 errors 0 p50_us 0 p99_us 0 (http_lat: $(head -c 200 "$WORK/$1.err"))"
}
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
# What a reply held, to show that both systems answered with data.
t_summary() {
	case "$1" in
	overview) jq -r '"\(.count) apps"' ;;
	queue_1h) jq -r '"\(.series | length) points (\(.resolution)), verdict \(.verdict)"' ;;
	perf_p99_24h) jq -r '.jobs[0] | "count \(.count), p99 \(.p99_us) us"' ;;
	txn_board) jq -r '"\(.transactions | length) rows of \(.matched) running"' ;;
	log_search) jq -r '"\(.logs | length) lines"' ;;
	esac 2>/dev/null
}
i_summary() {
	jq -r 'if .results[0].error then "ERROR \(.results[0].error)" else
	    "\([.results[0].series[]?] | length) series, \([.results[0].series[]?.values | length] | add // 0) rows" end' \
	    2>/dev/null
}

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
CLK_TCK=$(getconf CLK_TCK)
stored_now() { stat_counter "$CDIR/stats" events_stored; }
# From the live simulator's latest per-second line: events waiting for acks, and refusals.
live_window() { grep ' window ' "$CDIR/live.out" | tail -1 | sed -n 's/.* window \([0-9]*\) .*/\1/p'; }
live_refused() { grep ' refused ' "$CDIR/live.out" | tail -1 | sed -n 's/.* refused \([0-9]*\) .*/\1/p'; }

# Block A: monitord, while the live simulator ingests.
A_S0=$(stored_now); A_T0=$(now_ms); A_W0=$(live_window)
for k in "${!NAMES[@]}"; do
	n=${NAMES[$k]}
	c0=$(cpu_ticks "$MPID")
	lat "t_$n" "$MPORT" "${T_PATH[$k]}"
	c1=$(cpu_ticks "$MPID")
	T_LAT[$k]=$LAT
	TN=$(field "$LAT" n)
	T_CPU[$k]=$(calc "%.2f" "($c1 - $c0) * 1000 / $CLK_TCK / (${TN:-0} + $WARMUP)")
	check_alive "$MPID" monitord "$MDIR/monitord.log"
	echo "   A. tandem   $n: GET ${T_PATH[$k]}"
	echo "       $LAT; reply: $(t_summary "$n" <"$WORK/t_$n.body"); monitord CPU ${T_CPU[$k]} ms/request"
done
sleep 1.1	# the stats file is rewritten every second
A_S1=$(stored_now); A_T1=$(now_ms); A_W1=$(live_window)
check_alive "$LIVEPID" "live simulator" "$CDIR/live.out"
A_RATE=$(calc "%.0f" "($A_S1 - $A_S0) * 1000 / ($A_T1 - $A_T0)")
echo "   A. ingest during the tandem block: $((A_S1 - A_S0)) events stored in" \
    "$(calc "%.1f" "($A_T1 - $A_T0) / 1000") s = $A_RATE events/s (offered $LIVE_RATE/s); agents'" \
    "unacked backlog ${A_W0:-?} events at its start, ${A_W1:-?} at its end; load $(load1)"

# Block B: InfluxDB, the live simulator still ingesting into Tandem.
B_S0=$(stored_now); B_T0=$(now_ms)
for k in "${!NAMES[@]}"; do
	n=${NAMES[$k]}
	lat "i_$n" "$IPORT" "/query?db=bench&q=$(urlenc "${I_Q[$k]}")"
	I_LAT[$k]=$LAT
	check_alive "$IPID" influxd "$IDIR/influxd.log"
	echo "   B. influxdb $n: ${I_Q[$k]}"
	echo "       $LAT; reply: $(i_summary <"$WORK/i_$n.body")"
done
sleep 1.1
B_S1=$(stored_now); B_T1=$(now_ms); B_W1=$(live_window)
check_alive "$LIVEPID" "live simulator" "$CDIR/live.out"
check_alive "$CPID" collectord "$CDIR/collectord.log"
B_RATE=$(calc "%.0f" "($B_S1 - $B_S0) * 1000 / ($B_T1 - $B_T0)")
echo "   B. ingest into tandem during the influxdb block: $((B_S1 - B_S0)) events stored in" \
    "$(calc "%.1f" "($B_T1 - $B_T0) / 1000") s = $B_RATE events/s; agents' unacked backlog" \
    "${B_W1:-?} events at its end; load $(load1)"
METRICS=$(curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics")
LIVE_REFUSED=$(live_refused)
stop_sim "$LIVEPID"; LIVEPID=""	# its backlog is not waited for
echo "   live simulator: refused by agents ${LIVE_REFUSED:-?} events so far; store now $B_S1 events"
echo "   monitord's own view (/metrics: handler time, server-side, every request incl. warm-up):"
for r in apps queue perf transactions logs; do
	echo "$METRICS" | grep "^tandem_http_latency_us{route=\"$r\",quantile=\"0.99\"}" | sed 's/^/     /'
done
echo

# ---- results ----------------------------------------------------------------------------
ms() { calc "%.2f" "${1:-0} / 1000"; }
echo "== p50 / p99 HTTP latency, ms (n = timed requests; ingest into tandem: $A_RATE events/s during" \
    "the tandem block, $B_RATE during the influxdb block; offered $LIVE_RATE/s)"
printf '  %-28s %10s %10s %6s %8s   %10s %10s %6s\n' "query" "tandem p50" "p99" "n" "cpu/req" \
    "influx p50" "p99" "n"
echo "  (cpu/req: monitord's CPU ms per timed or warm-up request, its background refresh included)"
for k in "${!NAMES[@]}"; do
	printf '  %-28s %10s %10s %6s %8s   %10s %10s %6s\n' "${LABELS[$k]}" \
	    "$(ms "$(field "${T_LAT[$k]}" p50_us)")" "$(ms "$(field "${T_LAT[$k]}" p99_us)")" \
	    "$(field "${T_LAT[$k]}" n)" "${T_CPU[$k]}" \
	    "$(ms "$(field "${I_LAT[$k]}" p50_us)")" "$(ms "$(field "${I_LAT[$k]}" p99_us)")" \
	    "$(field "${I_LAT[$k]}" n)"
done
echo

verdict() { if [ "$(awk "BEGIN { print ($1) ? 1 : 0 }")" = 1 ]; then echo MET; else echo MISSED; fi; }
echo "== summary: issue 4 targets ($(nproc) cores shared with other work; store $STORED events" \
    "over $(calc "%.0f" "$FILL_MS / 1000") s; influxdb: $INFLUX_NOTE)"
LIVE_OK=$(awk "BEGIN { print ($A_RATE >= 0.95 * $LIVE_RATE) ? 1 : 0 }")
STORE_OK=$(awk "BEGIN { print ($STORED >= $EVENTS) ? 1 : 0 }")
[ "$STORE_OK" = 1 ] || echo "  NOTE: the store holds $STORED events, fewer than the $EVENTS asked for"
printf '  %-62s %-34s %s\n' "target" "measured" "verdict"
printf '  %-62s %-34s %s\n' "ingest held $LIVE_RATE/s while tandem was measured (>= 95%)" \
    "$A_RATE events/s" "$(verdict "$LIVE_OK == 1")"
for k in "${!NAMES[@]}"; do
	tp50=$(field "${T_LAT[$k]}" p50_us); tp99=$(field "${T_LAT[$k]}" p99_us)
	ip50=$(field "${I_LAT[$k]}" p50_us); ip99=$(field "${I_LAT[$k]}" p99_us)
	terr=$(field "${T_LAT[$k]}" errors); ierr=$(field "${I_LAT[$k]}" errors)
	tn=$(field "${T_LAT[$k]}" n); inn=$(field "${I_LAT[$k]}" n)
	ok="$tn > 0 && $terr == 0"
	printf '  %-62s %-34s %s\n' "${LABELS[$k]}: p99 <= 10 ms while ingesting" \
	    "$(ms "$tp99") ms" "$(verdict "$ok && $LIVE_OK == 1 && $tp99 <= $TARGET_P99_US")"
	printf '  %-62s %-34s %s\n' "${LABELS[$k]}: faster than InfluxDB (p50 and p99)" \
	    "$(ms "$tp50")/$(ms "$tp99") vs $(ms "$ip50")/$(ms "$ip99") ms" \
	    "$(verdict "$ok && $inn > 0 && $ierr == 0 && $tp50 < $ip50 && $tp99 < $ip99")"
done
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
