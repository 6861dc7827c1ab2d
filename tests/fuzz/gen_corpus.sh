#!/bin/bash
# Tandem — MIT licence. Regenerates the committed fuzz seed corpora from tests/fuzz/gen_corpus.c.
# Files found by fuzzing and added by hand are kept; generated seeds are overwritten.
set -euo pipefail
cd "$(dirname "$0")/../.."
ob=()
[ -n "${TANDEM_BAZEL_OUTPUT_BASE:-}" ] && ob=(--output_base="$TANDEM_BAZEL_OUTPUT_BASE")
bazel "${ob[@]}" run //tests/fuzz:gen_corpus -- "$PWD/tests/fuzz/corpus"
