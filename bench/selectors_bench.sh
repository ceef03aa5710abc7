#!/usr/bin/env bash
# bench/selectors_bench.sh — the selectors of issue 20 on PyPI-sized input:
# `select kmq` (both modes), `select mig`, `select rds` (per query and per
# task) and `batches tas`, each timed (wall seconds, best of $BENCH_REPS)
# with its peak memory (max RSS of one run, /usr/bin/time).
#
#   bench/selectors_bench.sh [N|full] [K] [DIM] [DEVICE]   (default: full 1000 256 cpu)
#
# Input: the first N records of ../shared/corpora/pypi.jsonl.zst (full: all
# 784k) embedded by `winnow embed --dim DIM` (the hash model) and clustered
# by `winnow cluster kmeans -k K` (25 iterations, seed 1): winnow.cluster
# and winnow.dist, used as the quality score. Budgets are N/10.
#   kmq:  --budget N/10 --quality winnow.dist, --mode paper and --mode code
#   mig:  --labels month (the release month: a few hundred labels)
#   rds:  --target the last 1000 records of the corpus slice (embedded alike),
#         per query, and --per-task month
#   tas:  --query text (the clusters are of the texts) --margin winnow.dist --batch 32
# DEVICE goes to --device for rds (its similarities are GEMMs on the core).
# There is no numpy peer here: numpy is not on this machine and the plain-
# Python peers of tests/peers/ are too slow for 784k records; the lead runs
# the numpy formulas on the GPU machine (see bench/RESULTS.md).
# Environment: WINNOW (default ./winnow), WINNOW_SHARED, OUT (work folder,
# default /tmp/winnow-selectors-bench), BENCH_REPS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-full}
K=${2:-1000}
DIM=${3:-256}
DEV=${4:-cpu}
WINNOW=${WINNOW:-$PWD/winnow}
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
OUT=${OUT:-/tmp/winnow-selectors-bench}
mkdir -p "$OUT"

recs=$OUT/pypi-$N.jsonl
if [ ! -s "$recs" ]; then
	if [ "$N" = full ]; then zstdcat "$SHARED/corpora/pypi.jsonl.zst" > "$recs"
	else zstdcat "$SHARED/corpora/pypi.jsonl.zst" | head -n "$N" > "$recs" || true; fi
fi
n=$(wc -l < "$recs")
budget=$(( n / 10 > 0 ? n / 10 : 1 ))
cl=$OUT/pypi-$N-$K-$DIM.jsonl
tgt=$OUT/pypi-$N-$DIM-target.jsonl
if [ ! -s "$cl" ]; then
	"$WINNOW" embed -q --dim "$DIM" "$recs" | "$WINNOW" cluster kmeans -q -k "$K" --seed 1 > "$cl"
fi
if [ ! -s "$tgt" ]; then
	tail -n 1000 "$recs" | "$WINNOW" embed -q --dim "$DIM" > "$tgt"
fi

# run NAME CMD...: one line "NAME  seconds  peak MiB"
run() {
	local name=$1; shift
	local t rss
	t=$(secs "$@")
	rss=$( { /usr/bin/time -f '%M' "$@" > /dev/null 2> "$OUT/err"; } 2>&1; tail -1 "$OUT/err")
	printf '| %-28s | %9s | %8.0f |\n' "$name" "$t" "$(echo "$rss / 1024" | bc -l)"
}

echo "selectors on $n PyPI records, k = $K, dim $DIM, budget $budget, $(nproc) cores, $(date -u +%F)"
echo "| step                         | seconds   | peak MiB |"
echo "| ---                          | ---:      | ---:     |"
run "select kmq --mode paper" "$WINNOW" select kmq -q --budget "$budget" --quality winnow.dist "$cl"
run "select kmq --mode code" "$WINNOW" select kmq -q --budget "$budget" --quality winnow.dist --mode code "$cl"
run "select mig --labels month" "$WINNOW" select mig -q --budget "$budget" --labels month --quality winnow.dist "$cl"
run "select rds (per query)" "$WINNOW" select rds -q --target "$tgt" --budget "$budget" --device "$DEV" "$cl"
run "select rds --per-task month" "$WINNOW" select rds -q --target "$tgt" --budget "$budget" --per-task month --device "$DEV" "$cl"
run "batches tas --batch 32" "$WINNOW" batches tas -q --query text --margin winnow.dist "$cl"
