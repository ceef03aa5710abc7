# bench/lib.sh — timing helpers for bench/*_bench.sh.
# secs CMD...: runs CMD (stdout to /dev/null) and prints wall seconds; best of $BENCH_REPS (default 3).
BENCH_REPS=${BENCH_REPS:-3}
secs() {
	local best="" t0 t1 t
	for _ in $(seq "$BENCH_REPS"); do
		t0=$(date +%s.%N); "$@" > /dev/null 2>&1 || { echo "FAILED: $*" >&2; echo nan; return 1; }; t1=$(date +%s.%N)
		t=$(awk "BEGIN { print $t1 - $t0 }")
		if [ -z "$best" ] || awk "BEGIN { exit !($t < $best) }"; then best=$t; fi
	done
	printf '%.3f\n' "$best"
}
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
