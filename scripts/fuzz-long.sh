#!/usr/bin/env bash
# scripts/fuzz-long.sh - run every libFuzzer target of tests/fuzz for longer
# than tests/t0050-fuzz.sh does, one after the other (one process: the
# machine may be shared), then merge what they found that the committed
# corpus does not cover into build/fuzz/corpus-new/TARGET/, for a developer
# to look at and commit. Prints a summary table; exits 1 if any target
# crashed (inputs in build/fuzz/artifacts/). See tests/fuzz/README.md.
#
#   scripts/fuzz-long.sh [SECONDS [TARGET...]]   default 180 s, every target
#
# The working corpus of each target (build/fuzz/long/TARGET) is kept, so
# successive runs go on where the last one stopped.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-180}
shift || true
fb=build/fuzz
src=tests/fuzz

make -s fuzz
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in "$src"/fuzz-*.c; do
		t=$(basename "$f" .c)
		targets+=("${t#fuzz-}")
	done
fi

mkdir -p "$fb/artifacts" "$fb/long" "$fb/corpus-new"
rows=()
failed=0
for t in "${targets[@]}"; do
	work=$fb/long/$t
	log=$fb/long/$t.log
	merge=$fb/long/$t.merge
	new=$fb/corpus-new/$t
	stamp=$fb/long/$t.stamp
	mkdir -p "$work"
	touch "$stamp"
	echo "== fuzz-$t: $secs s" >&2
	rc=0
	"$fb/fuzz-$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
	    -dict="$src/dict/$t.dict" -artifact_prefix="$fb/artifacts/$t-" \
	    "$work" "$src/corpus/$t" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	crashes=$(find "$fb/artifacts" -name "$t-*" -newer "$stamp" | wc -l)
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		failed=1
		grep -E "invariant failed|SUMMARY" "$log" | head -n 5 >&2 || true
		find "$fb/artifacts" -name "$t-*" -newer "$stamp" >&2
	fi

	# What the run found beyond the committed corpus, minimised by
	# libFuzzer's merge (it adds only inputs with new coverage).
	rm -rf "$merge" "$new"
	cp -r "$src/corpus/$t" "$merge"
	"$fb/fuzz-$t" -merge=1 "$merge" "$work" >"$log.merge" 2>&1 || {
		echo "fuzz-$t: merge failed (see $log.merge)" >&2
		failed=1
	}
	mkdir -p "$new"
	for f in "$merge"/*; do
		[ -e "$src/corpus/$t/$(basename "$f")" ] || cp "$f" "$new/"
	done
	rows+=("$(printf '%-8s %6s %12s %9s %6s %7s %8s %5s' "$t" "$secs" \
	    "${execs:-?}" "${rate:-?}" "${cov:-?}" "$crashes" \
	    "$(ls "$src/corpus/$t" | wc -l)" "$(ls "$new" | wc -l)")")
done

printf '%-8s %6s %12s %9s %6s %7s %8s %5s\n' target secs execs exec/s cov \
    crashes corpus new
printf '%s\n' "${rows[@]}"
echo "New inputs: $fb/corpus-new/TARGET/ (commit them with"
echo "  cp $fb/corpus-new/TARGET/* $src/corpus/TARGET/)"
[ "$failed" -eq 0 ] || echo "Crashes: inputs in $fb/artifacts/" >&2
exit "$failed"
