#!/bin/bash
# Tandem — MIT licence. The standby restarts while the active takes load: once with its store
# (it streams from where it was), once with its store wiped (a new standby: a snapshot, then
# the stream). Each time it catches up and the digests of the two stores match.
. "$(dirname "$0")/lib.sh"

netns_require
[ "$REPL" = 1 ] || skip "this collector build has no replication"
# A small record ring: the wiped standby's history outgrows it, so it needs a snapshot.
COLL_EXTRA=("repl_ring 1M")
start_pair

pos() { "$TANDEM" ctl "$T/$1/coll.sock" status 2>/dev/null | jq .log_pos; }
caught_up() { [ "$(pos a)" = "$(pos b)" ] && [ -n "$(pos a)" ]; }
# Under load the standby trails by a commit or two.
following() {
	local pa pb
	pa=$(pos a) && pb=$(pos b) && [ -n "$pa" ] && [ -n "$pb" ] && [ $((pa - pb)) -le 20 ]
}

LOAD_TIMEOUT=60
start_load 60 3000
wait_until 10 client_reaches 200 || die "the client cannot reach the service IP"

for how in keep wipe; do
	wait_until 10 following || die "b is not following before the $how restart"
	if [ "$how" = wipe ]; then
		# Wait until the history has outgrown the active's record ring: then a new standby
		# cannot be served from the ring and needs a snapshot.
		ring_moved() { [ "$("$TANDEM" ctl "$T/a/coll.sock" status | jq .repl.ring_first)" -gt 1 ]; }
		wait_until 60 ring_moved || die "the record ring never moved on"
	fi
	kill_node b
	if [ "$how" = wipe ]; then
		rm -rf "$T/b/store"
	fi
	behind=$(pos a)
	# The active goes on taking load while b is away.
	wait_until 10 bash -c "[ \$($TANDEM ctl $T/a/coll.sock status | jq .log_pos) -gt $((behind + 50)) ]" ||
	    die "the active took no load while b was away"
	start_node b
	wait_until 30 following || die "b did not catch up after the $how restart"
	if [ "$how" = wipe ]; then
		grep -q 'receiving a snapshot' "$T/b/coll.log" || die "a wiped standby caught up without a snapshot"
	fi
	say "b restarted ($how): caught up at position $(pos b)"
done
wait_load 150
[ "$SIM_RC" = 0 ] || die "simulator exited $SIM_RC"
check_events a
wait_until 30 caught_up || die "b did not catch up at the end"
da=$("$TANDEM" digest -s "$T/a/store")
db=$("$TANDEM" digest -s "$T/b/store")
say "digest a: $da"
say "digest b: $db"
[ "$da" = "$db" ] || die "the two stores differ"
say "PASS"
