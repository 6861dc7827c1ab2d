#!/bin/bash
# Tandem — MIT licence. SIGTERM under load: the collector stops reading, commits, acks, exits 0;
# after a restart the agents resume and nothing is lost or stored twice.
. "$(dirname "$0")/lib.sh"

start_collector c 0
PORT=$C_PORT
"$AGENT" simulate -c 127.0.0.1:$PORT -n 50 -r 30000 -d 6 -b 16 --timeout 30 > "$T/sim.out" 2>&1 &
SIM=$!
PIDS+=("$SIM")
enough() { [ "$(stat c events_stored)" -gt 30000 ]; }
wait_until 20 enough || die "no ingest"
kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "collector did not exit on SIGTERM"
wait "$C_PID"
rc=$?
[ "$rc" = 0 ] || die "collector exited $rc on SIGTERM"
grep -q 'shutdown on signal 15' "$T/c/log" || die "no shutdown log line"
grep 'stopped:' "$T/c/log"
start_collector c "$PORT"
wait_until 40 bash -c "! kill -0 $SIM 2>/dev/null" || die "simulator did not finish"
wait "$SIM" || die "simulator failed"
offered=$(awk '/^total: .* offered/ { for (i = 1; i <= NF; i++) if ($i == "offered") { print $(i+1); exit } }' "$T/sim.out")
kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "no second stop"
"$TANDEM" verify -s "$T/c/store" || die "verify"
total=$("$TANDEM" count -s "$T/c/store" | awk '/^total/ { print $5 }')
say "offered $offered, stored $total"
[ "$total" = "$offered" ] || die "stored $total of $offered"
say "PASS"
