#!/usr/bin/env bash
# bench/selectors_bench.sh — every selector of issue 20 on PyPI records with K
# spherical k-means clusters: time and peak memory on 2 cores, GPU rows where
# the step has a CUDA path, and the numpy reference formulas where a peer
# exists (bench/select_cluster_peer.py: SSL prototypes and DBP).
#
#   bench/selectors_bench.sh [N|full] [K] [DIM]   (default: full 1000 256; full = 784,692)
#
# Prepared ONCE and cached in $SEL_WORK (reused by later runs with the same
# N, K, DIM; delete the folder to redo): the first N records of
# ../shared/corpora/pypi.jsonl.zst, `winnow embed --dim DIM` (hash model),
# `winnow cluster kmeans -k K --spherical --seed 1` (winnow.cluster and
# winnow.dist, the cosine distance, used as the quality score; on a GPU
# machine the clustering runs with --device cuda), the centroids, the vectors
# as .npy for the peer, and an RDS target (the last 1000 records, embedded alike).
# Then each method once, budget M = N/10 (single runs: at 784k the whole
# script must fit in about 10 minutes on 2 cores):
#   kmq --mode paper | code   --quality winnow.dist
#   mig                       --labels month (a few hundred labels) --quality winnow.dist
#   rds (per query), rds --per-task month
#   batches tas               --query text --margin winnow.dist --batch 32
#   prototypes --keep-frac F  (F = 0.1), --per-cluster
#   dbp --keep-frac F         + the numpy peer on the same vectors and ids
#   cluster hkmeans --levels $HK_LEVELS --resamples $HK_R (--max-train $HK_TRAIN),
#                  then select --balanced --cap M over winnow.hcluster
#   select --balanced-clusters winnow.cluster --sample M
# CPU rows: --threads 2, pinned by taskset to $PIN_CPUS where the machine has
# more than 2 cores; GPU rows (when `winnow device` finds CUDA): mig and rds
# with --device cuda, with whether the selection equals the CPU's.
# Each row is printed as soon as it is measured; each run is bounded by
# `timeout $RUN_LIMIT` (a failure prints its exit code and the script goes on).
# Environment: WINNOW (default ./build/winnow), WINNOW_SHARED (../shared),
# SEL_WORK (cache and outputs, default /tmp/winnow-selectors-bench), PY
# (/usr/bin/python3 if it has numpy, else python3), DEVICE (auto; cpu: no
# GPU rows), HK_LEVELS (K,100,10), HK_R (3), HK_TRAIN (100000: level 1's
# first k-means trained on 100,000 vectors), RUN_LIMIT (600), PIN_CPUS (0,1).
# JSON lines in $SEL_WORK/results-N-K-DIM.jsonl.
# hkmeans' cost, in multiply-adds at k = 1000, d = 256, 50 iterations: k-means++
# on m points m k (2 + ln k) d in float64 (one blocked dgemm pass over the
# vectors per centre, memory-bound on reading them), Lloyd 50 m k d in float32
# (FAISS). HK_TRAIN bounds m for level 1's first k-means only: each of the
# HK_R resamples trains on the union of up to S = n / 2k points of each
# cluster, up to n/2 (about 0.44 n at 20,000) whatever HK_TRAIN is, so at
# full size the resamples dominate. Estimated from those counts and the
# 20,000-vector figures (not timed at full size): about 7 min on 2 cores at
# HK_TRAIN 20000 to 100000; HK_TRAIN=784692 (all) adds about 5 min and
# passes RUN_LIMIT. (With the scalar seeding before, each resample's seeding
# alone was about 9 min.)
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-full}
K=${2:-1000}
DIM=${3:-256}
WINNOW=${WINNOW:-$PWD/build/winnow}
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
WORK=${SEL_WORK:-/tmp/winnow-selectors-bench}
if [ -z "${PY:-}" ]; then
	PY=python3; /usr/bin/python3 -c 'import numpy' 2>/dev/null && PY=/usr/bin/python3
