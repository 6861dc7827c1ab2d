#!/bin/bash
# Tandem — MIT licence. Partitions of the active node, under load:
#   1. link cut: its bridge port goes down (carrier lost), then comes back;
#   2. no carrier loss: its bridge port stops forwarding (`bridge link set ... state 0`, inside
#      the rig's bridge namespace), then forwards again.
# Each time: the other node takes over; after the heal there are never two holders once
# settled, the client reaches the winner (its MAC, a TCP answer) within 1 s of the heal; at the
# end every acknowledged event is on the final active exactly once (when replicating).
. "$(dirname "$0")/lib.sh"

netns_require
start_pair

start_load 14 2000
wait_until 10 client_reaches 200 || die "the client cannot reach the service IP"
sleep 1

# client_on HOST: the client's entry for the service IP is HOST's MAC and TCP answers there.
client_on() { client_mac_is "$1" && client_reaches 100; }

# cycle HOW: partitions the current active with HOW (down|block), heals, checks.
cycle() {
	local how=$1 act other t_heal t ms
	act=$(active_node)
	[ -n "$act" ] || die "no single active before the partition"
	[ "$act" = a ] && other=b || other=a
	case $how in
	down)	ip -n "${NS[br]}" link set "p$act" down ;;
	block)	bridge -n "${NS[br]}" link set dev "p$act" state 0 ;;
	esac
	say "[$how] partitioned the active node $act"
	wait_until 3 is_role "$other" ACTIVE || die "[$how] $other did not take over"
	wait_until 2 client_on "$other" || die "[$how] client does not reach $other during the partition"
	say "[$how] $other took over (term $(term $other)); $act says $(role $act); holders: $(holders)"
	sleep 1
	case $how in
	down)	ip -n "${NS[br]}" link set "p$act" up ;;
	block)	bridge -n "${NS[br]}" link set dev "p$act" state 3 ;;
	esac
	t_heal=$(now_ms)
	wait_until 1 client_on "$other" || die "[$how] client does not reach the winner $other within 1 s of the heal"
	ms=$(( $(now_ms) - t_heal ))
	wait_until 3 settled || die "[$how] not settled 3 s after the heal: roles a=$(role a) b=$(role b), holders $(holders)"
	[ "$(active_node)" = "$other" ] || die "[$how] winner is $(active_node), expected $other (higher term)"
	# Settled means settled: sample for a second, never two holders, client stays on the winner.
	for t in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(holders)" = "$other" ] || die "[$how] holders after settling: $(holders)"
		client_mac_is "$other" || die "[$how] client went back to $act's MAC"
		sleep 0.1
	done
	say "[$how] healed: client on the winner $other ${ms} ms after the heal; one holder ($(holders)); $act is $(role $act)"
}

cycle down
wait_until 5 is_role "$( [ "$(active_node)" = a ] && echo b || echo a)" STANDBY || die "loser did not rejoin as standby"
cycle block

wait_load 60
final=$(active_node)
say "simulator: exit $SIM_RC, offered $OFFERED, acked $ACKED"
check_events "$final"
rc=$?
[ "$SIM_RC" = 0 ] || { [ "$REPL" = 1 ] && die "simulator exited $SIM_RC"; }
[ $rc = 0 ] || [ $rc = 2 ] || die "event check"
say "PASS"
