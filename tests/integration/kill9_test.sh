#!/bin/bash
# Tandem — MIT licence. kill -9 the collector in the middle of many agents' streams, restart it,
# let the agents resume: every event is stored exactly once (and every one was acknowledged).
. "$(dirname "$0")/lib.sh"

start_collector c 0 "token s3cret"
PORT=$C_PORT
"$AGENT" simulate -c 127.0.0.1:$PORT -t s3cret -n 200 -r 40000 -d 8 -b 32 --timeout 40 \
    > "$T/sim.out" 2>&1 &
SIM=$!
PIDS+=("$SIM")

enough() { [ "$(stat c events_stored)" -gt 60000 ]; }
wait_until 20 enough || die "no ingest before the kill"
# The collector hangs, then dies: frames the agents sent meanwhile sit unread in its sockets,
# so the kill always catches events that were sent but never stored (an idle collector that
# keeps up commits what it reads within a millisecond, and a bare kill -9 often found
# nothing in flight).
kill -STOP "$C_PID"
unread() { ss -Htn state established "( sport = :$PORT )" | awk '$1 > 0 { n++ } END { exit !(n > 0) }'; }
wait_until 5 unread || die "no unread frames in the stopped collector's sockets"
kill -9 "$C_PID"
wait "$C_PID" 2>/dev/null
stored_before=$(stat c events_stored)
say "killed the collector with -9 after about $stored_before stored events"

# The agents keep generating and retry with backoff while it is down.
sleep 0.5
start_collector c "$PORT" "token s3cret"
say "restarted on port $PORT"

wait_until 60 bash -c "! kill -0 $SIM 2>/dev/null" || die "simulator did not finish"
wait "$SIM"
sim_rc=$?
cat "$T/sim.out" | grep '^total' 
offered=$(awk '/^total: .* offered/ { for (i = 1; i <= NF; i++) if ($i == "offered") { print $(i+1); exit } }' "$T/sim.out")
acked=$(awk '/^total: .* enqueued .* acked/ { for (i = 1; i <= NF; i++) if ($i == "acked") { v = $(i+1) } } END { gsub(",", "", v); print v }' "$T/sim.out")
resent=$(grep -o 'resent [0-9]*' "$T/sim.out" | head -1 | awk '{print $2}')
[ "$sim_rc" = 0 ] || die "simulator exited $sim_rc"
[ -n "$offered" ] && [ "$offered" -gt 0 ] || die "could not read the simulator's totals"
[ "$acked" = "$offered" ] || die "acked $acked of $offered offered events"
[ "${resent:-0}" -gt 0 ] || die "nothing was resent: the kill did not interrupt the stream"

kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "collector did not stop on SIGTERM"
"$TANDEM" verify -s "$T/c/store" > "$T/verify.out" || { cat "$T/verify.out"; die "verify found problems"; }
total=$("$TANDEM" count -s "$T/c/store" | awk '/^total/ { print $5 }')
say "offered $offered, acked $acked, resent $resent, stored $total; $(tail -1 "$T/verify.out")"
[ "$total" = "$offered" ] || die "stored $total events, offered and acked $offered"
dups=$("$TANDEM" count -s "$T/c/store" | awk '/^total/ { print $7 }')
say "duplicates dropped by the collector after the restart: $dups"
say "PASS"
