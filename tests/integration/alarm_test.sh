#!/bin/bash
# Tandem — MIT licence. Alarms end to end: collectord + monitord + the simulator + a local webhook
# sink and a local SMTP sink (tests/integration/alarm_sinks.py). A growing queue fires one alarm
# that reaches both sinks exactly once; a wrong or missing token gets 401 and changes nothing; an
# ack stops the repeats; a silence suppresses; a queue that drains sends one resolved notice;
# monitord restarted reads its state back from the store (through collectord) and re-sends
# nothing. Every wait is bounded and waits for an observable event; ports are picked at run time.
. "$(dirname "$0")/lib.sh"

SINKS=$(dirname "$0")/alarm_sinks.py
TOKEN=s3cret-$$
REPEAT_S=4
INTERVAL_MS=300

mkdir -p "$T/sink"
python3 "$SINKS" webhook "$T/sink" 2> "$T/sink/webhook.err" &
PIDS+=("$!")
python3 "$SINKS" smtp "$T/sink" 2> "$T/sink/smtp.err" &
PIDS+=("$!")
wait_until 10 test -s "$T/sink/webhook.port" -a -s "$T/sink/smtp.port" || die "sinks did not start"
HOOK_PORT=$(cat "$T/sink/webhook.port")
SMTP_PORT=$(cat "$T/sink/smtp.port")
HOOK="$T/sink/webhook.jsonl"
MAIL="$T/sink/smtp.jsonl"

start_collector c 0 "control_socket \"$T/c/ctl\""
MCONF=("stats_file \"$T/c/stats\"" "control_socket \"$T/c/ctl\"" "token \"$TOKEN\""
    "growth_window 12s" "refresh_interval 200ms" "alarm_interval ${INTERVAL_MS}ms"
    "notify_timeout 2s" "notify_backoff 200ms"
    "receiver hook webhook http://127.0.0.1:$HOOK_PORT/alert"
    "receiver mail smtp smtp://127.0.0.1:$SMTP_PORT tandem@example.test oncall@example.test"
    "rule grow type=queue_growth app=app-2 queue=inbound for=1s repeat=${REPEAT_S}s group_wait=500ms window=12s severity=critical receivers=hook,mail")
start_monitor m "$T/c/store" "${MCONF[@]}"
API="http://127.0.0.1:$M_PORT"
say "collector $C_PORT, monitor $M_PORT, webhook sink $HOOK_PORT, smtp sink $SMTP_PORT"

get() { curl -sS -m 10 -f "$API$1"; }
# call METHOD PATH TOKEN [JSON]: the HTTP status; the body in $T/body.
call() {
	local auth=()
	[ -z "$3" ] || auth=(-H "Authorization: Bearer $3")
	curl -sS -m 10 -o "$T/body" -w '%{http_code}' -X "$1" "${auth[@]}" \
	    -H 'Content-Type: application/json' ${4:+--data "$4"} "$API$2"
}
# notices FILTER: webhook notices matching a jq filter.
notices() { jq -c "select($1)" "$HOOK" | wc -l; }
mails() { grep -c "$1" "$MAIL" || true; }
rounds() { get /api/v1/alarms | jq .rounds; }
# wait_rounds N: N more evaluation rounds (an event to await rather than a sleep).
wait_rounds() {
	local want=$(( $(rounds) + $1 ))
	wait_until 60 bash -c "[ \$(curl -sS -m 5 '$API/api/v1/alarms' | jq .rounds) -ge $want ]"
}
wait_until 10 bash -c "[ \$(curl -sS -m 5 '$API/api/v1/alarms' | jq .rounds) -ge 1 ]" ||
    die "no evaluation round: $(tail -5 "$T/m/log")"
get /api/v1/alarms | jq -e '.active_node == true' > /dev/null || die "monitor not active on a single collector"

# --- Auth: a rule through the API needs the token; without it nothing changes.
RULE='{"name":"deep","created_by":"it","spec":"type=threshold metric=queue_depth app=line-* queue=orders above=100 clear_below=50 for=0s repeat=1h group_wait=200ms window=12s receivers=hook,mail"}'
s=$(call POST /api/v1/rules "" "$RULE"); [ "$s" = 401 ] || die "rule without token: $s"
s=$(call POST /api/v1/rules "wrong-$TOKEN" "$RULE"); [ "$s" = 401 ] || die "rule with a wrong token: $s"
jq -e '.error' "$T/body" > /dev/null || die "401 body is not a JSON error"
get /api/v1/rules | jq -e '[.rules[].name] == ["grow"]' > /dev/null || die "a refused rule was added"
s=$(call POST /api/v1/rules "$TOKEN" "$RULE"); [ "$s" = 201 ] || die "rule with the token: $s $(cat "$T/body")"
s=$(call POST /api/v1/rules "$TOKEN" '{"name":"bad","created_by":"it","spec":"type=threshold above=1"}')
[ "$s" = 400 ] || die "a rule without metric: $s"
say "auth: rules refused without or with a wrong token (401), added with it"

