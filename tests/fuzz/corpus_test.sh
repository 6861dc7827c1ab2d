#!/bin/bash
# Tandem — MIT licence. Checks that every seed gen_corpus writes is committed byte for byte.
# Usage: corpus_test.sh <gen_corpus binary> <committed corpus dir>
set -euo pipefail

gen=$1
committed=$2
out=${TEST_TMPDIR:-$(mktemp -d)}/corpus
"$gen" "$out" >/dev/null
failed=0
total=0
for f in "$out"/*/*; do
	rel=${f#"$out"/}
	total=$((total + 1))
	if ! cmp -s "$f" "$committed/$rel"; then
		echo "not ok - $rel differs from the generator (run tests/fuzz/gen_corpus.sh)"
		failed=$((failed + 1))
	fi
done
echo "# $total seeds checked, $failed stale"
[ "$failed" -eq 0 ]
