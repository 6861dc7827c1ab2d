#!/bin/bash
# Tandem — MIT licence. Replication between two collectors on loopback, driven through their
# control sockets as the HA daemon would: stream under load (acks wait for the standby), kill -9
# of the active, promotion of the standby, agents resuming on it with nothing lost or doubled,
# the old active returning as a standby (its divergent store set aside, a snapshot, then the
# stream), and equal digests at the end.
. "$(dirname "$0")/lib.sh"

ctl() { "$TANDEM" ctl "$T/$1/ctl.sock" "${@:2}"; }
json() { sed -E "s/.*\"$2\":([^,}]*).*/\1/" <<<"$1" | tr -d '"'; }

HA=("ha yes" "repl_listen 127.0.0.1:0" "repl_timeout 1s")
start_collector a 0 "${HA[@]}" "control_socket \"$T/a/ctl.sock\""
A_PID=$C_PID A_PORT=$C_PORT
start_collector b 0 "${HA[@]}" "control_socket \"$T/b/ctl.sock\""
B_PID=$C_PID B_PORT=$C_PORT
A_REPL=$(json "$(ctl a status)" repl_port)
B_REPL=$(json "$(ctl b status)" repl_port)
[ -n "$A_REPL" ] && [ "$A_REPL" != 0 ] || die "no replication port on a"

# Before any role, nobody takes agents.
"$PROBE" "$A_PORT" good early 1 > "$T/early.out" 2>&1 && die "a node with no role took events"

ctl a role active 1 > /dev/null || die "a: role active"
ctl b role standby 1 127.0.0.1:$A_REPL > /dev/null || die "b: role standby"

"$AGENT" simulate -c 127.0.0.1:$A_PORT -c 127.0.0.1:$B_PORT -n 50 -r 20000 -d 8 -b 32 \
    --timeout 40 > "$T/sim.out" 2>&1 &
SIM=$!
PIDS+=("$SIM")
enough() { [ "$(stat b repl_applied)" -gt 200 ] && [ "$(stat a events_stored)" -gt 40000 ]; }
wait_until 30 enough || { ctl a status; ctl b status; die "no replicated load"; }
st=$(ctl a status)
say "a before the kill: $st"
grep -q '"protected":true' <<<"$st" || die "the active is not protected by its standby"

kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null
ctl b role active 2 > /dev/null || die "b: role active"
say "a killed, b promoted"

wait_until 60 bash -c "! kill -0 $SIM 2>/dev/null" || die "simulator did not finish"
wait "$SIM" || { tail -5 "$T/sim.out"; die "simulator failed"; }
grep '^total' "$T/sim.out"
offered=$(awk '/^total: .* offered/ { for (i = 1; i <= NF; i++) if ($i == "offered") { print $(i+1); exit } }' "$T/sim.out")
"$TANDEM" verify -s "$T/b/store" || die "verify b"
total=$("$TANDEM" count -s "$T/b/store" | awk '/^total/ { print $5 }')
say "offered (and acked) $offered, on the new active $total"
[ "$total" = "$offered" ] || die "the new active holds $total of $offered acknowledged events"

# The old active comes back and follows the new one.
start_collector a "$A_PORT" "${HA[@]}" "control_socket \"$T/a/ctl.sock\""
ctl a role standby 2 127.0.0.1:$B_REPL > /dev/null || die "a: role standby"
caught_up() {
	local sa sb
	sa=$(ctl a status) && sb=$(ctl b status) &&
	[ "$(json "$sa" log_pos)" = "$(json "$sb" log_pos)" ]
}
wait_until 30 caught_up || { ctl a status; ctl b status; die "a did not catch up"; }
# A little more load on b, streamed to a.
"$AGENT" simulate -c 127.0.0.1:$B_PORT -n 5 -r 2000 -d 1 --id-prefix late --timeout 10 \
    > "$T/late.out" 2>&1 || die "late load"
wait_until 30 caught_up || die "a did not follow the late load"
if ls -d "$T"/a/store.aside-* > /dev/null 2>&1; then
	say "a's old store kept aside: $(ls -d "$T"/a/store.aside-*)"
	grep -E 'DIVERGED|kept at' "$T/a/log"
fi
A_PID=$C_PID
kill -TERM "$A_PID" "$B_PID"
wait_until 10 bash -c "! kill -0 $A_PID 2>/dev/null && ! kill -0 $B_PID 2>/dev/null" ||
    die "collectors did not stop"
da=$("$TANDEM" digest -s "$T/a/store")
db=$("$TANDEM" digest -s "$T/b/store")
say "digest a $da"
say "digest b $db"
[ "$da" = "$db" ] || die "the stores differ"
say "PASS"
