#!/usr/bin/env bash
# bench/sensitivity_bench.sh — `winnow score leverage`, `score lewis --p 1`
# and `--p 3`, and `select facility-location` against numpy peers
# (bench/sensitivity_peer.py) on hash embeddings of the PyPI corpus (issue 19).
#
#   bench/sensitivity_bench.sh [N|full] [DIM] [FL_N] [FL_M] [FL_K]
#        (default: full 256 100000 1000 10; the issue's figures are full = 784,692 x 256)
#
# Vectors: the first N records of ../shared/corpora/pypi.jsonl.zst embedded by
# `winnow embed --dim DIM` (the hash embedder) into one float32 .npy that all
# tools read (made once, kept in $OUT). Timed, all in this run on the same matrix:
#  - winnow score leverage (float64, two passes) against numpy: QR leverage
#    (numpy.linalg.qr) and the Cholesky form (A^T A, then A L^-T: two GEMM passes);
#  - winnow score lewis --p 1 and --p 3 against numpy's Cohen-Peng iteration,
#    both with the same bound: --tol $LEWIS_TOL, at most $LEWIS_MAX_ITER
#    iterations (the contraction is |1 - p/2| = 1/2 per iteration at p = 1 and
#    3, so 1e-6 takes about 20); a zero row has weight 0 in both;
#  - facility location on the first FL_N rows, budget FL_M, K neighbours:
#    winnow's lazy greedy (its own kNN graph, as `cluster graph --engine core`)
#    against the peer's apricot rule (brute-force cosine kNN graph, heapq lazy
#    greedy); both objectives are computed on the peer's graph.
# CPU rows run on 2 cores: winnow --device cpu --threads 2 (auto would put the
# GEMMs on a GPU) and numpy with 2 BLAS threads,
# pinned with taskset to cores $PIN_CPUS where the machine has more than 2.
# When `winnow device` finds a GPU, --device cuda rows follow each CPU row
# (float32 GEMM passes; Lewis there stops at the same --tol).
# Each row is printed (Markdown) as soon as it is measured, each agreement
# line (largest relative difference to winnow's float64 CPU scores) as soon
# as both sides exist; every run is bounded by `timeout $RUN_LIMIT` (a run
# that fails or times out prints its exit code and the script goes on).
# Per command: wall seconds, user+system CPU seconds and max RSS (GNU time).
# Environment: WINNOW (default ./build/winnow), WINNOW_SHARED (default ../shared),
# OUT (work folder, default /tmp/winnow-sensitivity-bench), PY (default
# /usr/bin/python3 if it has numpy, else python3), DEVICE (auto, cpu: no GPU
# rows), LEWIS_TOL (1e-6), LEWIS_MAX_ITER (40), RUN_LIMIT (seconds, 900),
# PIN_CPUS (0,1), ONLY (a comma list of parts to run: leverage, lewis1, lewis3,
# fl; default all: on the GPU machine, where one call is limited to 10
# minutes, run them in separate calls with the same OUT), PEERS (1; 0: no numpy rows,
# for a GPU-machine call that only adds the --device cuda rows beside winnow's CPU rows),
# CPU_ROWS (1; 0: no winnow CPU rows either), REF (a folder of numpy outputs from an
# earlier run here, lev-chol.txt, lewis1.txt, lewis3.txt, .zst allowed: the --device
# cuda rows are also compared with them). Results also as JSON lines in $OUT/results-N-DIM.jsonl.
# Run it on a quiet machine: the lead measures.
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-full}
DIM=${2:-256}
FL_N=${3:-100000}
FL_M=${4:-1000}
FL_K=${5:-10}
WINNOW=${WINNOW:-$PWD/build/winnow}
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
OUT=${OUT:-/tmp/winnow-sensitivity-bench}
if [ -z "${PY:-}" ]; then
	PY=python3; /usr/bin/python3 -c 'import numpy' 2>/dev/null && PY=/usr/bin/python3
