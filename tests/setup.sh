#!/bin/bash
# Tandem — MIT licence. Installs every Debian 12 package the build and the tests need.
# The one list of packages: .ci/run (through tests/ci.sh) and developers both use this.
# Needs root (or sudo). Safe to run again: apt-get install is a no-op for what is present.
set -euo pipefail

PACKAGES=(
	# build
	bazel-bootstrap bazel-platforms gcc
	# fuzzing (clang -fsanitize=fuzzer) and the runtime libraries it links
	clang libclang-rt-14-dev
	# libraries
	libevent-dev liblmdb-dev libprotobuf-c-dev protobuf-c-compiler libjansson-dev libmnl-dev
	libcurl4-openssl-dev libssl-dev
	# tests: unit framework, LMDB dumps, netns HA tests, process handling in scripts
	libcmocka-dev lmdb-utils iproute2 procps psmisc jq
	# demo.sh: a forwarder from 127.0.0.1 into the demo's client namespace
	socat
	# dashboard: npm vendors uPlot (monitor/assets/setup.sh); the browser test drives chromium
	# with playwright-core from npm (tests/browser/). npm itself: see below.
	nodejs chromium
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "setup.sh: run as root (or install sudo)" >&2; exit 1; }
	SUDO=(sudo)
fi

missing() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		    echo "$p"
	done
}

export DEBIAN_FRONTEND=noninteractive
echo "== setup: apt-get update && apt-get install -y ${PACKAGES[*]}"
if "${SUDO[@]}" apt-get update -q && \
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"; then
	echo "== setup: packages installed"
else
	# Offline but already provisioned is fine; anything missing is not.
	m=$(missing)
	if [ -n "$m" ]; then
		echo "setup.sh: apt-get failed and these packages are missing: $m" >&2
		exit 1
	fi
	echo "setup.sh: apt-get failed, but every package is already installed; going on" >&2
fi

# npm is its own package with Debian's nodejs but comes inside NodeSource's, which conflicts
# with Debian's npm: install it only when the command is missing.
if ! command -v npm >/dev/null; then
	"${SUDO[@]}" apt-get install -y -q --no-install-recommends npm || {
		echo "setup.sh: npm is missing and could not be installed" >&2; exit 1; }
fi
# The dashboard's chart library, from npm into monitor/assets/vendor/ (not committed).
"$(dirname "$0")/../monitor/assets/setup.sh"
