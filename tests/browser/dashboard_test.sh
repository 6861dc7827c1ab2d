#!/bin/bash
# Tandem — MIT licence. The dashboard in headless Chromium against collectord + monitord fed by
# `tandem-agent simulate` (60 apps) on 127.0.0.1: the overview lists the applications, app-2's
# growing queue shows as alarming, the queue chart, the transactions board and a timeline,
# performance, logs, cluster, the alarm panel (acknowledge through the UI when the alarms API
# exists) and the outage banner. Screenshots go to $TANDEM_SCREENSHOTS (default a temp dir);
# TANDEM_UPDATE_SCREENSHOTS=1 also copies them into docs/screenshots/.
#
# Needs Debian's chromium (exit 77 when it cannot be found), node and npm; playwright-core is
# installed with `npm ci` into $TANDEM_NPM_DIR (default ~/.cache/tandem/npm-browser), and
# uPlot is vendored by monitor/assets/setup.sh when missing.
. "$(dirname "$0")/../integration/lib.sh"

APPS=60
TOKEN=browser-test-token
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || {
	echo "SKIP: chromium not found (tests/setup.sh installs Debian's chromium)"; exit 77; }
command -v node > /dev/null && command -v npm > /dev/null || die "node and npm are needed"
SHOTS=${TANDEM_SCREENSHOTS:-$T/screenshots}
PW_DIR=${TANDEM_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/npm-browser}
mkdir -p "$SHOTS" "$PW_DIR"

# playwright-core, pinned by the lock file beside this script; no browser download.
if ! cmp -s "$ROOT/tests/browser/package-lock.json" "$PW_DIR/package-lock.json" ||
    [ ! -f "$PW_DIR/node_modules/playwright-core/package.json" ]; then
	cp "$ROOT/tests/browser/package.json" "$ROOT/tests/browser/package-lock.json" "$PW_DIR/"
	(cd "$PW_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 180 npm ci --no-audit \
	    --no-fund --loglevel=error) || die "npm ci of playwright-core failed"
fi
timeout 120 "$ROOT/monitor/assets/setup.sh" > "$T/assets-setup.log" 2>&1 ||
    { cat "$T/assets-setup.log"; die "monitor/assets/setup.sh failed"; }

# An alarm rule on app-2's growing queue, when this monitord has the alarms engine.
RULE="rule queue-growing type=queue_growth app=app-2 queue=inbound for=1s window=12s severity=critical"
EXTRA=()
printf 'store "%s"\n%s\n' "$T" "$RULE" > "$T/probe.conf"
if "$TANDEM_BIN/monitor/monitord" -n -f "$T/probe.conf" > /dev/null 2>&1; then
	EXTRA=("$RULE" "alarm_interval 500ms")
else
	say "this monitord takes no alarm rules: the alarm panel is checked empty"
fi

start_collector c 0
start_monitor m "$T/c/store" "stats_file \"$T/c/stats\"" "growth_window 12s" \
    "refresh_interval 200ms" "token \"$TOKEN\"" "assets \"$ROOT/monitor/assets\"" \
    "${EXTRA[@]}"
URL="http://127.0.0.1:$M_PORT"
say "collector on $C_PORT, dashboard on $URL, chromium $("$CHROMIUM" --version 2>/dev/null | head -1)"
curl -sS -m 5 -f -o /dev/null "$URL/" || die "GET / failed"
curl -sS -m 5 -f -o /dev/null "$URL/assets/vendor/uPlot.iife.min.js" || die "uPlot is not served"
s=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "$URL/assets/%2e%2e/%2e%2e/BUILD")
[ "$s" = 404 ] || die "path traversal answered $s"

# The simulator runs for longer than the browser needs; cleanup stops it.
"$AGENT" simulate -c 127.0.0.1:$C_PORT -n $APPS -r 3000 -d 240 -b 32 --timeout 10 \
    > "$T/sim.out" 2>&1 &
PIDS+=("$!")
apps() { [ "$(curl -sS -m 5 "$URL/api/v1/apps" | jq .count)" = "$APPS" ]; }
wait_until 30 apps || die "the API does not list $APPS applications"

TANDEM_URL=$URL TANDEM_APPS=$APPS TANDEM_TOKEN=$TOKEN TANDEM_SHOTS=$SHOTS \
TANDEM_PW_DIR=$PW_DIR TANDEM_MONITOR_PID=$M_PID CHROMIUM=$CHROMIUM \
    timeout -k 5 240 node "$ROOT/tests/browser/dashboard.mjs" || {
	tail -5 "$T/m/log"; die "browser checks failed (screenshots in $SHOTS)"; }
say "screenshots in $SHOTS: $(cd "$SHOTS" && ls | tr '\n' ' ')"
if [ "${TANDEM_UPDATE_SCREENSHOTS:-0}" = 1 ]; then
	mkdir -p "$ROOT/docs/screenshots"
	cp "$SHOTS"/*.png "$ROOT/docs/screenshots/"
	rm -f "$ROOT/docs/screenshots/failure.png"
	say "copied into docs/screenshots/"
fi
say "PASS"
