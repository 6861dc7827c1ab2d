# Tandem — MIT licence. netns HA rig: two server hosts (a, b) and a client host (c) on a bridge.
#
# Source this from a *_test.sh script. It builds, inside namespaces it creates and owns:
#   <p>-br   a bridge (br0) and one veth end per host (pa, pb, pc)
#   <p>-a    server a, eth0 10.77.0.1/24   collectord + had (node 1)
#   <p>-b    server b, eth0 10.77.0.2/24   collectord + had (node 2)
#   <p>-c    client,   eth0 10.77.0.100/24 tandem-agent simulate, probes
# and the service IP 10.77.0.10/24 between a and b. No address exists outside these
# namespaces and nothing is ever sent outside them. Every wait is bounded; on exit (pass, fail
# or signal) every process started here is killed and every namespace deleted.
# Skips (exit 77) when not root or when `ip netns` is unavailable.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${TANDEM_BIN:-}" ]; then
	TANDEM_BIN=$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null) || { echo "no bazel-bin"; exit 1; }
fi
COLLECTORD=$TANDEM_BIN/collector/collectord
TANDEM=$TANDEM_BIN/collector/tandem
AGENT=$TANDEM_BIN/agent/tandem-agent
HAD=$TANDEM_BIN/ha/had
TANDEMCTL=$TANDEM_BIN/ha/tandemctl
PROBE=$TANDEM_BIN/tests/netns/vip_probe

NET=10.77.0
VIP=$NET.10
VIP_PLEN=24
COLL_PORT=7400
HB_PORT=7480
REPL_PORT=7410
declare -A IP=([a]=$NET.1 [b]=$NET.2 [c]=$NET.100)
declare -A NODE_ID=([a]=1 [b]=2)
declare -A NS HAD_PID COLL_PID
PIDS=()
NSLIST=()
PFX=tnd$$
T=

# shellcheck source=tests/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
die() { say "FAIL: $*"; dump_logs; exit 1; }

netns_cleanup() {
	local p n pids
	exec 2>/dev/null	# no "Killed" job notices
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	# Anything still running inside our namespaces was started by this script.
	for n in "${NSLIST[@]}"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	# No `wait` here: a child stuck in an uninterruptible state must not keep the namespaces.
	for n in "${NSLIST[@]}"; do ip netns del "$n" 2>/dev/null; done
	if [ -n "$T" ]; then
		if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
	fi
}
trap netns_cleanup EXIT
trap 'exit 130' INT TERM

