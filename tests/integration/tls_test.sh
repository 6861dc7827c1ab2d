#!/bin/bash
# Tandem — MIT licence. Agents over TLS, with and without client certificates (mutual TLS).
. "$(dirname "$0")/lib.sh"
command -v openssl > /dev/null || { say "SKIP: no openssl command"; exit 77; }

# A throwaway CA, a server certificate for 127.0.0.1 and a client certificate.
cd "$T" || die "no temp dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tandem-test-ca \
    -keyout ca.key -out ca.crt 2> /dev/null || die "CA"
mkcert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" \
	    2> /dev/null &&
	printf 'subjectAltName=%s\n' "$2" > "$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	    -extfile "$1.ext" -out "$1.crt" 2> /dev/null
}
mkcert server "IP:127.0.0.1,DNS:localhost" || die "server certificate"
mkcert agent "DNS:agent" || die "client certificate"
# A client certificate from a CA the collector does not trust.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue -keyout rogue.key \
    -out rogue.crt 2> /dev/null || die "rogue certificate"

start_collector c 0 "listen_tls 127.0.0.1:0" "tls_cert \"$T/server.crt\"" \
    "tls_key \"$T/server.key\"" "tls_client_ca \"$T/ca.crt\""
TLS_PORT=$(grep -o 'listening for TLS on 127.0.0.1:[0-9]*' "$T/c/log" | cut -d: -f2)
[ -n "$TLS_PORT" ] || die "no TLS listener"

"$AGENT" simulate -c 127.0.0.1:$TLS_PORT -n 5 -r 5000 -d 2 --timeout 10 --tls \
    --tls-ca "$T/ca.crt" --tls-cert "$T/agent.crt" --tls-key "$T/agent.key" \
    > "$T/ok.out" 2>&1 || { cat "$T/ok.out"; die "mutual TLS agent failed"; }
grep 'unacked 0' "$T/ok.out" || die "not everything acked over TLS"

# Without a client certificate, and with an untrusted one: nothing is stored.
"$AGENT" simulate -c 127.0.0.1:$TLS_PORT -n 1 -r 100 -d 1 --timeout 2 --tls --id-prefix nocert \
    --tls-ca "$T/ca.crt" > "$T/nocert.out" 2>&1
"$AGENT" simulate -c 127.0.0.1:$TLS_PORT -n 1 -r 100 -d 1 --timeout 2 --tls --id-prefix rogue \
    --tls-ca "$T/ca.crt" --tls-cert "$T/rogue.crt" --tls-key "$T/rogue.key" \
    > "$T/rogue.out" 2>&1
# And the agent refuses a server it cannot verify.
"$AGENT" simulate -c 127.0.0.1:$TLS_PORT -n 1 -r 100 -d 1 --timeout 2 --tls --id-prefix wrongca \
    --tls-ca "$T/rogue.crt" --tls-cert "$T/agent.crt" --tls-key "$T/agent.key" \
    > "$T/wrongca.out" 2>&1

kill -TERM "$C_PID"
wait_until 10 bash -c "! kill -0 $C_PID 2>/dev/null" || die "no clean stop"
"$TANDEM" count -s "$T/c/store" > "$T/count.out"
cat "$T/count.out"
grep -q '^agent nocert' "$T/count.out" && die "an agent without a certificate stored events"
grep -q '^agent rogue' "$T/count.out" && die "an agent with an untrusted certificate stored events"
grep -q '^agent wrongca' "$T/count.out" && die "an agent stored events to an unverified server"
grep -q '^agent sim-0 ' "$T/count.out" || die "the mutual-TLS agent's events are missing"
"$TANDEM" verify -s "$T/c/store" || die "verify"

# Replication between two collectors over mutual TLS: each presents a certificate from the CA.
mkcert node-a "IP:127.0.0.1" || die "node-a certificate"
mkcert node-b "IP:127.0.0.1" || die "node-b certificate"
ctl() { "$TANDEM" ctl "$T/$1/ctl.sock" "${@:2}"; }
json() { sed -E "s/.*\"$2\":([^,}]*).*/\1/" <<<"$1" | tr -d '"'; }
start_collector ra 0 "ha yes" "repl_listen 127.0.0.1:0" "control_socket \"$T/ra/ctl.sock\"" \
    "repl_tls_cert \"$T/node-a.crt\"" "repl_tls_key \"$T/node-a.key\"" "repl_tls_ca \"$T/ca.crt\""
RA_PID=$C_PID RA_PORT=$C_PORT
start_collector rb 0 "ha yes" "repl_listen 127.0.0.1:0" "control_socket \"$T/rb/ctl.sock\"" \
    "repl_tls_cert \"$T/node-b.crt\"" "repl_tls_key \"$T/node-b.key\"" "repl_tls_ca \"$T/ca.crt\""
RB_PID=$C_PID
# And one with a certificate from another CA: it must not be able to follow.
start_collector rr 0 "ha yes" "repl_listen 127.0.0.1:0" "control_socket \"$T/rr/ctl.sock\"" \
    "repl_tls_cert \"$T/rogue.crt\"" "repl_tls_key \"$T/rogue.key\"" "repl_tls_ca \"$T/ca.crt\""
RR_PID=$C_PID
RA_REPL=$(json "$(ctl ra status)" repl_port)
ctl ra role active 1 > /dev/null || die "ra active"
ctl rb role standby 1 127.0.0.1:$RA_REPL > /dev/null || die "rb standby"
"$AGENT" simulate -c 127.0.0.1:$RA_PORT -n 5 -r 5000 -d 2 --timeout 10 > "$T/repl.out" 2>&1 ||
    { cat "$T/repl.out"; die "load on the TLS-replicated pair"; }
same() { [ "$(json "$(ctl ra status)" log_pos)" = "$(json "$(ctl rb status)" log_pos)" ]; }
wait_until 20 same || die "the TLS standby did not catch up"
ctl rr role standby 1 127.0.0.1:$RA_REPL > /dev/null || die "rr standby"
# The active refuses its handshake: await the rogue's second failed attempt.
refused() { [ "$(grep -c "following 127.0.0.1:$RA_REPL: " "$T/rr/log")" -ge 2 ]; }
wait_until 10 refused || die "the untrusted standby was neither served nor refused"
[ "$(json "$(ctl rr status)" log_pos)" = 0 ] || die "a standby with an untrusted certificate replicated"
kill -TERM "$RA_PID" "$RB_PID" "$RR_PID"
wait_until 10 bash -c "! kill -0 $RA_PID 2>/dev/null && ! kill -0 $RB_PID 2>/dev/null" ||
    die "collectors did not stop"
[ "$("$TANDEM" digest -s "$T/ra/store")" = "$("$TANDEM" digest -s "$T/rb/store")" ] ||
    die "the TLS-replicated stores differ"
say "replication over mutual TLS: digests equal; the untrusted standby got nothing"
say "PASS"
