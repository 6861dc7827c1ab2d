#!/bin/bash
# Tandem — MIT licence. Retention prunes raw events by age and keeps the recent ones; the derived
# records it covers go too (per-minute rollups, finished transactions), while a transaction
# still running stays on the board however old it is.
. "$(dirname "$0")/lib.sh"

start_collector c 0 "retention 1h" "retention_interval 1s"
now=$(($(date +%s) * 1000))
{
	for i in $(seq 1 50); do
		echo "{\"kind\":\"job\",\"job\":\"old\",\"duration_us\":$i,\"ok\":true,\"time_ms\":$((now - 3 * 3600000 + i))}"
	done
	for i in $(seq 1 20); do
		echo "{\"kind\":\"job\",\"job\":\"new\",\"duration_us\":$i,\"ok\":true,\"time_ms\":$((now - 60000 + i))}"
	done
	old=$((now - 3 * 3600000))
	echo "{\"kind\":\"txn\",\"txn_id\":\"T-old-done\",\"step\":\"pick\",\"state\":\"begin\",\"time_ms\":$((old + 100))}"
	echo "{\"kind\":\"txn\",\"txn_id\":\"T-old-done\",\"step\":\"pack\",\"state\":\"end\",\"time_ms\":$((old + 200))}"
	echo "{\"kind\":\"txn\",\"txn_id\":\"T-old-running\",\"step\":\"pick\",\"state\":\"begin\",\"time_ms\":$((old + 300))}"
	echo "{\"kind\":\"txn\",\"txn_id\":\"T-new-done\",\"step\":\"pick\",\"state\":\"begin\",\"time_ms\":$((now - 30000))}"
	echo "{\"kind\":\"txn\",\"txn_id\":\"T-new-done\",\"step\":\"pack\",\"state\":\"end\",\"time_ms\":$((now - 29000))}"
} > "$T/events.jsonl"
"$AGENT" send -c 127.0.0.1:$C_PORT -a ret-1 -A retention-app < "$T/events.jsonl" > "$T/send.out" 2>&1 ||
    { cat "$T/send.out"; die "send failed"; }
pruned() { [ "$(stat c pruned_blocks)" -gt 0 ] && [ "$(stat c pruned_derived)" -gt 0 ]; }
wait_until 10 pruned || die "nothing pruned: $(grep pruned "$T/c/stats")"
# Derived records: the minute of each rollup key (app | [id |] minute_ms, hex from mdb_dump).
minutes() { # minutes DB KEYBYTES: the minute_ms of every key
	mdb_dump -s "$1" "$T/c/store" | awk -v off=$(( ($2 - 8) * 2 )) '
	    /^HEADER=END/ { body = 1; next } /^DATA=END/ { body = 0 }
	    body && /^ / { if (n++ % 2 == 0) print substr($1, off + 1, 16) }' |
	    while read -r h; do echo $((16#$h)); done
}
entries() { mdb_stat -s "$1" "$T/c/store" | awk '/Entries:/ { print $2 }'; }
cut=$((now - 3600000))
# derived_pruned [-v]: no rollup older than the retention, the recent ones kept, one finished
# transaction (the recent one) and one running (the old one) left.
derived_pruned() {
	local db all stale rc=0
	for db in d_jobs_1m:16 d_apps_1m:12 d_steps_1m:16; do
		all=$(minutes "${db%%:*}" "${db##*:}" | wc -l)
		stale=$(minutes "${db%%:*}" "${db##*:}" | awk -v c=$cut '$1 + 60000 <= c' | wc -l)
		[ "${1:-}" = -v ] && say "${db%%:*}: $all records, $stale older than the retention"
		[ "$all" -ge 1 ] && [ "$stale" = 0 ] || rc=1
	done
	[ "${1:-}" = -v ] && say "d_txn_done: $(entries d_txn_done) (T-new-done), d_txn_live: $(entries d_txn_live) (T-old-running)"
	[ "$(entries d_txn_done)" = 1 ] && [ "$(entries d_txn_live)" = 1 ] && return $rc
	return 1
}
wait_until 15 derived_pruned || { derived_pruned -v; die "derived records not pruned as expected"; }
kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "no clean stop"
old=$("$TANDEM" dump -s "$T/c/store" -a retention-app | grep -c '"job":"old"')
new=$("$TANDEM" dump -s "$T/c/store" -a retention-app | grep -c '"job":"new"')
say "after pruning: $old old events, $new recent events"
[ "$old" = 0 ] || die "$old events older than the retention survived"
[ "$new" = 20 ] || die "recent events lost: $new of 20"

derived_pruned -v || die "derived records after the stop are not as expected"
say "PASS"
