# Tandem — MIT licence. Integration test helpers: real daemons on 127.0.0.1, ports chosen at run time.
# Source this from a *_test.sh script. Every wait is bounded; everything started is stopped on exit.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${TANDEM_BIN:-}" ]; then
	TANDEM_BIN=$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null) || { echo "no bazel-bin"; exit 1; }
fi
COLLECTORD=$TANDEM_BIN/collector/collectord
TANDEM=$TANDEM_BIN/collector/tandem
AGENT=$TANDEM_BIN/agent/tandem-agent
PROBE=$TANDEM_BIN/tests/integration/probe
T=$(mktemp -d "${TMPDIR:-/tmp}/tandem-it.XXXXXX")
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# shellcheck source=tests/common.sh
. "$ROOT/tests/common.sh"
die() { say "FAIL: $*"; exit 1; }

# start_collector NAME PORT [extra config lines...]: starts collectord in $T/NAME.
# Sets C_PID and C_PORT. PORT 0 picks a free port.
start_collector() {
	local name=$1 port=$2 line
	shift 2
	mkdir -p "$T/$name"
	{
		echo "node_name $name"
		echo "listen 127.0.0.1:$port"
		echo "store \"$T/$name/store\""
		echo "map_size 1G"
		echo "stats_file \"$T/$name/stats\""
		for line in "$@"; do echo "$line"; done
	} > "$T/$name/collectord.conf"
	: > "$T/$name/log"
	"$COLLECTORD" -d -f "$T/$name/collectord.conf" >> "$T/$name/log" 2>&1 &
	C_PID=$!
	PIDS+=("$C_PID")
	wait_until 10 grep -q 'listening on' "$T/$name/log" || {
		cat "$T/$name/log"; die "collector $name did not start"; }
	C_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T/$name/log" | tail -1 | cut -d: -f2)
}

# stat NAME KEY: a counter from the collector's stats file (0 when absent).
stat() {
	local v
	v=$(awk -v k="$2" '$1 == k { print $2 }' "$T/$1/stats" 2>/dev/null)
	echo "${v:-0}"
}

# rss_kb PID
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

alive() { kill -0 "$1" 2>/dev/null; }

# start_monitor NAME STORE_DIR [extra config lines...]: starts monitord in $T/NAME on a port
# picked at run time, reading STORE_DIR (and $T/NAME's collector stats file when it exists).
# Sets M_PID and M_PORT.
start_monitor() {
	local name=$1 store=$2 line
	shift 2
	mkdir -p "$T/$name"
	{
		echo "listen 127.0.0.1:0"
		echo "store \"$store\""
		for line in "$@"; do echo "$line"; done
	} > "$T/$name/monitord.conf"
	: > "$T/$name/log"
	"$TANDEM_BIN/monitor/monitord" -d -f "$T/$name/monitord.conf" >> "$T/$name/log" 2>&1 &
	M_PID=$!
	PIDS+=("$M_PID")
	wait_until 10 grep -q 'listening on' "$T/$name/log" || {
		cat "$T/$name/log"; die "monitor $name did not start"; }
	M_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T/$name/log" | tail -1 | cut -d: -f2)
}
