#!/bin/bash
# Tandem — MIT licence. Helpers shared by ingest_bench.sh and monitor_bench.sh (sourced).
# The caller defines die() (its own name in the message) and sets IPID="" before use.

# awk arithmetic with a fixed format: calc FORMAT EXPR
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# Stops one process the script started, by pid: TERM, then KILL after 15 s.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null	# no "Killed" job notice in the output
	return 0
}

# A TCP port nobody listens on now (the daemons that can bind port 0 do so instead).
free_port() {
	local i p
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! ss -Htln 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# influx_start DIR: a fresh influxd (Debian's InfluxDB 1.6) with its config, data and log in
# DIR, on ports chosen now (three tries), and a database "bench". Sets IPID and IPORT.
influx_start() {
	local idir=$1 up=0 attempt i rport
	mkdir -p "$idir"
	for attempt in 1 2 3; do
		IPORT=$(free_port) && rport=$(free_port) || die "no free port"
		cat >"$idir/influxdb.conf" <<-EOF
		reporting-disabled = true
		bind-address = "127.0.0.1:$rport"
		[meta]
		  dir = "$idir/meta"
		[data]
		  dir = "$idir/data"
		  wal-dir = "$idir/wal"
		  query-log-enabled = false
		[monitor]
		  store-enabled = false
		[continuous_queries]
		  enabled = false
		[http]
		  enabled = true
		  bind-address = "127.0.0.1:$IPORT"
		  log-enabled = false
		  pprof-enabled = false
		[logging]
		  level = "warn"
		EOF
		influxd run -config "$idir/influxdb.conf" >"$idir/influxd.log" 2>&1 &
		IPID=$!
		for i in $(seq 1 150); do
			if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$IPORT/ping")" = 204 ]; then
				up=1; break
			fi
			kill -0 "$IPID" 2>/dev/null || break
			sleep 0.2
		done
		[ "$up" = 1 ] && break
		stop_pid "$IPID"; IPID=""
	done
	[ "$up" = 1 ] || { tail -20 "$idir/influxd.log" >&2; die "influxd did not start"; }
	curl -s -XPOST "http://127.0.0.1:$IPORT/query" --data-urlencode "q=CREATE DATABASE bench" \
	    >"$idir/create.out" || die "CREATE DATABASE failed"
	if grep -q error "$idir/create.out"; then
		die "CREATE DATABASE: $(cat "$idir/create.out")"
	fi
}
