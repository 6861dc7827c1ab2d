#!/bin/bash
# Tandem — MIT licence. Shell helpers shared by tests/integration/lib.sh and tests/netns/lib.sh
# (sourced by them; each defines its own die(), which may dump logs).

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }
skip() { say "SKIP: $*"; exit 77; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_until SECONDS CMD...: CMD every 20 ms until it succeeds; 1 on timeout.
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	return 1
}
