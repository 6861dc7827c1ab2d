#!/bin/bash
# Tandem — MIT licence. Retention prunes raw events by age and keeps the recent ones.
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
} > "$T/events.jsonl"
"$AGENT" send -c 127.0.0.1:$C_PORT -a ret-1 -A retention-app < "$T/events.jsonl" > "$T/send.out" 2>&1 ||
    { cat "$T/send.out"; die "send failed"; }
pruned() { [ "$(stat c pruned_blocks)" -gt 0 ]; }
wait_until 10 pruned || die "nothing pruned"
kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "no clean stop"
old=$("$TANDEM" dump -s "$T/c/store" -a retention-app | grep -c '"job":"old"')
new=$("$TANDEM" dump -s "$T/c/store" -a retention-app | grep -c '"job":"new"')
say "after pruning: $old old events, $new recent events"
[ "$old" = 0 ] || die "$old events older than the retention survived"
[ "$new" = 20 ] || die "recent events lost: $new of 20"
say "PASS"
