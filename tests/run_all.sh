#!/bin/bash
# Tandem — MIT licence. Runs every test tier and prints one "N passed, N failed" line.
#
# Usage: tests/run_all.sh [--quick | --asan | --asan-only] [--fuzz[=SECONDS]]
#   (default)    bazel tests, then the integration and netns scripts; the ASan+UBSan pass is
#                added when $CI is set (as in CI)
#   --quick      no ASan pass
#   --asan       add the ASan+UBSan pass (bazel tests and integration scripts again)
#   --asan-only  only the ASan+UBSan pass
#   --fuzz[=S]   also build every libFuzzer target (--config=fuzz, clang) and run each for S
#                seconds (default 30) on a copy of its corpus; each is one test
#
# Tiers, in order:
#   1. bazel test over every target tagged unit, fuzz_replay or integration (--keep_going).
#      Cases are counted from each test's log: cmocka tests print TAP ("ok N - what",
#      "not ok N - what") through unit_test()'s CMOCKA_MESSAGE_OUTPUT=tap; a test target
#      without TAP lines counts as one case. A target that fails without a "not ok" line
#      (crash, sanitizer report, timeout, leak) and a target that fails to build count as one
#      failure each. A build failure of a non-test target is one failure too.
#   2. tests/integration/*_test.sh, then tests/netns/*_test.sh: each script is one test
#      (exit 0 pass, 77 skip, anything else fail) run under `timeout`. Scripts get
#      TANDEM_BAZEL (the bazel command line to use), TANDEM_BIN (bazel-bin of this pass) and
#      TANDEM_CONFIG ("" or "asan").
#   3. with ASan: 1 again under --config=asan, then tests/integration again.
#   4. with --fuzz: the fuzzers (targets tagged "fuzzer"), a crash is a failure.
#
# Environment: TANDEM_BAZEL_OUTPUT_BASE (a separate Bazel output base),
#   TANDEM_SCRIPT_TIMEOUT (seconds per script, default 300), TANDEM_BAZEL_FLAGS (extra flags).
# Exit status: 0 when nothing failed, 1 otherwise.

set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

normal=1
asan=0
fuzz=0
[ -n "${CI:-}" ] && asan=1
for arg in "$@"; do
	case $arg in
	--quick)	asan=0 ;;
	--asan)		asan=1 ;;
	--asan-only)	normal=0; asan=1 ;;
	--fuzz)		fuzz=30 ;;
	--fuzz=[0-9]*)	fuzz=${arg#--fuzz=} ;;
	-h|--help)	sed -n '2,30p' "$0"; exit 0 ;;
	*)		echo "run_all.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

BAZEL=(bazel)
[ -n "${TANDEM_BAZEL_OUTPUT_BASE:-}" ] && BAZEL+=("--output_base=$TANDEM_BAZEL_OUTPUT_BASE")
# Debian's /etc/bazel/bazelrc turns on --sandbox_debug, which floods every log.
FLAGS=(--nosandbox_debug --color=no --curses=no)
# shellcheck disable=SC2206
[ -n "${TANDEM_BAZEL_FLAGS:-}" ] && FLAGS+=($TANDEM_BAZEL_FLAGS)
TEST_TAGS=unit,fuzz_replay,integration
SCRIPT_TIMEOUT=${TANDEM_SCRIPT_TIMEOUT:-300}
FINDINGS=${TMPDIR:-/tmp}/tandem-fuzz-findings

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-tests.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
skipped=0
failures=()

fail() {
	failed=$((failed + 1))
	failures+=("$1")
}

# Every top-level package, spelled out: `//...` would also descend into the bazel-<dir>
# convenience symlink, whose name Bazel does not ignore (it is not bazel-<workspace name>).
patterns() {
	local d
	for d in */; do
		d=${d%/}
		case $d in bazel-*) continue ;; esac
		[ -f "$d/BUILD" ] || [ -f "$d/BUILD.bazel" ] || \
		    [ -n "$(find "$d" -maxdepth 4 \( -name BUILD -o -name BUILD.bazel \) -print -quit)" ] || continue
		echo "//$d/..."
	done
}

# Counts the cases of one test target from its log. $1 label, $2 status, $3 log, $4 prefix.
count_target() {
	local label=$1 status=$2 log=$3 pfx=$4 ok=0 notok=0 line
	if [ -f "$log" ]; then
		ok=$(grep -c '^ok [0-9]' "$log")
		notok=$(grep -c '^not ok [0-9]' "$log")
	fi
	case $status in
	PASSED|FLAKY)
		if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ]; then ok=1; fi
		passed=$((passed + ok))
		if [ "$notok" -gt 0 ]; then
			while IFS= read -r line; do
				fail "$pfx$label: ${line#not ok }"
			done < <(grep '^not ok [0-9]' "$log")
		fi
		;;
	"FAILED TO BUILD"|"NO STATUS")
		fail "$pfx$label (${status,,})"
		;;
	*)
		passed=$((passed + ok))
		if [ "$notok" -gt 0 ]; then
			while IFS= read -r line; do
				fail "$pfx$label: ${line#not ok }"
			done < <(grep '^not ok [0-9]' "$log")
		else
			fail "$pfx$label (${status,,}${log:+, see $log})"
		fi
		;;
	esac
}

