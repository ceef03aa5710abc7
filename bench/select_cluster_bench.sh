#!/usr/bin/env bash
# bench/select_cluster_bench.sh — `winnow select prototypes` and `select dbp`
# (issue 20) on N PyPI records with K spherical clusters, against the
# reference formulas in numpy (bench/select_cluster_peer.py) on the same
# vectors and ids in the same run.
#
#   bench/select_cluster_bench.sh [N|full] [K] [DIM] [KEEP_FRAC]   (default: 100000 1000 256 0.3)
#
# Reported: wall seconds and peak RSS (MiB) of each winnow step (GNU time),
# the peer's seconds, and whether DBP's quotas agree (winnow rounds half to
# even and then moves to the exact total; the peer's np.rint may miss M).
# Environment: WINNOW (default ./build/winnow), WINNOW_SHARED (../shared),
# OUT (default /tmp/winnow-select-cluster-bench), PY (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}; K=${2:-1000}; DIM=${3:-256}; F=${4:-0.3}
WINNOW=${WINNOW:-$PWD/build/winnow}
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
OUT=${OUT:-/tmp/winnow-select-cluster-bench}
PY=${PY:-python3}
mkdir -p "$OUT"
recs=$OUT/pypi-$N.jsonl
if [ ! -s "$recs" ]; then
	if [ "$N" = full ]; then zstdcat "$SHARED/corpora/pypi.jsonl.zst" > "$recs"
	else zstdcat "$SHARED/corpora/pypi.jsonl.zst" | head -n "$N" > "$recs" || true; fi
fi
"$WINNOW" embed -q --dim "$DIM" --npy "$OUT/v.npy" "$recs" |
	"$WINNOW" cluster kmeans -q -k "$K" --spherical --seed 1 > "$OUT/km.jsonl"
jq -r .winnow.cluster "$OUT/km.jsonl" > "$OUT/ids.txt"
run() { # name args...
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$WINNOW" "$@" > "$OUT/$name.jsonl"
	read -r s kb < "$OUT/$name.time"
	printf '| winnow %s | %s | %d |\n' "$name" "$s" $((kb / 1024))
}
echo "| what | seconds | peak MiB |"
echo "| --- | --- | --- |"
run prototypes select prototypes -q --keep-frac "$F" "$OUT/km.jsonl"
run dbp select dbp -q --keep-frac "$F" --stats "$OUT/dbp.json" "$OUT/km.jsonl"
if "$PY" "bench/select_cluster_peer.py" "$OUT/v.npy" "$OUT/ids.txt" "$F" > "$OUT/peer.json"; then
	printf '| numpy peer (prototypes + dbp) | %s | - |\n' "$(jq .seconds "$OUT/peer.json")"
	same=$(jq -n --slurpfile w "$OUT/dbp.json" --slurpfile p "$OUT/peer.json" \
		'[$w[0].clusters[].quota] as $a | $p[0].quotas as $b | [range($a | length) | select($a[.] != $b[.])] | length')
	echo "quotas differing from the peer's: $same of $(jq '.clusters | length' "$OUT/dbp.json"); peer sum $(jq .quota_sum "$OUT/peer.json") for M $(jq .M "$OUT/peer.json")"
else
	echo "numpy peer failed (is numpy installed for $PY?)"
fi