# --- A growing queue: one firing notice on each sink.
"$AGENT" simulate -c 127.0.0.1:$C_PORT -n 4 -r 2000 -d 90 -b 32 --timeout 30 > "$T/sim.out" 2>&1 &
SIM=$!
PIDS+=("$SIM")
wait_until 40 bash -c "[ \$(jq -c 'select(.rule == \"grow\" and .kind == \"firing\")' '$HOOK' | wc -l) -ge 1 ]" ||
    { get /api/v1/queues/growing; get /api/v1/alarms; die "no firing notice for the growing queue"; }
wait_until 10 bash -c "grep -q 'FIRING critical grow' '$MAIL'" || die "no mail for the growing queue"
jq -e 'select(.rule == "grow") | .alarms[0].app == "app-2" and .alarms[0].object == "inbound" and .status == "firing"' "$HOOK" > /dev/null ||
    die "firing notice content: $(cat "$HOOK")"
grep -q '"to": \["<oncall@example.test>"\]' "$MAIL" || die "mail recipient: $(head -c 300 "$MAIL")"
ID=$(get "/api/v1/alarms?state=firing" | jq '[.alarms[] | select(.rule == "grow")][0].id')
[ "$ID" != null ] || die "no firing alarm for grow"
say "growing app-2/inbound: alarm $ID fired, one webhook notice and one mail"

# --- Ack: a wrong token changes nothing; the right one stops the repeats.
s=$(call POST "/api/v1/alarms/$ID/ack" "nope" '{"who":"mallory","comment":"x"}'); [ "$s" = 401 ] || die "ack with a wrong token: $s"
s=$(call POST "/api/v1/alarms/$ID/ack" "" '{"who":"mallory","comment":"x"}'); [ "$s" = 401 ] || die "ack without a token: $s"
get "/api/v1/alarms/$ID" | jq -e '.state == "firing" and .ack_by == ""' > /dev/null || die "a refused ack changed the alarm"
s=$(call POST "/api/v1/alarms/$ID/ack" "$TOKEN" '{"who":"alice","comment":"looking at the inbound consumer"}')
[ "$s" = 200 ] || die "ack: $s $(cat "$T/body")"
jq -e '.state == "acknowledged" and .ack_by == "alice"' "$T/body" > /dev/null || die "ack: $(cat "$T/body")"
sent_at_ack=$(notices '.rule == "grow"')
mails_at_ack=$(mails 'grow')
wait_rounds $(( 2 * REPEAT_S * 1000 / INTERVAL_MS + 2 )) || die "rounds did not advance"
[ "$(notices '.rule == "grow"')" = "$sent_at_ack" ] || die "notices after the ack: $(jq -c 'select(.rule == "grow") | .kind' "$HOOK")"
[ "$(mails 'grow')" = "$mails_at_ack" ] || die "mails after the ack"
[ "$(notices '.rule == "grow" and .kind == "firing"')" = 1 ] || die "firing notices for grow: $(notices '.rule == "grow" and .kind == "firing"')"
[ "$(mails 'FIRING critical grow')" = 1 ] || die "firing mails for grow: $(mails 'FIRING critical grow')"
say "ack by alice: no repeat over $((2 * REPEAT_S)) s (repeat interval ${REPEAT_S} s); the firing notice went out exactly once"

# --- Silence: line-2 is silenced, line-1 is not; both queues go deep.
s=$(call POST /api/v1/silences "" '{"rule":"deep","app":"line-2","duration":"10m","created_by":"bob","comment":"line 2 maintenance"}')
[ "$s" = 401 ] || die "silence without a token: $s"
get /api/v1/silences | jq -e '.count == 0' > /dev/null || die "a refused silence was added"
s=$(call POST /api/v1/silences "$TOKEN" '{"rule":"deep","app":"line-2","created_by":"bob","comment":"no expiry"}')
[ "$s" = 400 ] || die "a silence without an expiry: $s"
s=$(call POST /api/v1/silences "$TOKEN" '{"rule":"deep","app":"line-2","duration":"10m","created_by":"bob","comment":"line 2 maintenance"}')
[ "$s" = 201 ] || die "silence: $s $(cat "$T/body")"
send() { # send APP DEPTH
	echo "{\"kind\":\"queue\",\"queue\":\"orders\",\"depth\":$2}" |
	    "$AGENT" send -c 127.0.0.1:$C_PORT -a "agent-$1" -A "$1" --timeout 10 > "$T/send.out" 2>&1 ||
	    die "send to $1: $(cat "$T/send.out")"
}
send line-1 200
send line-2 200
wait_until 20 bash -c "[ \$(jq -c 'select(.rule == \"deep\" and .kind == \"firing\")' '$HOOK' | wc -l) -ge 1 ]" ||
    { get /api/v1/alarms; die "no firing notice for line-1/orders"; }
wait_until 10 bash -c "curl -sS '$API/api/v1/alarms?state=firing' | jq -e '.alarms[] | select(.app == \"line-2\" and .silenced)' > /dev/null" ||
    die "line-2 alarm not firing-and-silenced: $(get /api/v1/alarms)"