fi
DEVICE=${DEVICE:-auto}
LEWIS_TOL=${LEWIS_TOL:-1e-6}
LEWIS_MAX_ITER=${LEWIS_MAX_ITER:-40}
RUN_LIMIT=${RUN_LIMIT:-900}
PIN_CPUS=${PIN_CPUS:-0,1}
ONLY=${ONLY:-leverage,lewis1,lewis3,fl}
PEERS=${PEERS:-1}
CPU_ROWS=${CPU_ROWS:-1}
REF=${REF:-}
part() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
PEER=$PWD/bench/sensitivity_peer.py
for t in jq bc zstd /usr/bin/time timeout; do command -v "$t" > /dev/null || { echo "sensitivity_bench: $t is missing" >&2; exit 1; }; done
CORPUS=$SHARED/corpora/pypi.jsonl.zst
"$PY" -c 'import numpy' || { echo "sensitivity_bench: $PY has no numpy" >&2; exit 1; }
mkdir -p "$OUT"
cores=$(nproc)  # before the export: GNU nproc obeys OMP_NUM_THREADS
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
pin=()
[ "$cores" -gt 2 ] && command -v taskset > /dev/null && pin=(taskset -c "$PIN_CPUS")
gpu=0
if [ "$DEVICE" != cpu ] && "$WINNOW" device 2>/dev/null | grep -q "^backend: cuda"; then gpu=1; fi

recs=$OUT/pypi-$N.jsonl
vecs=$OUT/pypi-$N-$DIM.npy
if [ ! -s "$recs" ]; then
	if [ "$N" = full ]; then zstd -dc "$CORPUS" > "$recs"; else zstd -dc "$CORPUS" | head -n "$N" > "$recs"; fi
fi
[ -s "$vecs" ] || "${pin[@]}" "$WINNOW" embed -q --threads 2 --dim "$DIM" --npy "$vecs" --no-annotate -o /dev/null "$recs" ||
	{ echo "sensitivity_bench: embed failed" >&2; exit 1; }
n=$(wc -l < "$recs")
fl_n=$(( FL_N < n ? FL_N : n ))
fl_recs=$OUT/fl-$N-$fl_n.jsonl fl_vecs=$OUT/fl-$N-$fl_n-$DIM.npy
[ -s "$fl_recs" ] || head -n "$fl_n" "$recs" > "$fl_recs"
[ -s "$fl_vecs" ] || "$PY" -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:int(sys.argv[3])])" \
	"$vecs" "$fl_vecs" "$fl_n"
res=$OUT/results-$N-$DIM.jsonl
[ "$ONLY" = leverage,lewis1,lewis3,fl ] && : > "$res"  # parts run alone append
echo "vectors: $n x $DIM (winnow embed --dim $DIM); Lewis --tol $LEWIS_TOL, at most $LEWIS_MAX_ITER iterations; facility location on $fl_n, budget $FL_M, knn $FL_K"
echo "machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg), CPU rows: 2 threads${pin:+, taskset -c $PIN_CPUS}; GPU rows: $([ $gpu = 1 ] && echo yes || echo none), $(date -u +%FT%TZ)"
echo
echo "| n=$n d=$DIM | wall s | CPU s | max RSS MiB | note |"
echo "| --- | ---: | ---: | ---: | --- |"

