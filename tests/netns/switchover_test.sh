#!/bin/bash
# Tandem — MIT licence. tandemctl failover under load: the active drains, the standby catches up,
# roles swap, the service IP moves (GARP), agents reconnect and lose nothing; the client's gap
# is measured. Then the refusals: from the standby, in maintenance mode, to an unhealthy standby.
. "$(dirname "$0")/lib.sh"

netns_require
start_pair
say "a is active, b standby"

out=$(ctl b failover 2>&1) && die "failover from the standby was accepted: $out"
say "failover on the standby refused: $out"

start_load 8 3000
wait_until 10 client_reaches 200 || die "the client cannot reach the service IP"
sleep 2
nsx c "$PROBE" gap "$VIP:$COLL_PORT" 3000 > "$T/gap.out" &
GAP_PID=$!
PIDS+=("$GAP_PID")
sleep 0.5
out=$(ctl a failover 2>&1) || die "failover refused: $out"
say "tandemctl failover on a: $out"
wait_until 2 settled || die "not settled after the switchover"
[ "$(active_node)" = b ] || die "b is not the active node"
[ "$(role a)" = STANDBY ] || die "a is $(role a)"
wait_until 1 client_mac_is b || die "client's neighbour entry is not b's MAC"
wait "$GAP_PID"
say "client gap during the switchover (TCP connects every 2 ms): $(cat "$T/gap.out")"
ctl b status | sed 's/^/  b: /'

wait_load 60
say "simulator: exit $SIM_RC, offered $OFFERED, acked $ACKED; $(grep -o 'reconnects [0-9]*' "$T/sim.out" | tail -1)"
check_events b
rc=$?
[ "$SIM_RC" = 0 ] || { [ "$REPL" = 1 ] && die "simulator exited $SIM_RC"; }
[ $rc = 0 ] || [ $rc = 2 ] || die "event check"

# Maintenance freezes roles: a switchover is refused.
ctl b maintenance on >/dev/null || die "maintenance on"
out=$(ctl b failover 2>&1) && die "failover accepted in maintenance mode"
say "failover in maintenance mode refused: $out"
ctl b maintenance off >/dev/null || die "maintenance off"

# An unhealthy standby (its collector is gone) is not a switchover target.
kill -9 "${COLL_PID[a]}"
wait_until 3 bash -c "$TANDEMCTL -j -s $T/b/had.sock status | jq -e '.peer.healthy == false or .peer.role != \"STANDBY\"' >/dev/null" || \
    die "b does not see a as unhealthy"
out=$(ctl b failover 2>&1) && die "failover to an unhealthy standby accepted"
say "failover to a standby whose collector died refused: $out"
[ "$(active_node)" = b ] && has_vip b || die "b lost the service"
say "PASS"