wait_rounds 5
[ "$(notices '.rule == "deep" and (.alarms | map(.app) | index("line-2"))')" = 0 ] || die "a silenced alarm was notified"
[ "$(notices '.rule == "deep" and .kind == "firing"')" = 1 ] || die "deep firing notices: $(notices '.rule == "deep" and .kind == "firing"')"
say "silence on line-2: its alarm fires but is not notified; line-1 notified once"

# --- Drain: line-1's queue goes below clear_below: one resolved notice.
send line-1 10
wait_until 20 bash -c "[ \$(jq -c 'select(.rule == \"deep\" and .kind == \"resolved\")' '$HOOK' | wc -l) -ge 1 ]" ||
    { get /api/v1/alarms; die "no resolved notice for line-1"; }
wait_until 10 bash -c "grep -q 'RESOLVED warning deep' '$MAIL'" || die "no resolved mail"
wait_rounds 5
[ "$(notices '.rule == "deep" and .kind == "resolved"')" = 1 ] || die "resolved notices: $(notices '.rule == "deep" and .kind == "resolved"')"
[ "$(mails 'RESOLVED warning deep')" = 1 ] || die "resolved mails"
jq -e 'select(.rule == "deep" and .kind == "resolved") | .status == "resolved" and .alarms[0].app == "line-1"' "$HOOK" > /dev/null || die "resolved content"
L1=$(get /api/v1/alarms | jq '[.alarms[] | select(.app == "line-1")][0].id')
get "/api/v1/alarms/$L1" | jq -e '.state == "resolved" and .history_source == "store" and ([.history[].to] == ["pending", "firing", "resolved"]) and ([.notifications[].status] | all(. == "sent"))' > /dev/null ||
    die "line-1 history: $(get "/api/v1/alarms/$L1")"
say "line-1 drained: one resolved notice and one resolved mail; history pending -> firing -> resolved from the store"

# /metrics counts the notifications by outcome: as many sent as the log records, none failed.
logged=$(get /api/v1/alarms/notifications | jq '[.notifications[] | select(.status == "sent")] | length')
get /metrics > "$T/metrics.txt"
grep -qx "tandem_notifications_total{outcome=\"sent\"} $logged" "$T/metrics.txt" ||
    die "metrics: sent notifications: $(grep notifications "$T/metrics.txt") (log: $logged sent)"
grep -qx 'tandem_notifications_total{outcome="failed"} 0' "$T/metrics.txt" || die "metrics: failed notifications"
grep -qx 'tandem_alarm_evaluating 1' "$T/metrics.txt" || die "metrics: not evaluating"
say "/metrics: $logged notifications sent, 0 failed, as in the notification log"

# --- Restart: the state comes back from the store; nothing is sent again.
hooks_before=$(wc -l < "$HOOK")
mails_before=$(wc -l < "$MAIL")
get "/api/v1/alarms/$ID" > "$T/before.json"
kill "$M_PID"
wait_until 10 bash -c "! kill -0 $M_PID 2>/dev/null" || die "monitord did not stop"
start_monitor m2 "$T/c/store" "${MCONF[@]}"
API="http://127.0.0.1:$M_PORT"
wait_until 10 bash -c "[ \$(curl -sS -m 5 '$API/api/v1/alarms' | jq .rounds) -ge 1 ]" || die "restarted monitor did not evaluate"
get "/api/v1/alarms/$ID" | jq -e '.state == "acknowledged" and .ack_by == "alice" and .ack_comment == "looking at the inbound consumer"' > /dev/null ||
    die "ack lost over the restart: $(get "/api/v1/alarms/$ID")"
get /api/v1/rules | jq -e '[.rules[] | select(.name == "deep" and .source == "api")] | length == 1' > /dev/null || die "API rule lost"
get /api/v1/silences | jq -e '.silences[0].active and .silences[0].created_by == "bob"' > /dev/null || die "silence lost"
wait_rounds $(( 2 * REPEAT_S * 1000 / INTERVAL_MS + 2 )) || die "rounds did not advance after the restart"
[ "$(wc -l < "$HOOK")" = "$hooks_before" ] || die "re-sent after the restart: $(tail -n +$((hooks_before + 1)) "$HOOK")"
[ "$(wc -l < "$MAIL")" = "$mails_before" ] || die "mail re-sent after the restart"
say "monitord restarted: ack, API rule and silence came back from the store; nothing re-sent"

# --- Statistics and the notification log.
get /api/v1/alarms/stats > "$T/stats.json"
jq -e '.fired >= 3 and .acknowledged >= 1 and .mean_time_to_ack_ms != null and .resolved >= 1 and .mean_time_to_resolve_ms != null and (.failing_services | length) >= 2' "$T/stats.json" > /dev/null ||
    die "stats: $(cat "$T/stats.json")"
get /api/v1/alarms/notifications | jq -e '.count == 6 and ([.notifications[].status] | all(. == "sent"))' > /dev/null ||
    die "notification log: $(get /api/v1/alarms/notifications)"
say "stats: $(jq -c '{fired, acknowledged, resolved, mean_time_to_ack_ms, mean_time_to_resolve_ms}' "$T/stats.json")"
say "PASS"