dump_logs() {
	local f
	[ -n "$T" ] || return 0
	for f in "$T"/*/had.log "$T"/*/coll.log "$T"/*/mon.log; do
		[ -f "$f" ] || continue
		echo "---- ${f#$T/} (last 25 lines)"
		tail -n 25 "$f"
	done
}

# ---- prerequisites ----

netns_require() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v ip >/dev/null || skip "no ip(8)"
	ip netns add "$PFX-probe" 2>/dev/null || skip "ip netns unavailable"
	ip netns del "$PFX-probe"
	local b
	for b in "$COLLECTORD" "$HAD" "$TANDEMCTL" "$AGENT" "$PROBE"; do
		[ -x "$b" ] || { say "missing $b (build //ha/... //collector:all //agent:all //tests/netns:all)"; exit 1; }
	done
	T=$(mktemp -d "${TMPDIR:-/tmp}/tandem-ns.XXXXXX")
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/had.key"
	chmod 600 "$T/had.key"
	features
}

# What the collector build supports: control socket (CC=1) and replication (REPL=1).
features() {
	CC=0
	REPL=0
	mkdir -p "$T/probe"
	printf 'store "%s/probe/s"\nmap_size 16M\ncontrol_socket "%s/probe/c.sock"\n' "$T" "$T" \
	    > "$T/probe/c1.conf"
	"$COLLECTORD" -n -f "$T/probe/c1.conf" 2>/dev/null && CC=1
	cp "$T/probe/c1.conf" "$T/probe/c2.conf"
	printf 'ha yes\nrepl_listen 127.0.0.1:7410\nack_mode replicated\nrepl_timeout 2s\n' \
	    >> "$T/probe/c2.conf"
	[ "$CC" = 1 ] && "$COLLECTORD" -n -f "$T/probe/c2.conf" 2>/dev/null && REPL=1
	say "collector control socket: $([ $CC = 1 ] && echo yes || echo 'no (role changes only through the service IP)'); replication: $([ $REPL = 1 ] && echo yes || echo no)"
}

# ---- topology ----

netns_setup() {
	local h
	NS[br]=$PFX-br
	ip netns add "${NS[br]}" || die "netns add"
	NSLIST+=("${NS[br]}")
	ip -n "${NS[br]}" link set lo up
	ip -n "${NS[br]}" link add br0 type bridge forward_delay 0 stp_state 0 || die "bridge"
	ip -n "${NS[br]}" link set br0 up
	for h in a b c; do
		NS[$h]=$PFX-$h
		ip netns add "${NS[$h]}" || die "netns add $h"
		NSLIST+=("${NS[$h]}")
		ip -n "${NS[$h]}" link set lo up
		# Both ends are created inside our namespaces: nothing touches the host's.
		ip -n "${NS[br]}" link add "p$h" type veth peer name eth0 netns "${NS[$h]}" || die "veth $h"
		ip -n "${NS[br]}" link set "p$h" master br0 up
		ip -n "${NS[$h]}" addr add "${IP[$h]}/24" dev eth0
		ip -n "${NS[$h]}" link set eth0 up
	done
	nsx c "$PROBE" host "${IP[a]}:9" 5000 >/dev/null || die "no connectivity c -> a"
	nsx c "$PROBE" host "${IP[b]}:9" 5000 >/dev/null || die "no connectivity c -> b"
	say "rig up: a ${IP[a]}, b ${IP[b]}, client ${IP[c]}, service ip $VIP/$VIP_PLEN"
}

# nsx HOST CMD...: runs CMD in HOST's namespace.
nsx() { local h=$1; shift; ip netns exec "${NS[$h]}" "$@"; }

mac_of() { ip -n "${NS[$1]}" -br link show eth0 | awk '{ print $3 }'; }
client_vip_mac() { ip -n "${NS[c]}" neigh show "$VIP" | awk '/lladdr/ { print $5 }'; }
has_vip() { ip -n "${NS[$1]}" -4 addr show dev eth0 | grep -q "inet $VIP/"; }
# holders: the servers that have the service IP configured, e.g. "a" or "a b" or "".
holders() { local h out=""; for h in a b; do has_vip $h && out="$out $h"; done; echo ${out# }; }

# ---- daemons ----

# write_configs HOST [had extra lines...]
write_configs() {
	local h=$1 other line
	shift
	[ "$h" = a ] && other=b || other=a
	mkdir -p "$T/$h"
	{
		echo "node_name $h"
		echo "listen 0.0.0.0:$COLL_PORT"
		echo "store \"$T/$h/store\""
		echo "map_size 256M"
		echo "stats_file \"$T/$h/stats\""
		echo "shutdown_grace 1s"
		if [ "$CC" = 1 ]; then echo "control_socket \"$T/$h/coll.sock\""; fi
		if [ "$REPL" = 1 ]; then
			echo "ha yes"
			echo "repl_listen ${IP[$h]}:$REPL_PORT"
			echo "ack_mode replicated"
			echo "repl_timeout ${REPL_TIMEOUT:-2s}"
		fi
		for line in "${COLL_EXTRA[@]:-}"; do [ -n "$line" ] && echo "$line"; done
	} > "$T/$h/collectord.conf"
	{
		echo "node_id ${NODE_ID[$h]}"
		echo "cluster_id 77"
		echo "priority $((100 + ${NODE_ID[$h]}))"
		echo "bind ${IP[$h]}:$HB_PORT"
		echo "peer ${IP[$other]}:$HB_PORT"
		echo "auth_key_file \"$T/had.key\""
		echo "interface eth0"
		echo "service_ip $VIP/$VIP_PLEN"
		echo "control_socket \"$T/$h/had.sock\""
		echo "state_file \"$T/$h/had.state\""
		echo "stats_file \"$T/$h/had.stats\""
		if [ "$CC" = 1 ]; then
			echo "collector_control \"$T/$h/coll.sock\""
			echo "collector_repl ${IP[$h]}:$REPL_PORT"
		fi
		for line in "${HAD_EXTRA[@]:-}"; do [ -n "$line" ] && echo "$line"; done
		for line in "$@"; do echo "$line"; done
	} > "$T/$h/had.conf"
	"$HAD" -n -f "$T/$h/had.conf" 2>"$T/$h/had.check" || { cat "$T/$h/had.check"; die "had.conf of $h rejected"; }
}

start_collector() {
	local h=$1
	: >> "$T/$h/coll.log"
	ip netns exec "${NS[$h]}" "$COLLECTORD" -d -f "$T/$h/collectord.conf" >> "$T/$h/coll.log" 2>&1 &
	COLL_PID[$h]=$!
	PIDS+=("${COLL_PID[$h]}")
	wait_until 10 grep -q 'listening on' "$T/$h/coll.log" || die "collector $h did not start"
	if [ "$CC" = 1 ]; then
		wait_until 10 test -S "$T/$h/coll.sock" || die "collector $h: no control socket"
	fi
}

start_had() {
	local h=$1
	: >> "$T/$h/had.log"
	ip netns exec "${NS[$h]}" "$HAD" -d ${HAD_FLAGS:-} -f "$T/$h/had.conf" >> "$T/$h/had.log" 2>&1 &
	HAD_PID[$h]=$!
	PIDS+=("${HAD_PID[$h]}")
	wait_until 10 ctl "$h" status >/dev/null 2>&1 || die "had $h did not start"
}

# start_node HOST: collectord then had.
start_node() { start_collector "$1"; start_had "$1"; }

# start_pair: the rig, both nodes' configs (COLL_EXTRA, HAD_EXTRA apply), a started alone and
# active, then b, until exactly one active holds the service IP.
start_pair() {
	netns_setup
	write_configs a
	write_configs b
	start_node a
	wait_until 5 is_role a ACTIVE || die "a did not become active alone"
	start_node b
	wait_until 5 settled || die "pair did not settle"
}

# kill_node HOST: the node dies at once (kill -9 of had's processes and collectord).
kill_node() {
	local h=$1 pids
	pids=$(ip netns pids "${NS[$h]}" 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	wait ${HAD_PID[$h]:-} ${COLL_PID[$h]:-} 2>/dev/null
	return 0
}

ctl() { local h=$1; shift; "$TANDEMCTL" -s "$T/$h/had.sock" "$@"; }
role() { ctl "$1" -j status 2>/dev/null | jq -r .role; }
# is_role HOST ROLE (for wait_until: evaluated on every try)
is_role() { [ "$(role "$1")" = "$2" ]; }
# client_mac_is HOST: the client's neighbour entry for the service IP is HOST's MAC.
client_mac_is() { [ "$(client_vip_mac)" = "$(mac_of "$1")" ]; }
term() { ctl "$1" -j status 2>/dev/null | jq -r .term; }

# active_node: the node whose had says ACTIVE ("" if none or more than one).
active_node() {
	local h out=""
	for h in a b; do [ "$(role $h)" = ACTIVE ] && out="$out $h"; done
	out=${out# }
	case $out in *" "*) echo "" ;; *) echo "$out" ;; esac
}

# settled: exactly one ACTIVE, it holds the VIP, the other holds nothing.
settled() {
	local act
	act=$(active_node)
	[ -n "$act" ] && [ "$(holders)" = "$act" ]
}

# agents_on HOST N: HOST's collector has at least N agent connections open (the simulator's
# agents found it behind the service IP again).
agents_on() {
	local n
	n=$("$TANDEM" ctl "$T/$1/coll.sock" status 2>/dev/null | jq -r '.conns // 0') || return 1
	[ "${n:-0}" -ge "$2" ]
}

# client_reaches [TIMEOUT_MS]: TCP connect from the client to the service IP succeeds.
client_reaches() { nsx c "$PROBE" first "$VIP:$COLL_PORT" "${1:-1000}" >/dev/null 2>&1; }

# ---- load and data checks ----

# start_load SECONDS RATE: simulated apps from the client against the service IP.
start_load() {
	# Not through nsx (a function: & would fork a subshell and $! would not be the agent).
	ip netns exec "${NS[c]}" "$AGENT" simulate -c "$VIP:$COLL_PORT" -n "${LOAD_APPS:-20}" -r "$2" -d "$1" -b 16 \
	    --timeout "${LOAD_TIMEOUT:-40}" > "$T/sim.out" 2>&1 &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
}

# wait_load: waits for the simulator; sets SIM_RC, OFFERED, ACKED.
wait_load() {
	wait_until "${1:-60}" bash -c "! kill -0 $SIM_PID 2>/dev/null" || die "simulator did not finish"
	wait "$SIM_PID"
	SIM_RC=$?
	OFFERED=$(awk '/^total: .* offered/ { for (i = 1; i <= NF; i++) if ($i == "offered") { print $(i+1); exit } }' "$T/sim.out")
	ACKED=$(awk '/^total: .* enqueued .* acked/ { for (i = 1; i <= NF; i++) if ($i == "acked") { v = $(i+1) } } END { gsub(",", "", v); print v }' "$T/sim.out")
}

# check_events HOST: every acknowledged event exactly once in HOST's store. Needs replication
# (the events acked by the dead node before the failover must be on the survivor); without
# it the check reports what it can and returns 2.
check_events() {
	local h=$1 total verify_rc
	"$TANDEM" verify -s "$T/$h/store" > "$T/verify.$h" 2>&1
	verify_rc=$?
	total=$("$TANDEM" count -s "$T/$h/store" 2>/dev/null | awk '/^total/ { print $5 }')
	say "store of $h: ${total:-?} events; $(tail -1 "$T/verify.$h")"
	[ "$verify_rc" = 0 ] || { cat "$T/verify.$h"; die "verify found duplicates in $h's store"; }
	if [ "$REPL" != 1 ]; then
		say "REPLICATION NOT AVAILABLE: events acked by the other node before the switch are only in its store; exactly-once on the survivor NOT checked (offered ${OFFERED:-?}, acked ${ACKED:-?})"
		return 2
	fi
	[ "${ACKED:-x}" = "${OFFERED:-y}" ] || die "simulator: acked $ACKED of $OFFERED offered"
	[ "$total" = "$OFFERED" ] || die "$h stores $total events; $OFFERED offered and acked"
	say "every acknowledged event ($ACKED) is in $h's store exactly once"
}
