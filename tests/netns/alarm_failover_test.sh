#!/bin/bash
# Tandem — MIT licence. Alarm state over a failover: both nodes run monitord next to collectord
# and had; a webhook sink listens on the client. A deep queue fires one notice from the active
# node; an ack is given through the service IP and the active node dies (kill -9 of every
# process of it) right after the ack's answer. The new active node's monitord shows the ack
# (who and comment), sends the firing notice no second time, and sends exactly one resolved
# notice when the queue drains. Only the active node's monitord notifies.
. "$(dirname "$0")/lib.sh"

SINKS=$(cd "$(dirname "$0")/../integration" && pwd)/alarm_sinks.py
TOKEN=tok-$$
MON_PORT=8080
INTERVAL_MS=200
netns_require
[ "$REPL" = 1 ] || skip "this collector build has no replication"
command -v python3 > /dev/null || skip "python3 is needed for the webhook sink"
start_pair

mkdir -p "$T/sink"
ip netns exec "${NS[c]}" python3 "$SINKS" webhook "$T/sink" "${IP[c]}" 2> "$T/sink/webhook.err" &
PIDS+=("$!")
wait_until 10 test -s "$T/sink/webhook.port" || die "webhook sink did not start"
HOOK=$T/sink/webhook.jsonl

start_monitor() {
	local h=$1
	cat > "$T/$h/monitord.conf" <<CONF
listen 0.0.0.0:$MON_PORT
store "$T/$h/store"
stats_file "$T/$h/stats"
ha_stats_file "$T/$h/had.stats"
control_socket "$T/$h/coll.sock"
token "$TOKEN"
alarm_interval ${INTERVAL_MS}ms
refresh_interval 200ms
notify_timeout 2s
receiver hook webhook http://${IP[c]}:$(cat "$T/sink/webhook.port")/alert
rule deep type=threshold metric=queue_depth app=line-1 queue=orders above=100 clear_below=50 for=0s repeat=2s group_wait=200ms window=12s receivers=hook
CONF
	: >> "$T/$h/mon.log"
	ip netns exec "${NS[$h]}" "$TANDEM_BIN/monitor/monitord" -d -f "$T/$h/monitord.conf" \
	    >> "$T/$h/mon.log" 2>&1 &
	PIDS+=("$!")
	wait_until 10 grep -q 'listening on' "$T/$h/mon.log" || die "monitord $h did not start"
}
start_monitor a
start_monitor b
API="http://$VIP:$MON_PORT"
get() { nsx c curl -sS -m 5 -f "$API$1"; }
notices() { jq -c "select($1)" "$HOOK" | wc -l; }
rounds() { get /api/v1/alarms | jq .rounds; }
# wait_rounds N: the active monitord evaluated N more rounds (an event, not a sleep).
wait_rounds() {
	local want
	want=$(( $(rounds) + $1 ))
	wait_until 30 bash -c "[ \$(ip netns exec '${NS[c]}' curl -sS -m 5 '$API/api/v1/alarms' | jq .rounds) -ge $want ]"
}
send() { # send DEPTH: one queue sample of line-1/orders through the service IP
	echo "{\"kind\":\"queue\",\"queue\":\"orders\",\"depth\":$1}" |
	    nsx c "$AGENT" send -c "$VIP:$COLL_PORT" -a agent-line-1 -A line-1 --timeout 10 \
	    > "$T/send.out" 2>&1 || die "send: $(cat "$T/send.out")"
}
wait_until 10 bash -c "ip netns exec '${NS[c]}' curl -sS -m 5 '$API/api/v1/alarms' | jq -e '.active_node == true' > /dev/null" ||
    die "a's monitord is not evaluating"
say "pair up, monitord on both nodes, webhook sink on ${IP[c]}"

# --- Fire on a, ack through the service IP, kill a at once.
send 200
wait_until 20 bash -c "[ \$(jq -c 'select(.rule == \"deep\" and .kind == \"firing\")' '$HOOK' | wc -l) -ge 1 ]" ||
    { get /api/v1/alarms; die "no firing notice"; }
ID=$(get "/api/v1/alarms?state=firing" | jq '[.alarms[] | select(.rule == "deep")][0].id')
[ "$ID" != null ] || die "no firing alarm"
status=$(nsx c curl -sS -m 5 -o "$T/ack.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data '{"who":"alice","comment":"consumer restarted"}' "$API/api/v1/alarms/$ID/ack")
[ "$status" = 200 ] || die "ack: $status $(cat "$T/ack.json")"
kill_node a
say "alarm $ID fired on a (one notice), acked by alice; a killed right after the ack's answer"

wait_until 5 is_role b ACTIVE || die "b did not take over"
wait_until 10 bash -c "ip netns exec '${NS[c]}' curl -sS -m 2 '$API/api/v1/alarms' 2>/dev/null | jq -e '.active_node == true' > /dev/null" ||
    die "b's monitord is not evaluating after the takeover"
get "/api/v1/alarms/$ID" | jq -e '.state == "acknowledged" and .ack_by == "alice" and .ack_comment == "consumer restarted"' > /dev/null ||
    die "the ack did not survive the failover: $(get "/api/v1/alarms/$ID")"
fired=$(notices '.rule == "deep" and .kind == "firing"')
# Repeat interval 2 s: an un-acked alarm would be re-sent within these rounds.
wait_rounds $(( 3 * 2000 / INTERVAL_MS )) || die "b's rounds did not advance"
[ "$(notices '.rule == "deep" and .kind == "firing"')" = 1 ] ||
    die "firing notices: $(notices '.rule == "deep" and .kind == "firing"') (one expected; was $fired at the takeover)"
say "b active: alarm $ID acknowledged by alice as before; the firing notice was not sent again"

# --- The queue drains: b sends the one resolved notice.
send 10
wait_until 20 bash -c "[ \$(jq -c 'select(.rule == \"deep\" and .kind == \"resolved\")' '$HOOK' | wc -l) -ge 1 ]" ||
    { get /api/v1/alarms; die "no resolved notice from b"; }
wait_rounds $(( 1000 / INTERVAL_MS )) || die "b's rounds did not advance"
[ "$(notices '.rule == "deep" and .kind == "resolved"')" = 1 ] || die "resolved notices: $(notices '.rule == "deep" and .kind == "resolved"')"
[ "$(wc -l < "$HOOK")" = 2 ] || die "webhook notices: $(cat "$HOOK")"
get "/api/v1/alarms/$ID" | jq -e '.state == "resolved"' > /dev/null || die "not resolved: $(get "/api/v1/alarms/$ID")"
say "drained: one resolved notice from b; two notices in all"
say "PASS"
