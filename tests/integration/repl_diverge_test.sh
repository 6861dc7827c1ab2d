#!/bin/bash
# Tandem — MIT licence. Split brain on loopback: both collectors active and each takes events
# the other lacks. When one rejoins as standby it receives a snapshot, keeps its own store aside
# (reported, never dropped), and both end with equal digests. Also: a standby that joins after
# the active's record ring has moved on gets a snapshot, then the stream.
. "$(dirname "$0")/lib.sh"

ctl() { "$TANDEM" ctl "$T/$1/ctl.sock" "${@:2}"; }
json() { sed -E "s/.*\"$2\":([^,}]*).*/\1/" <<<"$1" | tr -d '"'; }

HA=("ha yes" "repl_listen 127.0.0.1:0" "repl_timeout 200ms" "repl_ring 1M")
start_collector a 0 "${HA[@]}" "control_socket \"$T/a/ctl.sock\""
A_PID=$C_PID A_PORT=$C_PORT
start_collector b 0 "${HA[@]}" "control_socket \"$T/b/ctl.sock\""
B_PID=$C_PID B_PORT=$C_PORT
A_REPL=$(json "$(ctl a status)" repl_port)

ctl a role active 1 > /dev/null || die "a active"
ctl b role active 1 > /dev/null || die "b active"
"$PROBE" "$A_PORT" good only-on-a 5 > /dev/null || die "events into a"
"$PROBE" "$B_PORT" good only-on-b 3 > /dev/null || die "events into b"

# b loses: it follows a.
ctl b role standby 2 127.0.0.1:$A_REPL > /dev/null || die "b standby"
same() { [ "$(json "$(ctl a status)" log_pos)" = "$(json "$(ctl b status)" log_pos)" ] &&
    [ "$(json "$(ctl b status)" log_pos)" != 0 ]; }
wait_until 20 same || { ctl a status; ctl b status; die "b did not take a's history"; }
grep -q 'DIVERGED' "$T/b/log" || die "b did not report the divergence"
aside=$(ls -d "$T"/b/store.aside-* 2>/dev/null | head -1)
[ -n "$aside" ] || die "b's own store was not kept aside"
"$TANDEM" count -s "$aside" | grep -q '^agent only-on-b .* events 30 ' ||
    die "the events only b held are not in the store set aside"
say "b's divergent store kept at $aside with its 30 events"

# A second, later standby: the ring (1 MiB) has moved on, so it starts from a snapshot.
"$AGENT" simulate -c 127.0.0.1:$A_PORT -n 10 -r 20000 -d 2 --timeout 20 > "$T/sim.out" 2>&1 ||
    die "load on a"
start_collector c 0 "${HA[@]}" "control_socket \"$T/c/ctl.sock\""
C_PID2=$C_PID
ctl b role standby 2 127.0.0.1:1 > /dev/null	# b lets go of a
ctl c role standby 2 127.0.0.1:$A_REPL > /dev/null || die "c standby"
same_c() { [ "$(json "$(ctl a status)" log_pos)" = "$(json "$(ctl c status)" log_pos)" ]; }
wait_until 30 same_c || { ctl a status; ctl c status; die "c did not catch up"; }
grep -q 'receiving a snapshot' "$T/c/log" || die "c caught up without a snapshot"
"$AGENT" simulate -c 127.0.0.1:$A_PORT -n 3 -r 2000 -d 1 --id-prefix after --timeout 10 \
    > "$T/after.out" 2>&1 || die "load after the snapshot"
wait_until 20 same_c || die "c did not follow the stream after its snapshot"

kill -TERM "$A_PID" "$B_PID" "$C_PID2"
wait_until 10 bash -c "! kill -0 $A_PID 2>/dev/null && ! kill -0 $C_PID2 2>/dev/null" ||
    die "collectors did not stop"
da=$("$TANDEM" digest -s "$T/a/store")
dc=$("$TANDEM" digest -s "$T/c/store")
say "digest a $da"
say "digest c $dc"
[ "$da" = "$dc" ] || die "a and c differ"
"$TANDEM" verify -s "$T/c/store" || die "verify c"
say "PASS"
