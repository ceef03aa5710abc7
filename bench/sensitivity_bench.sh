#!/usr/bin/env bash
# bench/sensitivity_bench.sh — `winnow score leverage`, `score lewis --p 1`
# and `select facility-location` against numpy peers (bench/sensitivity_peer.py)
# on hash embeddings of the PyPI corpus (issue 19).
#
#   bench/sensitivity_bench.sh [N|full] [DIM] [FL_N] [FL_M] [FL_K]
#        (default: full 256 100000 1000 10; the issue's figures are full = 784,692 x 256)
#
# Vectors: the first N records of ../shared/corpora/pypi.jsonl.zst embedded by
# `winnow embed --dim DIM` (the hash embedder) into one float32 .npy that all
# tools read. Timed, all in this run on the same matrix:
#  - winnow score leverage (float64, two passes over the spool) and, when
#    `winnow device` finds a GPU, --device cuda (float32 GEMM passes);
#  - numpy: QR leverage (numpy.linalg.qr) and the Cholesky form (A^T A, then
#    A L^-T: the two GEMM passes), with winnow's largest relative difference;
#  - winnow score lewis --p 1 against numpy's Cohen-Peng iteration;
#  - facility location on the first FL_N rows, budget FL_M, K neighbours:
#    winnow's lazy greedy against the numpy peer's apricot rule (brute-force
#    cosine kNN graph, heapq lazy greedy); both objectives are computed on
#    the peer's graph.
# Per command: wall seconds, user+system CPU seconds and max RSS (GNU time).
# Environment: WINNOW (default ./winnow), WINNOW_SHARED (default ../shared),
# OUT (default /tmp/winnow-sensitivity-bench), PY (default /usr/bin/python3,
# which must have numpy). Results: a Markdown table on stdout and
# $OUT/results-N-DIM.json. Run it on a quiet machine: the lead measures.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-full}
DIM=${2:-256}
FL_N=${3:-100000}
FL_M=${4:-1000}
FL_K=${5:-10}
WINNOW=${WINNOW:-$PWD/winnow}
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
OUT=${OUT:-/tmp/winnow-sensitivity-bench}
PY=${PY:-/usr/bin/python3}
PEER=$PWD/bench/sensitivity_peer.py
CORPUS=$SHARED/corpora/pypi.jsonl.zst
"$PY" -c 'import numpy' || { echo "sensitivity_bench: $PY has no numpy" >&2; exit 1; }
mkdir -p "$OUT"

recs=$OUT/pypi-$N.jsonl
vecs=$OUT/pypi-$N-$DIM.npy
if [ ! -s "$recs" ]; then
	if [ "$N" = full ]; then zstdcat "$CORPUS" > "$recs"; else zstdcat "$CORPUS" | head -n "$N" > "$recs" || true; fi
fi
[ -s "$vecs" ] || "$WINNOW" embed -q --dim "$DIM" --npy "$vecs" --no-annotate -o /dev/null "$recs"
n=$(wc -l < "$recs")
fl_n=$(( FL_N < n ? FL_N : n ))
head -n "$fl_n" "$recs" > "$OUT/fl-$fl_n.jsonl"
"$PY" -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:int(sys.argv[3])])" \
	"$vecs" "$OUT/fl-$fl_n.npy" "$fl_n"
echo "vectors: $n x $DIM (winnow embed --dim $DIM); facility location on $fl_n, budget $FL_M, knn $FL_K" >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# timed NAME CMD...: run CMD under GNU time; one JSON line {name, wall, cpu, rss_kb}
timed() {
	local name=$1 tf=$OUT/time.txt
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$tf" "$@" > /dev/null
	read -r wall user sys rss < "$tf"
	jq -nc --arg name "$name" --argjson wall "$wall" --argjson cpu "$(echo "$user + $sys" | bc -l)" \
		--argjson rss "$rss" '{name: $name, wall: $wall, cpu: $cpu, rss_kb: $rss}'
}
# worst A B: the largest relative difference between winnow's KEY in A (JSONL) and the peer's B
worst() {
	"$PY" -c "
import json, sys
a = [json.loads(l)['winnow'][sys.argv[1]] for l in open(sys.argv[2])]
b = [float(x) for x in open(sys.argv[3])]
assert len(a) == len(b)
print(max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b)))
" "$@"
}