# timed NAME PINNED CMD...: run CMD (stdout to $OUT/last.out) under GNU time and
# timeout; prints the Markdown row at once and appends the JSON line to $res.
# PINNED=1: under taskset (CPU rows). The note is the peer's JSON or the exit code.
timed() {
	local name=$1 pinned=$2 tf=$OUT/time.txt rc note="" wall user sys rss
	shift 2
	local pre=(); [ "$pinned" = 1 ] && pre=("${pin[@]}")
	/usr/bin/time -f "%e %U %S %M" -o "$tf" timeout "$RUN_LIMIT" "${pre[@]}" "$@" > "$OUT/last.out" 2> "$OUT/last.err"
	rc=$?
	read -r wall user sys rss < <(tail -n 1 "$tf")
	if [ $rc != 0 ]; then note="FAILED rc $rc$([ $rc = 124 ] && echo ": over $RUN_LIMIT s"): $(grep -v '^Command' "$OUT/last.err" | tail -n 1)"; fi
	printf '| %s | %s | %s | %.0f | %s |\n' "$name" "$wall" "$(echo "$user + $sys" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$note"
	jq -nc --arg name "$name" --argjson wall "$wall" --argjson cpu "$(echo "$user + $sys" | bc -l)" \
		--argjson rss "$rss" --argjson rc "$rc" '{name: $name, wall: $wall, cpu: $cpu, rss_kb: $rss, rc: $rc}' >> "$res"
	return $rc
}
# agree WHAT KEY WINNOW_JSONL OTHER: the largest relative difference of winnow's
# KEY (JSONL) to OTHER (JSONL with the same key, or one number a line); prints one line at once
agree() {
	local what=$1 key=$2 a=$3 b=$4 d
	if [ -s "$a" ] && [ -s "$b" ]; then
		d=$("$PY" -c "
import json, sys
import numpy as np
def col(p, k):
    v = []
    for l in open(p):
        l = l.strip()
        v.append(json.loads(l)['winnow'][k] if l.startswith('{') else float(l))
    return np.array(v)
a, b = col(sys.argv[2], sys.argv[1]), col(sys.argv[3], sys.argv[1])
if len(a) != len(b): print('lengths differ: %d vs %d' % (len(a), len(b))); sys.exit()
d = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
z = (a == 0) & (b == 0)
d[z] = 0
print('%.3g (at row %d; %d rows 0 in both)' % (d.max(), int(d.argmax()), int(z.sum())))
" "$key" "$a" "$b" 2>&1 | tail -n 1)
	else d="not measured (a run failed)"; fi
	echo "|   agreement: $what | | | | max rel diff $d |"
	jq -nc --arg what "$what" --arg d "$d" '{agreement: $what, max_rel_diff: $d}' >> "$res"
}

# ref NAME: the earlier run's numpy output NAME from $REF, decompressed into $OUT once
ref() {
	[ -s "$OUT/ref-$1" ] || { if [ -s "$REF/$1.zst" ]; then zstd -qdc "$REF/$1.zst" > "$OUT/ref-$1"; else cp "$REF/$1" "$OUT/ref-$1"; fi; }
	echo "$OUT/ref-$1"
}
if part leverage; then
rm -f "$OUT"/lev*.jsonl "$OUT"/lev-*.txt
[ "$CPU_ROWS" = 1 ] && timed "winnow score leverage" 1 "$WINNOW" score leverage -q --device cpu --threads 2 --stats "$OUT/lev.json" --npy "$vecs" -o "$OUT/lev.jsonl" "$recs"
if [ $gpu = 1 ]; then
	timed "winnow score leverage --device cuda" 0 "$WINNOW" score leverage -q --device cuda --npy "$vecs" -o "$OUT/lev-cuda.jsonl" "$recs"
	[ "$CPU_ROWS" = 1 ] && agree "leverage cuda vs cpu" leverage "$OUT/lev-cuda.jsonl" "$OUT/lev.jsonl"
	[ -n "$REF" ] && agree "leverage cuda vs numpy Cholesky form (earlier run)" leverage "$OUT/lev-cuda.jsonl" "$(ref lev-chol.txt)"
fi
[ "$PEERS" = 1 ] && timed "numpy QR leverage (float64)" 1 "$PY" "$PEER" leverage-qr "$vecs" "$OUT/lev-qr.txt"
[ "$PEERS" = 1 ] && agree "winnow leverage vs numpy QR" leverage "$OUT/lev.jsonl" "$OUT/lev-qr.txt"
[ "$PEERS" = 1 ] && timed "numpy Cholesky-form leverage (float64)" 1 "$PY" "$PEER" leverage-chol "$vecs" "$OUT/lev-chol.txt"
[ "$PEERS" = 1 ] && agree "winnow leverage vs numpy Cholesky form" leverage "$OUT/lev.jsonl" "$OUT/lev-chol.txt"
[ -s "$OUT/lev.json" ] && echo "|   winnow leverage: $(jq -c '{rank, sum}' "$OUT/lev.json" 2>/dev/null) | | | | |"

fi
for p in 1 3; do
	part lewis$p || continue
	rm -f "$OUT/lewis$p"*
	[ "$CPU_ROWS" = 1 ] && timed "winnow score lewis --p $p" 1 "$WINNOW" score lewis -q --device cpu --threads 2 --p $p --tol "$LEWIS_TOL" --max-iter "$LEWIS_MAX_ITER" \
		--stats "$OUT/lewis$p.json" --npy "$vecs" -o "$OUT/lewis$p.jsonl" "$recs"
	[ -s "$OUT/lewis$p.json" ] && echo "|   winnow lewis p=$p: $(jq -c '{iterations: (.iterations // .iters), sum, rank}' "$OUT/lewis$p.json" 2>/dev/null) | | | | |"
	if [ $gpu = 1 ]; then
		timed "winnow score lewis --p $p --device cuda" 0 "$WINNOW" score lewis -q --p $p --device cuda --tol "$LEWIS_TOL" \
			--max-iter "$LEWIS_MAX_ITER" --npy "$vecs" -o "$OUT/lewis$p-cuda.jsonl" "$recs"
		[ "$CPU_ROWS" = 1 ] && agree "lewis p=$p cuda vs cpu" lewis "$OUT/lewis$p-cuda.jsonl" "$OUT/lewis$p.jsonl"
		[ -n "$REF" ] && agree "lewis p=$p cuda vs numpy (earlier run)" lewis "$OUT/lewis$p-cuda.jsonl" "$(ref lewis$p.txt)"
	fi
	[ "$PEERS" = 1 ] || continue
	timed "numpy Lewis p=$p (Cohen-Peng, float64)" 1 "$PY" "$PEER" lewis "$vecs" $p "$OUT/lewis$p.txt" "$LEWIS_TOL" "$LEWIS_MAX_ITER" &&
		echo "|   numpy lewis p=$p: $(jq -c '{iterations, converged, change, sum, zero_rows}' "$OUT/last.out") | | | | |"
	agree "winnow lewis p=$p vs numpy" lewis "$OUT/lewis$p.jsonl" "$OUT/lewis$p.txt"
done

fl_run() { # NAME PINNED SUFFIX [winnow options...]
	local name=$1 pinned=$2 sfx=$3; shift 3
	timed "$name" "$pinned" "$WINNOW" select facility-location -q --budget "$FL_M" --knn "$FL_K" "$@" \
		--stats "$OUT/fl$sfx.json" --npy "$fl_vecs" -o "$OUT/fl$sfx.jsonl" "$fl_recs" &&
		jq -r '.order[]' "$OUT/fl$sfx.json" > "$OUT/fl-winnow$sfx-ids.txt"
}
if part fl; then
rm -f "$OUT"/fl*.json "$OUT"/fl-*.txt
[ "$CPU_ROWS" = 1 ] && fl_run "winnow select facility-location (n=$fl_n)" 1 "" --device cpu --threads 2
[ $gpu = 1 ] && fl_run "winnow select facility-location --device cuda (n=$fl_n)" 0 -cuda --device cuda
[ "$PEERS" = 1 ] && timed "numpy apricot-rule facility location (n=$fl_n)" 1 "$PY" "$PEER" fl "$fl_vecs" "$FL_M" "$FL_K" "$OUT/fl-peer.txt" "$OUT/fl-winnow-ids.txt"
if [ "$PEERS" = 1 ] && [ -s "$OUT/fl.json" ] && [ -s "$OUT/last.out" ]; then
	cp "$OUT/last.out" "$OUT/fl-peer.json"
	echo "|   facility location: $(jq -rn --slurpfile p "$OUT/fl-peer.json" --slurpfile w "$OUT/fl.json" '"objective on the peer graph: winnow \($p[0].winnow_objective_on_peer_graph), numpy apricot rule \($p[0].objective); same set: \($p[0].same_set); gain evaluations winnow \($w[0].evaluations) / peer \($p[0].evaluations); peer graph \($p[0].graph_seconds | . * 100 | round / 100) s, greedy \($p[0].greedy_seconds | . * 100 | round / 100) s"') | | | | |"
	jq -c '{fl_peer: .}' "$OUT/fl-peer.json" >> "$res"
fi
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); JSON lines: $res"
