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
# debian_texts SHARED N OUT [PY]: the first N texts of SHARED's Debian corpus
# (the corpus repeated when N is larger) as {"text": ...} lines in OUT.
debian_texts() {
	"${4:-python3}" - "$1" "$2" "$3" <<'PYEOF'
import gzip, json, os, sys
shared, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = [json.loads(l)['text'] for l in gzip.open(os.path.join(shared, 'corpora/debian.jsonl.gz'), 'rt')]
t = (t * (n // len(t) + 1))[:n]
with open(out, 'w') as f:
    for x in t:
        f.write(json.dumps({'text': x}) + '\n')
PYEOF
}
