#!/bin/bash
# Tandem — MIT licence. Golden config tests for had: -nv output is the normalised config (and a
# fixed point); bad files are rejected whole with file:line errors; the example parses.
# Usage: conf_test.sh HAD_BINARY [--update]   (run by bazel as //ha:had_conf_test)
set -u
HAD=$(realpath "$1")
if [ -n "${TEST_SRCDIR:-}" ]; then
	cd "$TEST_SRCDIR/${TEST_WORKSPACE:-tandem}/ha/testdata" || exit 1
else
	cd "$(dirname "$0")" || exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for in in had.*.in; do
	ok=${in%.in}.ok
	"$HAD" -n -v -f "$in" > "$T/out" 2> "$T/err" || { cat "$T/err"; fail "$in rejected"; }
	if [ "${2:-}" = --update ]; then cp "$T/out" "$ok"; continue; fi
	diff -u "$ok" "$T/out" || fail "$in: normalised output differs from $ok"
	"$HAD" -n -v -f "$T/out" > "$T/out2" 2>/dev/null || fail "$ok does not parse"
	diff -u "$T/out" "$T/out2" || fail "$ok is not a fixed point"
	echo "ok - $in"
done
for in in bad-*.in; do
	"$HAD" -n -f "$in" > /dev/null 2> "$T/err" && fail "$in was accepted"
	if [ "${2:-}" = --update ]; then cp "$T/err" "${in%.in}.err"; continue; fi
	diff -u "${in%.in}.err" "$T/err" || fail "$in: errors differ"
	echo "ok - $in rejected"
done
"$HAD" -n -f ../had.conf 2> "$T/err" || { cat "$T/err"; fail "the example had.conf does not parse"; }
echo "ok - example had.conf"
