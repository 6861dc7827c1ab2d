#!/bin/bash
# Tandem — MIT licence. Regenerates tests/fuzz/corpus/hb from tests/fuzz/hb_fuzz.c (-DHB_FUZZ_GEN).
# Files found by fuzzing and added by hand (regress-*) are kept; generated seeds are overwritten.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ob=()
[ -n "${TANDEM_BAZEL_OUTPUT_BASE:-}" ] && ob=(--output_base="$TANDEM_BAZEL_OUTPUT_BASE")

bazel "${ob[@]}" run //tests/fuzz:hb_fuzz_gen -- "$PWD/tests/fuzz/corpus"
