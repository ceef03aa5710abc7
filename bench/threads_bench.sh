#!/usr/bin/env bash
# bench/threads_bench.sh — #22 "threads under load": with another busy
# process on the machine (`yes > /dev/null` pinned to core 0 for the whole
# run), `winnow embed` at the default thread count (all cores) must not be
# more than 1.5x slower than at --threads 1. Idle OpenMP threads sleep
# (winnow sets OMP_WAIT_POLICY=PASSIVE, cmd/main.c) so the default does not
# fight the busy core; the same runs with OMP_WAIT_POLICY=ACTIVE show what
# spinning costs. Not part of `make test`: timings on a loaded machine are
# noise, so this prints figures and a verdict for a person to read.
#
#   bench/threads_bench.sh [RECORDS]      (default 20000; 0: the whole corpus)
#
# Then the same comparison for every other command that uses threads
# (cluster kmeans, score dsir, score zipfit, score leverage, dedup minhash,
# train), on the hash embeddings of the same records (zipfit and train on a
# tenth of them). Models: the hash embedder always; BERT (bert-tiny-uncased, the model
# t4200 uses: fixtures/models/, else $WINNOW_SHARED/models/) on a tenth of
# the records when it is there. Input: the Debian corpus
# ($WINNOW_SHARED/corpora/debian.jsonl.gz), else fixtures/debian-2000.jsonl
# repeated. Environment: WINNOW (default ./winnow), WINNOW_SHARED (default
# ../shared), BENCH_REPS (best of, default 3), OUT (default /tmp/winnow-threads-bench).
# Exit 0 when every ratio is at most 1.5, 1 otherwise.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
WINNOW=${WINNOW:-$root/winnow}
WINNOW_SHARED=${WINNOW_SHARED:-$root/../shared}
OUT=${OUT:-/tmp/winnow-threads-bench}
n=${1:-20000}
mkdir -p "$OUT" || exit 1
in=$OUT/in-$n.jsonl
if [ ! -s "$in" ]; then
	if [ -s "$WINNOW_SHARED/corpora/debian.jsonl.gz" ]; then
		src() { zcat "$WINNOW_SHARED/corpora/debian.jsonl.gz"; }
	else
		src() { while :; do cat "$root/fixtures/debian-2000.jsonl"; done; }
	fi
	if [ "$n" = 0 ]; then src > "$in"; else src | head -n "$n" > "$in"; fi
fi
model=""
for m in "$root/fixtures/models/bert-tiny-uncased" "$WINNOW_SHARED/models/bert-tiny-uncased"; do
	[ -f "$m/config.json" ] && { model=$m; break; }
done

taskset -c 0 yes > /dev/null &
busy=$!
trap 'kill $busy 2> /dev/null' EXIT
echo "cores: $(nproc), busy: yes (pid $busy) on core 0, input: $(wc -l < "$in") records"

fail=0
# row NAME ARGS...: embed at --threads 1 and at the default, passive and active waits
row() {
	local name=$1; shift
	local t1 td ta r
	t1=$(secs "$WINNOW" embed -q --device cpu --threads 1 "$@")
	td=$(secs "$WINNOW" embed -q --device cpu "$@")
	ta=$(OMP_WAIT_POLICY=ACTIVE secs "$WINNOW" embed -q --device cpu "$@")
	r=$(ratio "$td" "$t1")
	printf '%-6s --threads 1: %7.3f s | default (passive): %7.3f s, %.2fx | default, OMP_WAIT_POLICY=ACTIVE: %7.3f s, %.2fx\n' \
		"$name" "$t1" "$td" "$r" "$ta" "$(ratio "$ta" "$t1")"
	[ "$(echo "$r <= 1.5" | bc -l)" = 1 ] || fail=1
}
row hash "$in"
# crow NAME CMD ARGS...: any threaded command at --threads 1 and at the default
crow() {
	local name=$1 cmd=$2; shift 2
	local t1 td r
	t1=$(secs "$WINNOW" $cmd --threads 1 "$@")
	td=$(secs "$WINNOW" $cmd "$@")
	r=$(ratio "$td" "$t1")
	printf '%-15s --threads 1: %7.3f s | default (passive): %7.3f s, %.2fx\n' "$name" "$t1" "$td" "$r"
	[ "$(echo "$r <= 1.5" | bc -l)" = 1 ] || fail=1
}
"$WINNOW" embed -q --threads 1 --dim 64 "$in" > "$OUT/emb.jsonl" || exit 1
head -n $(( $(wc -l < "$in") / 10 + 1 )) "$OUT/emb.jsonl" > "$OUT/emb-small.jsonl"
head -n 20 "$in" > "$OUT/target.jsonl"
crow "cluster kmeans" "cluster kmeans" -q -k 100 --niter 10 --seed 1 --device cpu "$OUT/emb.jsonl"
crow "score dsir" "score dsir" -q --target "$OUT/target.jsonl" "$in"
crow "score zipfit" "score zipfit" -q --target "$OUT/target.jsonl" "$OUT/emb-small.jsonl"
crow "score leverage" "score leverage" -q --device cpu "$OUT/emb.jsonl"
crow "dedup minhash" "dedup minhash" -q "$in"
crow "train" train -q --label section --epochs 2 --device cpu "$OUT/emb-small.jsonl"
if [ -n "$model" ]; then
	head -n $(( $(wc -l < "$in") / 10 + 1 )) "$in" > "$OUT/bert-in.jsonl"
	row bert --model "$model" "$OUT/bert-in.jsonl"
else
	echo "bert: no bert-tiny-uncased model found; hash model only"
fi
[ $fail = 0 ] && echo "verdict: default threads within 1.5x of --threads 1" ||
	echo "verdict: default threads MORE than 1.5x slower than --threads 1"
exit $fail
