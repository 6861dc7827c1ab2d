#!/bin/bash
# Tandem — MIT licence. 20 failovers in a row under agent load: each round kills the active
# node (had and collectord, -9), waits for the other to take the service IP, restarts the dead
# node, which rejoins as standby and catches up. At the end every acknowledged event is on the
# active node exactly once, nothing lost and nothing duplicated, and both stores agree.
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-20}
netns_require
[ "$REPL" = 1 ] || skip "this collector build has no replication"
start_pair

caught_up() {
	local sa sb
	sa=$("$TANDEM" ctl "$T/a/coll.sock" status 2>/dev/null) &&
	    sb=$("$TANDEM" ctl "$T/b/coll.sock" status 2>/dev/null) &&
	    [ "$(jq .log_pos <<<"$sa")" = "$(jq .log_pos <<<"$sb")" ]
}
# The standby follows and holds (nearly) everything the active has: only then may it promote
# (had refuses to promote a standby behind the active's acknowledged position, by design).
standby_following() {
	local other=$1 act=$2 ps pa
	[ "$(role "$other")" = STANDBY ] || return 1
	ps=$("$TANDEM" ctl "$T/$other/coll.sock" status 2>/dev/null) || return 1
	pa=$("$TANDEM" ctl "$T/$act/coll.sock" status 2>/dev/null) || return 1
	jq -e '.role == "standby" and .repl.connected' <<<"$ps" > /dev/null || return 1
	[ $(( $(jq .log_pos <<<"$pa") - $(jq .log_pos <<<"$ps") )) -le 2 ]
}

LOAD_TIMEOUT=120
start_load $((ROUNDS * 4 + 10)) 2000
wait_until 10 client_reaches 200 || die "the client cannot reach the service IP"
for ((r = 1; r <= ROUNDS; r++)); do
	act=$(active_node)
	[ -n "$act" ] || die "round $r: no single active node"
	other=$([ "$act" = a ] && echo b || echo a)
	# The standby must be following before its active dies, or it would not hold everything.
	wait_until 20 standby_following "$other" "$act" ||
	    die "round $r: $other is not a caught-up standby"
	kill_node "$act"
	wait_until 5 is_role "$other" ACTIVE || die "round $r: $other did not take over"
	wait_until 3 client_reaches 200 || die "round $r: the service IP does not answer on $other"
	# The agents find the new active before the next kill: without this the rounds outrun
	# their reconnect backoff, their windows fill, and the application sees refusals (the
	# simulator counts those; nothing acknowledged is lost, but the check below is strict).
	wait_until 15 agents_on "$other" "${LOAD_APPS:-20}" ||
	    die "round $r: the agents did not reconnect to $other"
	start_node "$act"
	say "round $r: $act killed, $other active (term $(term "$other")), $act back"
done
wait_load $((ROUNDS * 4 + 140))
say "simulator: exit $SIM_RC, offered $OFFERED, acked $ACKED; $(grep -o 'reconnects [0-9]*' "$T/sim.out" | tail -1)"
[ "$SIM_RC" = 0 ] || die "simulator exited $SIM_RC"
act=$(active_node)
check_events "$act"
wait_until 30 caught_up || die "the standby did not catch up at the end"
da=$("$TANDEM" digest -s "$T/a/store")
db=$("$TANDEM" digest -s "$T/b/store")
say "digest a: $da"
say "digest b: $db"
[ "$da" = "$db" ] || die "the two stores differ"
say "PASS"
