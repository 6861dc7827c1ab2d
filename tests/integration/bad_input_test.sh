#!/bin/bash
# Tandem — MIT licence. Every bad input of the ingest issue against a live collector: a clear
# Error frame, the connection closed, a counter raised, and nothing else disturbed.
. "$(dirname "$0")/lib.sh"

start_collector c 0 "token s3cret" "hello_timeout 1s" "write_timeout 2s" "conn_out_max 64K"
export PROBE_TOKEN=s3cret

"$PROBE" "$C_PORT" good before 5 || die "a good agent was not acknowledged"
"$PROBE" "$C_PORT" bad | tee "$T/bad.out"
grep -q FAIL "$T/bad.out" && die "a bad-input scenario failed"
"$PROBE" "$C_PORT" noread || die "never-reads-acks"
"$PROBE" "$C_PORT" many 10000 || die "10 000 connections"
alive "$C_PID" || die "the collector died"
rss=$(rss_kb "$C_PID")
say "collector RSS after 10 000 connections: $((rss / 1024)) MiB"
[ "$rss" -lt 204800 ] || die "RSS $rss kB over 200 MiB"

# The well-behaved agent is undisturbed and resumes where it was.
"$PROBE" "$C_PORT" good before 5 | tee "$T/good.out"
grep -q 'welcome stored_seq 50, acked up to 100' "$T/good.out" || die "good agent lost its place"

# Counters: one per reason, each raised.
wait_until 5 bash -c "[ \$(awk '\$1==\"conns_open\"{print \$2}' $T/c/stats) = 0 ]" ||
    die "connections not all closed: $(stat c conns_open) open"
for reason in frame too-large decode unexpected version auth seq bounds idle; do
	n=$(stat c "errors_$reason")
	[ "$n" -gt 0 ] || die "counter errors_$reason not raised"
	say "errors_$reason = $n"
done
kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "no clean stop"
"$TANDEM" verify -s "$T/c/store" || die "store verify"
"$TANDEM" count -s "$T/c/store" | grep -q 'agent before app probe-app stored_seq 100 events 100 ' ||
    die "the good agent's 100 events are not stored exactly"
say "PASS"
