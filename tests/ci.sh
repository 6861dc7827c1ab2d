#!/bin/bash
# Tandem — MIT licence. The whole test suite on a fresh Debian 12 machine: packages, then every tier.
# This is the README's test command and what .ci/run calls: `bash tests/ci.sh`.
# Extra arguments go to tests/run_all.sh (default here: --asan, the full suite); the last line
# printed is run_all.sh's "N passed, N failed", and the exit status is run_all.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh
if [ $# -eq 0 ]; then
	set -- --asan
fi
exec bash tests/run_all.sh "$@"
