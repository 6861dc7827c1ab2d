#!/bin/bash
# Tandem — MIT licence. A full store is a clear refusal: Error frames, no acks for what was not
# stored, a log line, counters — and no crash, nothing already stored lost.
. "$(dirname "$0")/lib.sh"

start_collector c 0 "map_size 1M"
"$AGENT" simulate -c 127.0.0.1:$C_PORT -n 4 -r 20000 -d 3 -b 32 --timeout 3 > "$T/sim.out" 2>&1
grep '^total' "$T/sim.out"
alive "$C_PID" || die "the collector died on a full map"
grep -q 'map full' "$T/c/log" || die "no log line about the full map"
sleep 1.1	# the stats file is rewritten every second
refused=$(stat c store_full_refusals)
failures=$(stat c commit_failures)
errs=$(stat c errors_store-full)
say "store_full_refusals $refused, commit_failures $failures, errors_store-full $errs"
[ "$errs" -gt 0 ] || die "no ERR_STORE_FULL frame sent"
grep -Eq 'collector errors [1-9]' "$T/sim.out" || die "agents saw no error"
acked=$(awk '/^total: .* enqueued .* acked/ { for (i = 1; i <= NF; i++) if ($i == "acked") { v = $(i+1) } } END { gsub(",", "", v); print v }' "$T/sim.out")

# Reads still work while full, and a new agent still gets its Welcome.
"$TANDEM" verify -s "$T/c/store" > "$T/verify.out" || { cat "$T/verify.out"; die "verify"; }
stored=$("$TANDEM" count -s "$T/c/store" | awk '/^total/ { print $5 }')
say "acked $acked, stored $stored"
[ "$stored" -ge "$acked" ] || die "acked $acked events but only $stored are stored"
"$PROBE" "$C_PORT" good late 1 > "$T/late.out" 2>&1
grep -q 'welcome' "$T/late.out" || die "no Welcome while the store is full"
kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "no clean stop"
say "PASS"
