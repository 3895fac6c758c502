#!/usr/bin/env bash
# t0050-fuzz.sh - every libFuzzer target in tests/fuzz (one per parser of
# untrusted input: frames and requests, command argv, names, SSH keys,
# SSH_ORIGINAL_COMMAND splitting, labcd.conf, LXD answers) runs a few
# seconds from its committed corpus: no crash, no leak, no broken
# invariant. Needs no LXD. Crash inputs go to build/fuzz/artifacts.
# LABCT_FUZZ_SECONDS sets the time per target (default 8); longer runs
# that grow the corpus: scripts/fuzz-long.sh (tests/fuzz/README.md).
. "$(dirname "$0")/lib.sh"

secs=${LABCT_FUZZ_SECONDS:-8}
# tests/run's fast_unwind_on_malloc=0 would make every malloc unwind the
# stack slowly: a fuzzer keeps the checks that matter, at full speed.
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fb=$LABCT_TOP/build/fuzz
src=$LABCT_TOP/tests/fuzz

if ! command -v "${FUZZCC:-clang}" >/dev/null; then
	test_skip_all "no clang: scripts/deps.sh installs it"
fi

test_expect_success 'the fuzz targets build (make fuzz)' '
	make -s -C "$LABCT_TOP" fuzz >/dev/null
'

touch "$TDIR/start"
targets=()
for f in "$src"/fuzz-*.c; do
	t=$(basename "$f" .c)
	targets+=("${t#fuzz-}")
done

test_expect_success 'every target has a seed corpus and a dictionary' '
	[ ${#targets[@]} -ge 7 ]
	for t in "${targets[@]}"; do
		[ -n "$(ls "$src/corpus/$t")" ] || { echo "no corpus for $t"; exit 1; }
		[ -f "$src/dict/$t.dict" ] || { echo "no dictionary for $t"; exit 1; }
	done
'

# fuzz_one TARGET: run it, check the outcome, report the figures.
fuzz_one() {
	local t=$1 work=$fb/work/$1 stamp=$fb/work/$1.stamp log=$fb/work/$1.log
	local rc=0 start end execs crashes

	rm -rf "$work"
	mkdir -p "$work" "$fb/artifacts"
	touch "$stamp"
	start=$(date +%s.%N)
	# New inputs go to the first directory, never to the source tree.
	"$fb/fuzz-$t" -max_total_time="$secs" -print_final_stats=1 \
	    -timeout=10 -dict="$src/dict/$t.dict" \
	    -artifact_prefix="$fb/artifacts/$t-" \
	    "$work" "$src/corpus/$t" >"$log" 2>&1 || rc=$?
	end=$(date +%s.%N)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	crashes=$(find "$fb/artifacts" -name "$t-*" -newer "$stamp" | wc -l)
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ -z "$execs" ] ||
	    [ "$execs" -eq 0 ]; then
		echo "fuzz-$t: exit status $rc, $crashes crash input(s), ${execs:-no} execs" >&2
		find "$fb/artifacts" -name "$t-*" -newer "$stamp" >&2
		# Not the sanitizer report itself: tests/run would count it twice.
		grep -E "invariant failed|SUMMARY|ERROR: libFuzzer| in [a-z_]+ /" "$log" |
		    head -n 20 | sed "s/ERROR: /error: /" >&2
		return 1
	fi
	measured "fuzz $t: $execs execs in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s, 0 crashes"
}

for t in "${targets[@]}"; do
	test_expect_success "fuzz-$t: ${secs} s from the corpus, no crash" "fuzz_one $t"
done

test_expect_success 'the fuzzers wrote nothing into the source tree' '
	[ -z "$(find "$src" -newer "$TDIR/start" -print)" ]
'

test_done
