#!/usr/bin/env bash
# bench/dedup_bench.sh — `winnow dedup exact`, `dedup minhash` (default
# memory, and --memory 64M: sets and band hashes spilled, the flat-memory
# mode) and `dedup semantic` on the first N records of the PyPI corpus:
# wall seconds, records/s, MB/s of input, CPU seconds (user + sys) and peak
# RSS (/usr/bin/time -v), one Markdown row per command and size, so RSS at
# two sizes shows whether memory stays flat (the "piped in, -o" row is the
# step's own: with a file argument RSS also counts the mapped input's pages
# and stdout's spool, up to 64 MiB); with RECALL=1 (default for
# N <= 100000) also MinHash's pair recall and precision at Jaccard >= 0.8
# against an exact all-pairs baseline (prefix filtering in python3, stdlib;
# the same rule as tests/cli/t5310).
#
#   bench/dedup_bench.sh [N ...]          (default: 100000 full; full = 784,692)
#
# Inputs are decompressed first (so MB/s is winnow's own). SemDeDup runs on
# `winnow embed` (hash embedder, --dim 256) + `cluster kmeans --spherical
# -k N/100`, made beforehand and not timed; only `dedup semantic --eps
# 0.05,0.07,0.1` is. Environment: WINNOW (default ./build/winnow),
# WINNOW_SHARED (default ../shared), OUT (work folder, default
# /tmp/winnow-dedup-bench), THREADS (default 2), DEVICE (semantic's
# --device, default cpu; cuda on the GPU machine), SEMANTIC=0 to skip it.
# Only the lead measures; run it here on a small N to check it works.
set -euo pipefail
cd "$(dirname "$0")/.."
WINNOW=${WINNOW:-$PWD/build/winnow}
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
OUT=${OUT:-${TMPDIR:-/tmp}/winnow-dedup-bench}
THREADS=${THREADS:-2}
DEVICE=${DEVICE:-cpu}
SEMANTIC=${SEMANTIC:-1}
[ $# -gt 0 ] || set -- 100000 full
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "dedup_bench: /usr/bin/time (GNU time) is needed for peak RSS" >&2; exit 2; }

# measure NAME N BYTES CMD...: one row
measure() {
	local name=$1 n=$2 bytes=$3 t=$OUT/time.txt t0 t1
	shift 3
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$t" "$@" > "$OUT/out.jsonl" 2> "$OUT/err.txt" ||
		{ echo "dedup_bench: FAILED: $*" >&2; tail -3 "$OUT/err.txt" >&2; return 1; }
	t1=$(date +%s.%N)
	awk -v name="$name" -v n="$n" -v bytes="$bytes" -v outn="$(wc -l < "$OUT/out.jsonl")" \
	    -v w="$(echo "$t1 - $t0" | bc -l)" -F': ' '
		/User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident set size/ { rss = $2 }
		END { if (w <= 0) w = 0.001
		      printf "| %s | %d | %d | %.2f | %.0f | %.1f | %.2f | %.1f |\n", name, n, outn, w, n / w,
		             bytes / 1e6 / w, u + s, rss / 1024 }' "$t"
}

slice() { # N -> $OUT/pypi-N.jsonl
	local n=$1 f=$OUT/pypi-$1.jsonl
	if [ ! -s "$f" ]; then
		if [ "$n" = full ]; then zstd -dc "$SHARED/corpora/pypi.jsonl.zst" > "$f"
		else zstd -dc "$SHARED/corpora/pypi.jsonl.zst" | head -n "$n" > "$f" || true; fi
	fi
	echo "$f"
}

recall() { # INPUT PAIRS: pair recall and precision at J >= 0.8 against the exact baseline
	python3 - "$1" "$2" "$PWD/tests/peers" <<'EOF'
import sys
sys.path.insert(0, sys.argv[3])
from jaccard_pairs import load, true_pairs
inp, pairs, thr = sys.argv[1], sys.argv[2], 0.8
truth = true_pairs(load(inp, strict=False), thr)
got = set()
for l in open(pairs):
    a, b, j, v = l.split("\t")
    if v.strip() == "1": got.add((int(a), int(b)))
tp = len(got & truth)
print("minhash at J >= %g: %d true pairs, %d verified: recall %.4f, precision %.4f"
      % (thr, len(truth), len(got), tp / max(1, len(truth)), tp / max(1, len(got))))
EOF
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%F), threads $THREADS"
echo
echo "| command | records in | out | wall s | records/s | MB/s | CPU s | peak RSS MiB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
notes=()
for N in "$@"; do
	f=$(slice "$N")
	n=$(wc -l < "$f")
	bytes=$(stat -c %s "$f")
	measure "dedup exact" "$n" "$bytes" "$WINNOW" dedup exact -q "$f"
	measure "dedup minhash" "$n" "$bytes" "$WINNOW" dedup minhash -q --threads "$THREADS" \
		--pairs "$OUT/pairs-$N.tsv" "$f"
	measure "dedup minhash --memory 64M" "$n" "$bytes" "$WINNOW" dedup minhash -q \
		--threads "$THREADS" --memory 64M "$f"
	# the step's own memory: a plain input file is mapped (its pages count in RSS) and
	# stdout is an all-or-nothing spool of up to 64 MiB; a pipe in and -o out leave neither
	measure "dedup minhash --memory 64M (piped in, -o)" "$n" "$bytes" bash -c \
		'cat "$1" | "$2" dedup minhash -q --threads "$3" --memory 64M -o "$4"' _ \
		"$f" "$WINNOW" "$THREADS" "$OUT/out.jsonl"
	if [ "$SEMANTIC" = 1 ]; then
		k=$(( n / 100 > 1 ? n / 100 : 2 ))
		c=$OUT/clustered-$N.jsonl
		[ -s "$c" ] || "$WINNOW" embed -q --dim 256 --threads "$THREADS" "$f" |
			"$WINNOW" cluster kmeans -q --spherical -k "$k" --seed 1 --threads "$THREADS" > "$c"
		measure "dedup semantic ($DEVICE, k $k)" "$n" "$(stat -c %s "$c")" "$WINNOW" dedup semantic -q \
			--eps 0.05,0.07,0.1 --device "$DEVICE" --threads "$THREADS" "$c"
	fi
	if [ "${RECALL:-$([ "$n" -le 100000 ] && echo 1 || echo 0)}" = 1 ]; then
		notes+=("N $n: $(recall "$f" "$OUT/pairs-$N.tsv")")
	fi
done
echo
for l in "${notes[@]+"${notes[@]}"}"; do echo "$l"; done
