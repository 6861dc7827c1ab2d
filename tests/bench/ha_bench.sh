#!/bin/bash
# Tandem — MIT licence. HA benchmark: the netns rig of tests/netns (two servers, a client, a
# service IP on a private subnet inside namespaces made here) runs Tandem, then keepalived, and
# prints min / median / max over TRIALS (default 10) trials of:
#   - kill -9 of the active node -> first TCP answer on the service IP from the client
#   - link down of the active's bridge port -> first TCP answer
#   - switchover (Tandem only): client TCP gap and agent ack gap
#   - Tandem: time until an agent is acknowledged again after the kill; acked events lost
#   - Tandem at a 10 ms heartbeat: takeover, and failovers caused by 100 ms stalls of the
#     standby's process (SIGSTOP/SIGCONT)
# keepalived (Debian's) runs with its defaults, then vrrp_version 3 / advert_int 0.1; its
# "service" is the same collectord on each node (the collector port answering on the VIP).
# Targets are printed beside the figures with MET / MISSED. Bounded: < 10 minutes.
# Usage: sudo tests/bench/ha_bench.sh   (TANDEM_BIN=bazel-bin; TRIALS=N; SKIP_TANDEM=1,
#   SKIP_100MS=1 or SKIP_KEEPALIVED=1 leave those phases out)
. "$(dirname "$0")/../netns/lib.sh"

TRIALS=${TRIALS:-10}
BENCH_START=$(now_ms)
BENCH_BUDGET_MS=${BENCH_BUDGET_MS:-470000}
RESULTS=()

time_left() { [ $(( $(now_ms) - BENCH_START )) -lt "$BENCH_BUDGET_MS" ]; }

