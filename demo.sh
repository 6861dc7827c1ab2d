#!/bin/bash
# Tandem — MIT licence. The quick start: installs what is needed, builds, and runs a Tandem pair
# fed by simulated MES applications, with the dashboard.
#
# As root (with `ip netns`): two server hosts and a client host in network namespaces on a
# bridge, each server running collectord + had + monitord, the service IP 10.77.0.10 between
# them; the simulated applications stream to the service IP from the client host. The
# dashboard of whichever node is active is forwarded to http://127.0.0.1:8080/ on this
# machine (socat into the client namespace: no address is added outside the namespaces).
# Without root: the same pair on 127.0.0.1 (agents on 7400 and 7401, dashboards on 8080 and
# 8081), replication between the collectors, roles set once (no service IP, no failover).
#
# While it runs, try (as root) in another terminal what it prints: `tandemctl ... failover`,
# or kill -9 the active node's daemons, and watch the service IP move and the numbers hold.
#
#   bash demo.sh                                   # 1000 applications, 20 000 events/s, 300 s
#   APPS=200 RATE=50000 DURATION=60 bash demo.sh
set -euo pipefail
cd "$(dirname "$0")"

APPS=${APPS:-1000}
RATE=${RATE:-20000}
DURATION=${DURATION:-300}
TOKEN=${TOKEN:-demo-token}

bash tests/setup.sh
bazel build --nosandbox_debug //collector:all //agent:all //ha:all //monitor:all //tests/netns:all
export TANDEM_BIN
TANDEM_BIN=$(bazel info bazel-bin 2>/dev/null)

# monitord.conf for a node: the dashboard on ADDR, reading STORE, asking COLL_SOCK for roles.
monitor_conf() {
	cat <<CONF
listen $1
store "$2"
stats_file "$3"
control_socket "$4"
${5:+ha_stats_file "$5"}
token "$TOKEN"
rule growing type=queue_growth app=* queue=* for=30s repeat=1h severity=warning
rule deep type=threshold metric=queue_depth app=* queue=* above=2000 clear_below=1500 for=30s
rule stuck type=stuck_step app=* step=* above=2m clear_below=30s for=30s
rule silent type=app_silent app=* above=30s clear_below=10s severity=critical
CONF
}

status_line() {
	printf '%s  ' "$(date +%H:%M:%S)"
	"$@" 2>/dev/null | jq -r '"node \(.node) \(.role) term \(.term) position \(.log_pos) lag \(.repl.lag) stored \(.events_stored)"' 2>/dev/null |
	    tr '\n' ' '
	echo
}

if [ "$(id -u)" = 0 ] && ip netns list > /dev/null 2>&1; then
	# ---- the pair in network namespaces, as the HA tests build it ----
	# The rig's helpers and its cleanup trap check every step themselves (no errexit).
	set +e
	# shellcheck source=tests/netns/lib.sh
	. tests/netns/lib.sh
	netns_require
	[ "$REPL" = 1 ] || die "this build has no replication"
	netns_setup
	for h in a b; do
		COLL_EXTRA=("map_size 8G")
		write_configs "$h"
	done
	start_node a
	start_node b
	wait_until 15 settled || die "the pair did not settle on one active node"
	for h in a b; do
		monitor_conf 0.0.0.0:8080 "$T/$h/store" "$T/$h/stats" "$T/$h/coll.sock" "$T/$h/had.stats" \
		    > "$T/$h/monitord.conf"
		ip netns exec "${NS[$h]}" "$TANDEM_BIN/monitor/monitord" -d -f "$T/$h/monitord.conf" \
		    >> "$T/$h/mon.log" 2>&1 &
		PIDS+=("$!")
	done
	# Browsers on this machine: 127.0.0.1:8080 -> the service IP, through the client host.
	socat TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr \
	    EXEC:"ip netns exec ${NS[c]} socat STDIO TCP\:$VIP\:8080" 2>/dev/null &
	PIDS+=("$!")
	LOAD_APPS=$APPS
	LOAD_TIMEOUT=60
	start_load "$DURATION" "$RATE"
	cat <<EOF

== Tandem pair is up ($(active_node) is active, term $(term "$(active_node)"))
   service IP          $VIP (agents on $VIP:$COLL_PORT, dashboard on $VIP:8080)
   dashboard           http://127.0.0.1:8080/      (forwarded to the service IP; token $TOKEN)
   load                $APPS simulated applications, $RATE events/s for $DURATION s, from ${IP[c]}
   status              $TANDEMCTL -s $T/a/had.sock status     (and $T/b/had.sock)
   switchover          $TANDEMCTL -s $T/\$ACTIVE/had.sock failover
   kill a node         kill -9 \$(ip netns pids ${NS[a]})     (node a; ${NS[b]} for b)
   logs                $T/{a,b}/{coll,had,mon}.log
