#!/bin/bash
# Tandem — MIT licence. The quick start: installs what is needed, builds, starts a collector on
# 127.0.0.1 and streams simulated MES applications into it, printing rates; at the end it reads
# the store back and checks every event is stored exactly once.
#
#   bash demo.sh                    # 1000 applications, 100 000 events/s, 60 s
#   APPS=200 RATE=50000 DURATION=20 bash demo.sh
set -euo pipefail
cd "$(dirname "$0")"

APPS=${APPS:-1000}
RATE=${RATE:-100000}
DURATION=${DURATION:-60}
PORT=${PORT:-7400}

bash tests/setup.sh
bazel build --nosandbox_debug //collector:all //agent:all
BIN=$(bazel info bazel-bin 2>/dev/null)

D=$(mktemp -d "${TMPDIR:-/tmp}/tandem-demo.XXXXXX")
cleanup() {
	[ -n "${CPID:-}" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	echo "store kept in $D/store (remove it when done)"
}
trap cleanup EXIT

cat > "$D/collectord.conf" <<CONF
node_name demo
listen 127.0.0.1:$PORT
store "$D/store"
map_size 8G
token demo-token
stats_interval 1s
CONF
"$BIN/collector/collectord" -d -f "$D/collectord.conf" 2>&1 | sed 's/^/[collector] /' &
CPID=$(pgrep -n -f "collectord -d -f $D/collectord.conf" || true)
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
	sleep 0.1
done
CPID=$(pgrep -n -f "collectord -d -f $D/collectord.conf")

echo "== $APPS simulated MES applications, $RATE events/s for $DURATION s -> 127.0.0.1:$PORT"
"$BIN/agent/tandem-agent" simulate -c 127.0.0.1:$PORT -t demo-token -n "$APPS" -r "$RATE" \
    -d "$DURATION" -b 64 2>&1 | sed 's/^/[agents] /'

kill -TERM "$CPID"
for _ in $(seq 100); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
CPID=
echo "== what the store holds"
"$BIN/collector/tandem" count -s "$D/store" | tail -n 4
"$BIN/collector/tandem" verify -s "$D/store"
echo "== a few stored events"
"$BIN/collector/tandem" dump -s "$D/store" -n 5