# One bazel test pass. $1: "" or a config name.
bazel_pass() {
	local config=$1 pfx="" cfg=() out rc testlogs line label status n=0 nbad=0
	if [ -n "$config" ]; then
		pfx="[$config] "
		cfg=("--config=$config")
	fi
	out=$WORK/bazel${config:+-$config}.log
	mapfile -t pats < <(patterns)
	echo "== bazel test ${cfg[*]} (tags $TEST_TAGS): ${pats[*]}"
	"${BAZEL[@]}" test "${FLAGS[@]}" "${cfg[@]}" --keep_going --test_tag_filters="$TEST_TAGS" \
	    --test_output=errors --test_summary=short -- "${pats[@]}" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	testlogs=$("${BAZEL[@]}" info "${FLAGS[@]}" "${cfg[@]}" bazel-testlogs 2>/dev/null)
	while IFS= read -r line; do
		label=${line%% *}
		status=$(sed -E 's/^[^ ]+ +(\(cached\) )?//; s/ in [0-9.]+s.*$//; s/ +$//' <<<"$line")
		n=$((n + 1))
		case $status in "FAILED TO BUILD"|"NO STATUS") nbad=$((nbad + 1)) ;; esac
		local rel=${label#//}
		rel=${rel/://}
		count_target "$label" "$status" "$testlogs/$rel/test.log" "$pfx"
	done < <(grep -E '^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|FLAKY|TIMEOUT|NO STATUS|INCOMPLETE|REMOTE FAILURE)' "$out")
	case $rc in
	0|3)	;;			# all passed / some tests failed: counted above
	4)	[ "$n" -eq 0 ] && echo "run_all.sh: no test targets found${pfx:+ ($config)}" ;;
	1)	[ "$nbad" -eq 0 ] && fail "${pfx}bazel: build failed (see the log above)" ;;
	*)	fail "${pfx}bazel test exited with $rc" ;;
	esac
	BIN=$("${BAZEL[@]}" info "${FLAGS[@]}" "${cfg[@]}" bazel-bin 2>/dev/null)
}

# Runs tests/<dir>/*_test.sh; each is one test. $1 dir, $2 config ("" or asan).
script_pass() {
	local dir=$1 config=$2 pfx="" s name log rc
	[ -n "$config" ] && pfx="[$config] "
	[ -d "tests/$dir" ] || return 0
	for s in tests/"$dir"/*_test.sh; do
		[ -f "$s" ] || continue
		name="$pfx$s"
		log=$WORK/$(echo "$name" | tr '/ []' '____').log
		echo "== $name"
		TANDEM_BAZEL="${BAZEL[*]}" TANDEM_BIN=$BIN TANDEM_CONFIG=$config TANDEM_ROOT=$ROOT \
		    timeout -k 10 "$SCRIPT_TIMEOUT" bash "$s" >"$log" 2>&1 </dev/null
		rc=$?
		case $rc in
		0)	passed=$((passed + 1)); echo "PASS $name" ;;
		77)	skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
		124|137) fail "$name (timed out after ${SCRIPT_TIMEOUT}s)"; tail -n 40 "$log" ;;
		*)	fail "$name (exit $rc)"; tail -n 40 "$log" ;;
		esac
		# The script's own verdict lines, repeated under the summary (CI shows the tail).
		if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
			{ echo "---- $name"; grep -E '(FAIL|die|error|Error)' "$log" | tail -n 8; } >> "$WORK/why"
		fi
	done
}

# Builds and runs every fuzzer for $fuzz seconds; each is one test.
fuzz_pass() {
	local fz name bin corpus log rc
	mapfile -t pats < <(patterns)
	mapfile -t fz < <("${BAZEL[@]}" query --color=no "attr(tags, 'fuzzer', kind(cc_binary, set(${pats[*]})))" 2>/dev/null)
	echo "== fuzz: ${fz[*]:-none} for ${fuzz}s each"
	[ "${#fz[@]}" -gt 0 ] || return 0
	if ! "${BAZEL[@]}" build "${FLAGS[@]}" --config=fuzz "${fz[@]}"; then
		fail "[fuzz] bazel build --config=fuzz failed"
		return
	fi
	bin=$("${BAZEL[@]}" info "${FLAGS[@]}" --config=fuzz bazel-bin 2>/dev/null)
	for label in "${fz[@]}"; do
		name=${label##*:}
		rel=${label#//}
		rel=${rel%%:*}
		corpus=$WORK/corpus-$name
		mkdir -p "$corpus" "$WORK/art-$name"
		cp "$rel/corpus/${name%_fuzzer}"/* "$corpus"/ 2>/dev/null
		log=$WORK/$name.log
		echo "== [fuzz] $label"
		(cd "$WORK/art-$name" && timeout -k 10 $((fuzz + 120)) "$bin/$rel/$name" \
		    -max_total_time="$fuzz" -artifact_prefix="$WORK/art-$name/" "$corpus" \
		    >"$log" 2>&1 </dev/null)
		rc=$?
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1))
			grep -E '^Done' "$log"
		else
			fail "[fuzz] $label (exit $rc; artifacts kept in $FINDINGS)"
			mkdir -p "$FINDINGS"
			cp "$WORK/art-$name"/* "$FINDINGS"/ 2>/dev/null
			grep -A 20 -E 'ERROR|SUMMARY|fuzz: ' "$log" | head -n 40
		fi
	done
}

BIN=
if [ "$normal" -eq 1 ]; then
	bazel_pass ""
	script_pass integration ""
	script_pass browser ""
	script_pass netns ""
fi
if [ "$asan" -eq 1 ]; then
	bazel_pass asan
	script_pass integration asan
fi
[ "$fuzz" != 0 ] && fuzz_pass

echo
echo "== Summary"
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
[ -s "$WORK/why" ] && cat "$WORK/why"
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