Stops by itself after $DURATION s (Ctrl-C stops earlier); then every acknowledged event is
checked to be stored exactly once on the active node, and the two stores are compared.

EOF
	end=$((SECONDS + DURATION + 60))
	while kill -0 "$SIM_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do
		for h in a b; do
			status_line "$TANDEM" ctl "$T/$h/coll.sock" status
		done
		tail -n 1 "$T/sim.out" | cut -c1-150
		sleep 5
	done
	wait_load 120
	grep '^total' "$T/sim.out" || true
	act=$(active_node)
	[ -n "$act" ] || die "no single active node at the end"
	check_events "$act" || true
	other=$([ "$act" = a ] && echo b || echo a)
	wait_until 20 bash -c "[ \"\$($TANDEM ctl $T/$act/coll.sock status | jq .log_pos)\" = \
	    \"\$($TANDEM ctl $T/$other/coll.sock status | jq .log_pos)\" ]" || true
	say "digest $act: $("$TANDEM" digest -s "$T/$act/store")"
	say "digest $other: $("$TANDEM" digest -s "$T/$other/store")"
else
	# ---- the pair on loopback (no root: no namespaces, no service IP) ----
	D=$(mktemp -d "${TMPDIR:-/tmp}/tandem-demo.XXXXXX")
	PIDS=()
	trap 'kill ${PIDS[*]} 2>/dev/null; wait 2>/dev/null; echo "stores kept in $D"' EXIT
	for n in 0 1; do
		mkdir -p "$D/$n"
		cat > "$D/$n/collectord.conf" <<CONF
node_name node$n
listen 127.0.0.1:$((7400 + n))
store "$D/$n/store"
map_size 8G
token $TOKEN
stats_file "$D/$n/stats"
ha yes
control_socket "$D/$n/ctl.sock"
repl_listen 127.0.0.1:$((7410 + n))
CONF
		"$TANDEM_BIN/collector/collectord" -d -f "$D/$n/collectord.conf" > "$D/$n/coll.log" 2>&1 &
		PIDS+=("$!")
	done
	for n in 0 1; do
		for _ in $(seq 100); do [ -S "$D/$n/ctl.sock" ] && break; sleep 0.1; done
	done
	"$TANDEM_BIN/collector/tandem" ctl "$D/0/ctl.sock" role active 1 > /dev/null
	"$TANDEM_BIN/collector/tandem" ctl "$D/1/ctl.sock" role standby 1 127.0.0.1:7410 > /dev/null
	for n in 0 1; do
		monitor_conf 127.0.0.1:$((8080 + n)) "$D/$n/store" "$D/$n/stats" "$D/$n/ctl.sock" \
		    > "$D/$n/monitord.conf"
		"$TANDEM_BIN/monitor/monitord" -d -f "$D/$n/monitord.conf" > "$D/$n/mon.log" 2>&1 &
		PIDS+=("$!")
	done
	cat <<EOF

== Tandem pair on loopback (run as root for the namespace pair with a service IP)
   active              collector 127.0.0.1:7400, dashboard http://127.0.0.1:8080/ (token $TOKEN)
   standby             collector 127.0.0.1:7401, dashboard http://127.0.0.1:8081/
   load                $APPS simulated applications, $RATE events/s for $DURATION s
   status              $TANDEM_BIN/collector/tandem ctl $D/0/ctl.sock status

EOF
	"$TANDEM_BIN/agent/tandem-agent" simulate -c 127.0.0.1:7400 -c 127.0.0.1:7401 -t "$TOKEN" \
	    -n "$APPS" -r "$RATE" -d "$DURATION" -b 64 > "$D/sim.out" 2>&1 &
	SIM=$!
	PIDS+=("$SIM")
	while kill -0 "$SIM" 2>/dev/null; do
		for n in 0 1; do
			status_line "$TANDEM_BIN/collector/tandem" ctl "$D/$n/ctl.sock" status
		done
		tail -n 1 "$D/sim.out" | cut -c1-150
		sleep 5
	done
	grep '^total' "$D/sim.out" || true
	kill -TERM "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null || true
	PIDS=()
	"$TANDEM_BIN/collector/tandem" verify -s "$D/0/store"
	echo "digest active:  $("$TANDEM_BIN/collector/tandem" digest -s "$D/0/store")"
	echo "digest standby: $("$TANDEM_BIN/collector/tandem" digest -s "$D/1/store")"
fi