rows=()
rows+=("$(timed "winnow score leverage" "$WINNOW" score leverage -q --npy "$vecs" -o "$OUT/lev.jsonl" "$recs")")
if "$WINNOW" device 2>/dev/null | grep -q "^backend: cuda"; then
	rows+=("$(timed "winnow score leverage --device cuda" "$WINNOW" score leverage -q --device cuda --npy "$vecs" -o "$OUT/lev-cuda.jsonl" "$recs")")
fi
rows+=("$(timed "numpy QR leverage" "$PY" "$PEER" leverage-qr "$vecs" "$OUT/lev-qr.txt")")
rows+=("$(timed "numpy Cholesky leverage" "$PY" "$PEER" leverage-chol "$vecs" "$OUT/lev-chol.txt")")
rows+=("$(timed "winnow score lewis --p 1" "$WINNOW" score lewis -q --p 1 --stats "$OUT/lewis.json" --npy "$vecs" -o "$OUT/lewis.jsonl" "$recs")")
rows+=("$(timed "numpy Lewis p=1" "$PY" "$PEER" lewis "$vecs" 1 "$OUT/lewis.txt")")
rows+=("$(timed "winnow select facility-location" "$WINNOW" select facility-location -q --budget "$FL_M" --knn "$FL_K" --stats "$OUT/fl.json" --npy "$OUT/fl-$fl_n.npy" -o "$OUT/fl.jsonl" "$OUT/fl-$fl_n.jsonl")")
jq -r '.order[]' "$OUT/fl.json" > "$OUT/fl-winnow-ids.txt"
peer_fl=$("$PY" "$PEER" fl "$OUT/fl-$fl_n.npy" "$FL_M" "$FL_K" "$OUT/fl-peer.txt" "$OUT/fl-winnow-ids.txt")
rows+=("$(timed "numpy apricot-rule facility location" "$PY" "$PEER" fl "$OUT/fl-$fl_n.npy" "$FL_M" "$FL_K" "$OUT/fl-peer.txt")")

checks=$(jq -nc --argjson qr "$(worst leverage "$OUT/lev.jsonl" "$OUT/lev-qr.txt")" \
	--argjson chol "$(worst leverage "$OUT/lev.jsonl" "$OUT/lev-chol.txt")" \
	--argjson lewis "$(worst lewis "$OUT/lewis.jsonl" "$OUT/lewis.txt")" \
	--argjson fl "$peer_fl" --slurpfile wfl "$OUT/fl.json" \
	'{leverage_vs_qr: $qr, leverage_vs_cholesky: $chol, lewis_vs_numpy: $lewis,
	  fl_objective_winnow_on_peer_graph: $fl.winnow_objective_on_peer_graph,
	  fl_objective_peer: $fl.objective, fl_same_set: $fl.same_set,
	  fl_evaluations_winnow: $wfl[0].evaluations, fl_evaluations_peer: $fl.evaluations}')
printf '%s\n' "${rows[@]}" | jq -s --argjson n "$n" --argjson dim "$DIM" --argjson checks "$checks" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '{n: $n, dim: $dim, load_after: $load, runs: ., checks: $checks}' \
	> "$OUT/results-$N-$DIM.json"

jq -r '
	def r(x): (x * 100 | round) / 100;
	"| n=\(.n) d=\(.dim) | wall s | CPU s | max RSS MB |",
	"| --- | --- | --- | --- |",
	(.runs[] | "| \(.name) | \(r(.wall)) | \(r(.cpu)) | \(r(.rss_kb / 1024)) |"),
	"",
	"largest relative difference: leverage vs numpy QR \(.checks.leverage_vs_qr), vs Cholesky \(.checks.leverage_vs_cholesky); Lewis p=1 vs numpy \(.checks.lewis_vs_numpy)",
	"facility location objective on the peer graph: winnow \(.checks.fl_objective_winnow_on_peer_graph), numpy apricot rule \(.checks.fl_objective_peer), same set: \(.checks.fl_same_set); gain evaluations \(.checks.fl_evaluations_winnow) / \(.checks.fl_evaluations_peer)"' \
	"$OUT/results-$N-$DIM.json"