fi
DEVICE=${DEVICE:-auto}
HK_LEVELS=${HK_LEVELS:-$K,100,10}
HK_R=${HK_R:-3}
HK_TRAIN=${HK_TRAIN:-100000}
RUN_LIMIT=${RUN_LIMIT:-600}
ONLY=${ONLY:-all}
part() { [ "$ONLY" = all ] && return 0; case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
PIN_CPUS=${PIN_CPUS:-0,1}
mkdir -p "$WORK"
for t in jq bc zstd /usr/bin/time timeout; do command -v "$t" > /dev/null || { echo "selectors_bench: $t is missing" >&2; exit 1; }; done
cores=$(nproc)  # before the export: GNU nproc obeys OMP_NUM_THREADS
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
pin=()
[ "$cores" -gt 2 ] && command -v taskset > /dev/null && pin=(taskset -c "$PIN_CPUS")
gpu=0
if [ "$DEVICE" != cpu ] && "$WINNOW" device 2>/dev/null | grep -q "^backend: cuda"; then gpu=1; fi
cdev=cpu; [ $gpu = 1 ] && cdev=cuda

# the cache
recs=$WORK/pypi-$N.jsonl
emb=$WORK/pypi-$N-$DIM.emb.jsonl
vecs=$WORK/pypi-$N-$DIM.npy
cl=$WORK/pypi-$N-$K-$DIM.cl.jsonl
cent=$WORK/pypi-$N-$K-$DIM.centroids.npy
ids=$WORK/pypi-$N-$K-$DIM.ids.txt
tgt=$WORK/pypi-$N-$DIM-target.jsonl
prep() { # WHAT FILE CMD...: make FILE by CMD unless cached; says how long it took
	local what=$1 f=$2 t0; shift 2
	[ -s "$f" ] && return 0
	t0=$(date +%s.%N)
	"$@" || { rm -f "$f"; echo "selectors_bench: preparing $what failed" >&2; exit 1; }
	echo "prepared $what in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }") s (cached in $WORK)"
}
prep records "$recs" bash -c "zstd -dc '$SHARED/corpora/pypi.jsonl.zst' | { if [ '$N' = full ]; then cat; else head -n '$N'; fi; } > '$recs'"
prep "embeddings (dim $DIM)" "$emb" "${pin[@]}" "$WINNOW" embed -q --threads 2 --dim "$DIM" --npy "$vecs" -o "$emb" "$recs"
prep "k-means (k $K, spherical, --device $cdev)" "$cl" "$WINNOW" cluster kmeans -q -k "$K" --spherical --seed 1 --device "$cdev" \
	--centroids-out "$cent" -o "$cl" "$emb"
prep "cluster ids" "$ids" bash -c "jq -r .winnow.cluster '$cl' > '$ids'"
prep "RDS target (last 1000 records)" "$tgt" bash -c "tail -n 1000 '$recs' | '$WINNOW' embed -q --dim '$DIM' > '$tgt'"
n=$(wc -l < "$recs")
M=$(( n / 10 > 0 ? n / 10 : 1 ))
F=0.1
res=$WORK/results-$N-$K-$DIM.jsonl
: > "$res"
echo "selectors on $n PyPI records, k = $K spherical clusters of dim-$DIM hash embeddings, budget $M (keep-frac $F)"
echo "machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg), CPU rows: 2 threads${pin:+, taskset -c $PIN_CPUS}; GPU rows: $([ $gpu = 1 ] && echo yes || echo none), $(date -u +%FT%TZ)"
echo
echo "| step | wall s | CPU s | peak MiB | out | note |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"

# timed NAME PINNED OUTFILE CMD...: one run under GNU time and timeout, stdout to
# OUTFILE; the row at once (out = records written), the JSON line to $res
timed() {
	local name=$1 pinned=$2 of=$3 tf=$WORK/time.txt rc note="" wall user sys rss
	shift 3
	local pre=(); [ "$pinned" = 1 ] && pre=("${pin[@]}")
	/usr/bin/time -f "%e %U %S %M" -o "$tf" timeout "$RUN_LIMIT" "${pre[@]}" "$@" > "$of" 2> "$WORK/last.err"
	rc=$?
	read -r wall user sys rss < <(tail -n 1 "$tf")
	[ $rc != 0 ] && note="FAILED rc $rc$([ $rc = 124 ] && echo ": over $RUN_LIMIT s"): $(grep -v "^Command\|^Try" "$WORK/last.err" | tail -n 1)"
	local cpu; cpu=$(echo "$user + $sys" | bc -l)
	printf '| %s | %s | %s | %.0f | %s | %s |\n' "$name" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)" "$(wc -l < "$of")" "$note"
	jq -nc --arg name "$name" --argjson wall "$wall" --argjson cpu "$cpu" --argjson rss "$rss" --argjson rc "$rc" \
		--argjson out "$(wc -l < "$of")" '{name: $name, wall: $wall, cpu: $cpu, rss_kb: $rss, rc: $rc, out: $out}' >> "$res"
	return $rc
}
note() { echo "|   $* | | | | | |"; jq -nc --arg note "$*" '{note: $note}' >> "$res"; }
same() { # A B WHAT: whether two outputs hold the same records (winnow annotations aside)
	[ -s "$1" ] && [ -s "$2" ] || { note "$3: not compared (a run failed)"; return; }
	note "$3: $("$PY" -c "import json, sys
key = lambda p: {json.dumps({k: v for k, v in json.loads(l).items() if k != 'winnow'}, sort_keys=True) for l in open(p)}
a, b = key(sys.argv[1]), key(sys.argv[2]); print(len(a & b), 'of', len(a), 'selected records in common')" "$1" "$2")"
}
o=$WORK/out; mkdir -p "$o"
T=(--threads 2)
part kmq && timed "select kmq --mode paper" 1 "$o/kmq-paper.jsonl" "$WINNOW" select kmq -q "${T[@]}" --budget "$M" --quality winnow.dist "$cl"
part kmq && timed "select kmq --mode code" 1 "$o/kmq-code.jsonl" "$WINNOW" select kmq -q "${T[@]}" --budget "$M" --quality winnow.dist --mode code "$cl"
part mig && timed "select mig --labels month" 1 "$o/mig.jsonl" "$WINNOW" select mig -q "${T[@]}" --device cpu --budget "$M" --labels month --quality winnow.dist "$cl"
if part mig && [ $gpu = 1 ]; then
	timed "select mig --device cuda" 0 "$o/mig-cuda.jsonl" "$WINNOW" select mig -q --device cuda --budget "$M" --labels month --quality winnow.dist "$cl"
	same "$o/mig.jsonl" "$o/mig-cuda.jsonl" "mig cuda vs cpu"