# summary NAME VALUES...: "NAME: min X median Y max Z ms (n=N)"; sets MIN MED MAX.
summary() {
	local name=$1
	shift
	if [ $# -eq 0 ]; then
		MIN=""; MED=""; MAX=""
		printf '%-58s no data\n' "$name"
		return
	fi
	read -r MIN MED MAX < <(printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%.1f %.1f %.1f\n", v[1], m, v[NR] }')
	printf '%-58s min %7.1f  median %7.1f  max %7.1f ms  (n=%d)\n' "$name" "$MIN" "$MED" "$MAX" $#
}

# target LABEL VALUE OP LIMIT: prints "target ... MET|MISSED".
target() {
	local label=$1 v=$2 op=$3 lim=$4 ok
	if [ -z "$v" ]; then
		printf '    target %-44s %s %s: no data -> MISSED\n' "$label" "$op" "$lim"
		RESULTS+=("MISSED $label (no data)")
		return
	fi
	ok=$(awk -v v="$v" -v l="$lim" -v o="$op" 'BEGIN { print (o == "<=" ? v <= l : v == l) ? "MET" : "MISSED" }')
	printf '    target %-44s %s %s: %s -> %s\n' "$label" "$op" "$lim" "$v" "$ok"
	RESULTS+=("$ok $label $op $lim (got $v)")
}

# ---- Tandem ----

# ready: one active holding the VIP, a standby that has everything the active acknowledged.
standby_caught_up() {
	local act sb
	act=$(active_node)
	[ -n "$act" ] && [ "$(holders)" = "$act" ] || return 1
	[ "$act" = a ] && sb=b || sb=a
	ctl "$sb" -j status 2>/dev/null | jq -e '.role == "STANDBY" and .peer.role == "ACTIVE" and
	    .peer.state == "alive" and (.faults.local | not) and .not_claiming == null and
	    .replication.log_pos >= .peer.ack_pos and
	    ((.collector.configured | not) or .collector.healthy)' >/dev/null
}

# pair_ready TRIAL: waits for standby_caught_up; a standby collector that crashed is reported
# (it is not had's) and restarted once. 1 when the pair cannot be made ready: end the series.
COLL_CRASHES=0
pair_ready() {
	local sb act
	time_left || return 1
	wait_until 15 standby_caught_up && return 0
	act=$(active_node)
	sb=$(other_of "${act:-a}")
	say "trial $1: pair not ready after 20 s (standby $sb: $(ctl "$sb" -j status 2>/dev/null | jq -c '{role, faults, log_pos: .replication.log_pos, peer_ack: .peer.ack_pos, collector: .collector.healthy}'))"
	if ! kill -0 "${COLL_PID[$sb]}" 2>/dev/null; then
		COLL_CRASHES=$((COLL_CRASHES + 1))
		say "  collectord on $sb is dead: $(grep -E 'fatal' "$T/$sb/coll.log" | tail -1); restarting it"
		start_collector "$sb"
		wait_until 15 standby_caught_up && return 0
	fi
	say "  ending this series"
	return 1
}

other_of() { [ "$1" = a ] && echo b || echo a; }

PROBE_N=0
ACK_OUTS=()

# tandem_kill_trials N LABEL: sets KILL_MS[] and ACK_MS[].
tandem_kill_trials() {
	local n=$1 i act t0 ms out gap_end
	KILL_MS=()
	ACK_MS=()
	for ((i = 1; i <= n; i++)); do
		time_left || { say "time bound reached after $((i - 1)) kill trials"; break; }
		pair_ready "$i" || break
		act=$(active_node)
		[ -n "$act" ] || { say "trial $i: no single active; skipped"; continue; }
		PROBE_N=$((PROBE_N + 1))
		out=$T/ack.$PROBE_N
		ACK_OUTS+=("$out")
		nsx c "$ACK_PROBE" "$VIP:$COLL_PORT" 2500 "ackp-$PROBE_N" > "$out" 2>/dev/null &
		local ap=$!
		sleep 0.5
		t0=$(date +%s%N)
		kill_node "$act"
		ms=$(nsx c "$PROBE" first "$VIP:$COLL_PORT" 10000 "$t0") || ms=""
		wait "$ap"
		gap_end=$(awk '{ print $6 }' "$out")
		[ -n "$ms" ] && KILL_MS+=("$ms")
		if [ -n "$gap_end" ] && [ "$gap_end" -gt "$t0" ]; then
			ACK_MS+=("$(awk -v e="$gap_end" -v t="$t0" 'BEGIN { printf "%.1f", (e - t) / 1e6 }')")
		fi
		say "  kill trial $i: $act killed; TCP answer after ${ms:-timeout} ms; agent acked again after ${ACK_MS[-1]:-?} ms"
		[ -n "$ms" ] || say "  survivor: $(ctl "$(other_of "$act")" -j status | jq -c '{role, not_claiming, log_pos: .replication.log_pos, peer_ack: .peer.ack_pos}')"
		start_node "$act"
	done
}

tandem_linkdown_trials() {
	local n=$1 i act t0 ms
	LINK_MS=()
	for ((i = 1; i <= n; i++)); do
		time_left || { say "time bound reached after $((i - 1)) link-down trials"; break; }
		pair_ready "$i" || break
		act=$(active_node)
		[ -n "$act" ] || { say "trial $i: no single active; skipped"; continue; }
		t0=$(date +%s%N)
		ip -n "${NS[br]}" link set "p$act" down
		ms=$(nsx c "$PROBE" first "$VIP:$COLL_PORT" 10000 "$t0") || ms=""
		[ -n "$ms" ] && LINK_MS+=("$ms")
		say "  link-down trial $i: $act's link cut; TCP answer after ${ms:-timeout} ms"
		sleep 0.3
		ip -n "${NS[br]}" link set "p$act" up
		wait_until 5 settled || say "  (not settled 5 s after the heal)"
	done
}

tandem_switch_trials() {
	local n=$1 i act gp ap out gap ackgap
	SW_GAP=()
	SW_ACK=()
	for ((i = 1; i <= n; i++)); do
		time_left || { say "time bound reached after $((i - 1)) switchover trials"; break; }
		pair_ready "$i" || break
		act=$(active_node)
		[ -n "$act" ] || { say "trial $i: no single active; skipped"; continue; }
		PROBE_N=$((PROBE_N + 1))
		out=$T/ack.$PROBE_N
		ACK_OUTS+=("$out")
		nsx c "$ACK_PROBE" "$VIP:$COLL_PORT" 2000 "ackp-$PROBE_N" > "$out" 2>/dev/null &
		ap=$!
		nsx c "$PROBE" gap "$VIP:$COLL_PORT" 1500 > "$T/gap.out" &
		gp=$!
		sleep 0.5
		ctl "$act" failover > "$T/fo.out" 2>&1 || say "  failover refused: $(cat "$T/fo.out")"
		wait "$gp" "$ap"
		gap=$(awk '{ print $2 }' "$T/gap.out")
		ackgap=$(awk '{ print $2 }' "$out")
		[ -n "$gap" ] && SW_GAP+=("$gap")
		[ -n "$ackgap" ] && SW_ACK+=("$ackgap")
		say "  switchover trial $i: from $act ($(cat "$T/fo.out")); client TCP gap ${gap:-?} ms, agent ack gap ${ackgap:-?} ms"
	done
}

# stall_trials N: SIGSTOP the standby's had child for 100 ms, N times; counts role changes.
stall_trials() {
	local n=$1 i act sb child t_before
	STALL_FAILOVERS=0
	wait_until 20 standby_caught_up || { say "pair not ready for the stall trials"; return; }
	for ((i = 1; i <= n; i++)); do
		act=$(active_node)
		sb=$(other_of "$act")
		t_before=$(term "$act")
		child=$(ps -o pid= --ppid "${HAD_PID[$sb]}" | head -1 | tr -d ' ')
		[ -n "$child" ] || { say "no had child on $sb"; return; }
		kill -STOP "$child"
		sleep 0.1
		kill -CONT "$child"
		sleep 0.4
		if [ "$(active_node)" != "$act" ] || [ "$(term "$act")" != "$t_before" ] || [ "$(holders)" != "$act" ]; then
			STALL_FAILOVERS=$((STALL_FAILOVERS + 1))
			say "  stall trial $i: role change! active $(active_node), holders $(holders)"
			wait_until 10 standby_caught_up
		fi
	done
	say "  $n stalls of 100 ms of the standby's had: $STALL_FAILOVERS failovers"
}

tandem_phase() {
	local h
	say "== Tandem (had, heartbeat ${INTERVAL}, dead_after 3)"
	HAD_EXTRA=("interval $INTERVAL")
	for h in a b; do
		rm -rf "${T:?}/$h"
		write_configs "$h"
	done
	start_node a
	wait_until 5 is_role a ACTIVE || die "a did not become active"
	start_node b
	wait_until 10 standby_caught_up || die "pair not ready"
	LOAD_APPS=20 LOAD_TIMEOUT=60 start_load 3600 1000
	sleep 1
}

tandem_stop() {
	kill -TERM "$SIM_PID" 2>/dev/null
	wait_load 30
	local act total_sim total_probe probe_acked lost
	act=$(active_node)
	[ -n "$act" ] || act=$(holders | awk '{ print $1 }')
	[ -n "$act" ] || act=a
	probe_acked=0
	for f in "${ACK_OUTS[@]}"; do
		probe_acked=$((probe_acked + $(awk '{ print $10 }' "$f" 2>/dev/null || echo 0)))
	done
	ACK_OUTS=()
	"$TANDEM" verify -s "$T/$act/store" > "$T/verify.out" 2>&1 || { say "  tandem verify on $act FAILED:"; head -5 "$T/verify.out" | sed 's/^/    /'; }
	total_sim=$("$TANDEM" count -s "$T/$act/store" | awk '$1 == "agent" && $2 ~ /^sim-/ { s += $8 } END { print s + 0 }')
	total_probe=$("$TANDEM" count -s "$T/$act/store" | awk '$1 == "agent" && $2 ~ /^ackp-/ { s += $8 } END { print s + 0 }')
	lost=$(( (ACKED - total_sim > 0 ? ACKED - total_sim : 0) + (probe_acked - total_probe > 0 ? probe_acked - total_probe : 0) ))
	say "  events: simulator acked $ACKED (exit $SIM_RC), probes acked $probe_acked; on the final active $act: $total_sim + $total_probe; $(tail -1 "$T/verify.out")"
	[ "$REPL" = 1 ] || say "  (no replication in this collector build: events acked before a failover stay on the old node)"
	LOST=$lost
	for h in a b; do kill_node "$h"; ip -n "${NS[$h]}" addr del "$VIP/$VIP_PLEN" dev eth0 2>/dev/null; done
}

# ---- keepalived ----

write_keepalived() {
	local h=$1 mode=$2
	{
		echo "global_defs {"
		echo "  router_id node_$h"
		[ "$mode" = fast ] && echo "  vrrp_version 3"
		echo "}"
		echo "vrrp_instance VI_77 {"
		echo "  state BACKUP"
		echo "  interface eth0"
		echo "  virtual_router_id 77"
		echo "  priority $((100 + ${NODE_ID[$h]}))"
		[ "$mode" = fast ] && echo "  advert_int 0.1"
		echo "  virtual_ipaddress { $VIP/$VIP_PLEN dev eth0 }"
		echo "}"
	} > "$T/$h/keepalived.conf"
}

start_keepalived() {
	local h=$1
	# A rebooted node has no pid files; stale ones make keepalived believe it still runs.
	rm -f "$T/$h"/ka*.pid
	ip netns exec "${NS[$h]}" keepalived -n -P -l -f "$T/$h/keepalived.conf" \
	    -p "$T/$h/ka.pid" -r "$T/$h/ka_vrrp.pid" -c "$T/$h/ka_chk.pid" >> "$T/$h/ka.log" 2>&1 &
	PIDS+=("$!")
}

ka_settled() { local h; h=$(holders); [ "$h" = a ] || [ "$h" = b ]; }

keepalived_phase() {
	local mode=$1 h i act t0 ms
	say "== keepalived $(keepalived --version 2>&1 | head -1 | awk '{ print $2 }') ($mode)"
	CC=0 REPL=0
	for h in a b; do
		rm -rf "${T:?}/$h"
		write_configs "$h"
		write_keepalived "$h" "$mode"
		start_collector "$h"
		start_keepalived "$h"
	done
	wait_until 15 ka_settled || die "keepalived did not elect a master"
	sleep 5		# VRRP pre-emption by the higher priority settles first
	KA_KILL=()
	KA_LINK=()
	for ((i = 1; i <= TRIALS; i++)); do
		time_left || { say "time bound reached after $((i - 1)) keepalived kill trials"; break; }
		wait_until 15 ka_settled || { say "  not settled; skipped"; continue; }
		act=$(holders)
		sleep 0.5
		t0=$(date +%s%N)
		kill_node "$act"
		ms=$(nsx c "$PROBE" first "$VIP:$COLL_PORT" 8000 "$t0") || ms=""
		[ -n "$ms" ] && KA_KILL+=("$ms")
		say "  kill trial $i: $act killed; TCP answer after ${ms:-timeout} ms; the dead node still holds the VIP: $(has_vip "$act" && echo yes || echo no)"
		# A rebooted node comes back without the address.
		ip -n "${NS[$act]}" addr del "$VIP/$VIP_PLEN" dev eth0 2>/dev/null
		start_collector "$act"
		start_keepalived "$act"
		sleep 5		# it comes back as BACKUP, then pre-empts if its priority is higher
	done
	for ((i = 1; i <= TRIALS; i++)); do
		time_left || { say "time bound reached after $((i - 1)) keepalived link-down trials"; break; }
		wait_until 15 ka_settled || { say "  not settled; skipped"; continue; }
		act=$(holders)
		t0=$(date +%s%N)
		ip -n "${NS[br]}" link set "p$act" down
		ms=$(nsx c "$PROBE" first "$VIP:$COLL_PORT" 8000 "$t0") || ms=""
		[ -n "$ms" ] && KA_LINK+=("$ms")
		say "  link-down trial $i: $act's link cut; TCP answer after ${ms:-timeout} ms"
		sleep 0.3
		ip -n "${NS[br]}" link set "p$act" up
		sleep 5
	done
	for h in a b; do kill_node "$h"; ip -n "${NS[$h]}" addr del "$VIP/$VIP_PLEN" dev eth0 2>/dev/null; done
}

# ---- run ----

netns_require
ACK_PROBE=$TANDEM_BIN/tests/netns/ack_probe
[ -x "$ACK_PROBE" ] || die "missing $ACK_PROBE"
command -v keepalived >/dev/null || say "keepalived not installed: its rows are skipped"
netns_setup
CC0=$CC REPL0=$REPL

T_KILL=() T_ACK=() T_LINK=() SW_GAP=() SW_ACK=() F_KILL=() F_ACK=()
T_LOST="" F_LOST="" STALL_FAILOVERS=""
K1_KILL=() K1_LINK=() K2_KILL=() K2_LINK=()
if [ "${SKIP_TANDEM:-0}" != 1 ] && [ "${SKIP_100MS:-0}" != 1 ]; then
INTERVAL=100ms
tandem_phase
tandem_kill_trials "$TRIALS"
T_KILL=("${KILL_MS[@]}")
T_ACK=("${ACK_MS[@]}")
tandem_switch_trials "$TRIALS"
tandem_linkdown_trials "$TRIALS"
T_LINK=("${LINK_MS[@]}")
tandem_stop
T_LOST=$LOST
fi

if [ "${SKIP_TANDEM:-0}" != 1 ]; then
CC=$CC0 REPL=$REPL0
INTERVAL=10ms
tandem_phase
stall_trials "$TRIALS"
tandem_kill_trials "$TRIALS"
F_KILL=("${KILL_MS[@]}")
F_ACK=("${ACK_MS[@]}")
tandem_stop
F_LOST=$LOST
fi

if command -v keepalived >/dev/null && [ "${SKIP_KEEPALIVED:-0}" != 1 ]; then
	BENCH_BUDGET_MS=$((BENCH_BUDGET_MS + 100000))	# keepalived always gets its turn
	keepalived_phase default
	K1_KILL=("${KA_KILL[@]}")
	K1_LINK=("${KA_LINK[@]}")
	keepalived_phase fast
	K2_KILL=("${KA_KILL[@]}")
	K2_LINK=("${KA_LINK[@]}")
fi

echo
echo "== HA benchmark: $TRIALS trials each, $(nproc) CPUs, kernel $(uname -r), $(( ($(now_ms) - BENCH_START) / 1000 )) s"
summary "Tandem 100ms: kill -9 active -> first TCP answer on VIP" "${T_KILL[@]}"
target "takeover median (default settings)" "$MED" "<=" 300
target "takeover max (default settings)" "$MAX" "<=" 500
summary "Tandem 100ms: kill -9 active -> agent acked again" "${T_ACK[@]}"
summary "Tandem 100ms: link down -> first TCP answer on VIP" "${T_LINK[@]}"
summary "Tandem: switchover client TCP gap" "${SW_GAP[@]}"
target "switchover client gap (max)" "$MAX" "<=" 100
summary "Tandem: switchover agent ack gap" "${SW_ACK[@]}"
printf '%-58s %s\n' "Tandem 100ms: acknowledged events lost" "$T_LOST"
printf '%-58s %s\n' "collectord crashes during the Tandem runs (restarted)" "$COLL_CRASHES"
target "acked events lost (100ms run)" "$T_LOST" "==" 0
summary "Tandem 10ms: kill -9 active -> first TCP answer on VIP" "${F_KILL[@]}"
target "takeover median at 10 ms heartbeat" "$MED" "<=" 40
summary "Tandem 10ms: kill -9 active -> agent acked again" "${F_ACK[@]}"
printf '%-58s %s\n' "Tandem 10ms: failovers caused by 100 ms standby stalls" "$STALL_FAILOVERS of $TRIALS"
target "failovers from 100 ms stalls (10 ms heartbeat)" "$STALL_FAILOVERS" "==" 0
printf '%-58s %s\n' "Tandem 10ms: acknowledged events lost" "$F_LOST"
target "acked events lost (10ms run)" "$F_LOST" "==" 0
if command -v keepalived >/dev/null; then
	summary "keepalived defaults: kill -9 master -> first TCP answer" "${K1_KILL[@]}"
	summary "keepalived defaults: link down -> first TCP answer" "${K1_LINK[@]}"
	summary "keepalived v3 advert 0.1: kill -9 -> first TCP answer" "${K2_KILL[@]}"
	summary "keepalived v3 advert 0.1: link down -> first TCP answer" "${K2_LINK[@]}"
fi
echo
for r in "${RESULTS[@]}"; do echo "  $r"; done
