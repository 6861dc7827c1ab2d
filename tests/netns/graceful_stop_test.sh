#!/bin/bash
# Tandem — MIT licence. A graceful stop of the active node's had (SIGTERM, as systemd stops it)
# under agent load: it drains its collector until the standby holds everything, removes the
# service IP, and tells the peer in its last heartbeats to take over at once; the peer does
# so without waiting for the dead timeout, agents reconnect through the service IP and lose
# nothing, and the stopped had exits 0.
. "$(dirname "$0")/lib.sh"

netns_require
[ "$REPL" = 1 ] || skip "this collector build has no replication"
start_pair
say "a is active, b standby"

start_load 8 3000
wait_until 10 client_reaches 200 || die "the client cannot reach the service IP"
sleep 2
t0=$(now_ms)
kill -TERM "${HAD_PID[a]}"
wait_until 3 is_role b ACTIVE || die "b did not take over after a's graceful stop"
t_active=$(( $(now_ms) - t0 ))
wait_until 5 bash -c "! kill -0 ${HAD_PID[a]} 2>/dev/null" || die "a's had did not exit"
wait "${HAD_PID[a]}"
rc=$?
[ "$rc" = 0 ] || die "a's had exited $rc after SIGTERM"
has_vip a && die "a still holds $VIP after its graceful stop"
wait_until 2 bash -c "[ \"\$(ip -n ${NS[b]} -4 addr show dev eth0 | grep -c 'inet $VIP/')\" = 1 ]" ||
    die "b does not hold $VIP"
wait_until 2 client_reaches 200 || die "the service IP does not answer on b"
grep -q "stop on signal" "$T/a/had.log" || die "a's had did not log its stop"
say "SIGTERM to a's had -> b active after $t_active ms (dead timeout 300 ms); a released $VIP and exited 0"
# The stop was a handover, not a silence: b took over on a's last heartbeat, not by timeout.
grep -q "peer silent" "$T/b/had.log" && die "b took over by the dead timeout, not on a's handover: $(grep 'ACTIVE' "$T/b/had.log" | tail -2)"

wait_load 60
say "simulator: exit $SIM_RC, offered $OFFERED, acked $ACKED; $(grep -o 'reconnects [0-9]*' "$T/sim.out" | tail -1)"
[ "$SIM_RC" = 0 ] || die "simulator exited $SIM_RC"
[ "$(grep -o 'reconnects [0-9]*' "$T/sim.out" | tail -1 | cut -d' ' -f2)" -ge 1 ] ||
    die "no agent reconnected: they did not move to b"
check_events b
say "PASS"