fi
part rds && timed "select rds (per query, 1000 queries)" 1 "$o/rds.jsonl" "$WINNOW" select rds -q "${T[@]}" --device cpu --target "$tgt" --budget "$M" "$cl"
part rds && timed "select rds --per-task month" 1 "$o/rds-task.jsonl" "$WINNOW" select rds -q "${T[@]}" --device cpu --target "$tgt" --budget "$M" --per-task month "$cl"
if part rds && [ $gpu = 1 ]; then
	timed "select rds --device cuda" 0 "$o/rds-cuda.jsonl" "$WINNOW" select rds -q --device cuda --target "$tgt" --budget "$M" "$cl"
	same "$o/rds.jsonl" "$o/rds-cuda.jsonl" "rds cuda vs cpu"
	timed "select rds --per-task month --device cuda" 0 "$o/rds-task-cuda.jsonl" "$WINNOW" select rds -q --device cuda --target "$tgt" --budget "$M" --per-task month "$cl"
	same "$o/rds-task.jsonl" "$o/rds-task-cuda.jsonl" "rds --per-task cuda vs cpu"
fi
part tas && timed "batches tas --batch 32" 1 "$o/tas.jsonl" "$WINNOW" batches tas -q "${T[@]}" --query text --margin winnow.dist --batch 32 "$cl"
part proto && timed "select prototypes --keep-frac $F" 1 "$o/proto.jsonl" "$WINNOW" select prototypes -q --on-error skip --keep-frac "$F" --centroids "$cent" "$cl"
part proto && timed "select prototypes --per-cluster" 1 "$o/proto-pc.jsonl" "$WINNOW" select prototypes -q --on-error skip --keep-frac "$F" --per-cluster --centroids "$cent" "$cl"
part proto && timed "select dbp --keep-frac $F" 1 "$o/dbp.jsonl" "$WINNOW" select dbp -q --on-error skip --keep-frac "$F" --stats "$o/dbp.json" "$cl"
if part proto && timed "numpy peer: prototypes + dbp formulas" 1 "$o/peer.json" "$PY" bench/select_cluster_peer.py "$vecs" "$ids" "$F" && [ -s "$o/dbp.json" ]; then
	note "$(jq -rn --slurpfile w "$o/dbp.json" --slurpfile p "$o/peer.json" \
		'[$w[0].clusters[].quota] as $a | $p[0].quotas as $b |
		 "dbp quotas differing from the peer: \([range($a | length) | select($a[.] != $b[.])] | length) of \($a | length); winnow sum \($a | add), peer sum \($p[0].quota_sum) for M \($p[0].M) (the reference np.rint may miss M); peer prototypes alone \($p[0].prototypes_seconds * 1000 | round) ms"')"
fi
part hk && timed "cluster hkmeans --levels $HK_LEVELS --resamples $HK_R --max-train $HK_TRAIN" 1 "$o/hk.jsonl" \
	"$WINNOW" cluster hkmeans -q "${T[@]}" --device cpu --spherical --seed 1 --levels "$HK_LEVELS" --resamples "$HK_R" \
	--max-train "$HK_TRAIN" --stats "$o/hk.json" "$emb" &&
	note "hkmeans top level: $(jq -rc '.levels[-1].sizes | sort | "largest \(.[-1]) of \(add), smallest \(.[0])"' "$o/hk.json" 2>/dev/null)"
part hk && [ -s "$o/hk.jsonl" ] && timed "select --balanced --cap $M (over winnow.hcluster)" 1 "$o/bal.jsonl" "$WINNOW" select -q --balanced --cap "$M" --seed 1 "$o/hk.jsonl"
part balc && timed "select --balanced-clusters winnow.cluster --sample $M" 1 "$o/balc.jsonl" "$WINNOW" select -q --balanced-clusters winnow.cluster --sample "$M" --seed 1 "$cl"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); JSON lines: $res"
