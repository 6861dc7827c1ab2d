#!/bin/bash
# Tandem — MIT licence. Golden config tests: collectord -nv output is the normalised config;
# bad files are rejected whole with file:line errors; the shipped example parses.
# With --update the .ok files are regenerated.
. "$(dirname "$0")/lib.sh"

cd "$ROOT/tests/config" || die "no tests/config"
for in in collectord.*.in; do
	ok=${in%.in}.ok
	"$COLLECTORD" -n -v -f "$in" > "$T/out" 2> "$T/err" || { cat "$T/err"; die "$in rejected"; }
	if [ "${1:-}" = --update ]; then cp "$T/out" "$ok"; continue; fi
	diff -u "$ok" "$T/out" || die "$in: normalised output differs from $ok"
	# The normalised output is itself a valid config that normalises to itself.
	"$COLLECTORD" -n -v -f "$T/out" > "$T/out2" 2>/dev/null || die "$ok does not parse"
	diff -u "$T/out" "$T/out2" || die "$ok is not a fixed point"
	say "$in ok"
done
for in in bad-*.in; do
	if "$COLLECTORD" -n -f "$in" > /dev/null 2> "$T/err"; then
		die "$in was accepted"
	fi
	if [ "${1:-}" = --update ]; then cp "$T/err" "${in%.in}.err"; continue; fi
	diff -u "${in%.in}.err" "$T/err" || die "$in: errors differ"
	say "$in rejected as expected"
done
"$COLLECTORD" -n -f "$ROOT/collector/collectord.conf" 2> "$T/err" || { cat "$T/err"; die "the example config does not parse"; }
say "PASS"
