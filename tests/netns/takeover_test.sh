#!/bin/bash
# Tandem — MIT licence. kill -9 the active node (had and collectord) under agent load from the
# client: the standby takes the service IP and the collector port answers on it; the client's
# neighbour entry for the service IP now carries the new node's MAC (GARP); the dead node's
# address expires by its kernel lifetime; every acknowledged event is on the survivor exactly
# once (when the collector replicates).
. "$(dirname "$0")/lib.sh"

netns_require
start_pair
[ "$(active_node)" = a ] || die "b took over from a healthy active (no preemption expected)"
say "a is active, b standby; holders: $(holders)"

start_load 8 3000
wait_until 10 client_reaches 200 || die "the client cannot reach the service IP"
sleep 2
client_reaches 200 || die "service IP not answering before the kill"
mac_before=$(client_vip_mac)
[ "$mac_before" = "$(mac_of a)" ] || die "client's entry for $VIP is $mac_before, not a's $(mac_of a)"

t0=$(date +%s%N)
kill_node a
ms=$(nsx c "$PROBE" first "$VIP:$COLL_PORT" 5000 "$t0") || die "service IP did not answer within 5 s of the kill"
say "kill -9 of a -> first TCP answer on $VIP from the client: $ms ms"

wait_until 2 is_role b ACTIVE || die "b is not active"
has_vip b || die "b does not hold the service IP"
wait_until 1 client_mac_is b || die "client's neighbour entry still $(client_vip_mac), b is $(mac_of b)"
say "client's neighbour entry for $VIP: $mac_before (a) -> $(client_vip_mac) (b): GARP seen"
ctl b status | sed 's/^/  b: /'

# The dead node keeps the address only until its lifetime (2 s after the last renewal) runs out.
t1=$(now_ms)
wait_until 6 bash -c "! ip -n ${NS[a]} -4 addr show dev eth0 | grep -q 'inet $VIP/'" || \
    die "the dead node still holds $VIP 6 s after the kill"
say "dead node a lost $VIP by itself $(( $(now_ms) - t1 )) ms after the check began (lifetime 2 s)"
[ "$(holders)" = b ] || die "holders: $(holders)"
# had's stats file (monitord's /metrics reads it): the survivor counted the lost heartbeats
# and says it is active; a's file stopped with a's last state.
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$T/$1/had.stats"; }
wait_until 3 bash -c "[ \"\$(awk '\$1 == \"active\" { print \$2 }' '$T/b/had.stats')\" = 1 ]" ||
    die "b's had.stats does not say active: $(tr '\n' ' ' < "$T/b/had.stats")"
missed=$(stat_of b hb_missed)
[ "${missed:-0}" -ge 1 ] || die "b's had.stats counted no missed heartbeats after a's death"
[ "$(stat_of b hb_received)" -ge 1 ] || die "b's had.stats: no heartbeats received"
say "b's had.stats: hb_missed $missed, hb_received $(stat_of b hb_received), failovers $(stat_of b failovers)"

wait_load 60
say "simulator: exit $SIM_RC, offered $OFFERED, acked $ACKED; $(grep -o 'reconnects [0-9]*' "$T/sim.out" | tail -1)"
check_events b
rc=$?
[ "$SIM_RC" = 0 ] || { [ "$REPL" = 1 ] && die "simulator exited $SIM_RC"; }
[ $rc = 0 ] || [ $rc = 2 ] || die "event check"
say "PASS"
