#!/usr/bin/env bash
# bench/zipfit_modes_bench.sh — ZIP-FIT's fast modes against exact gzip-9: for each
# compressor/level, the rank agreement with exact scores (Spearman, top-10%
# overlap: bench/zipfit_fidelity.py) and the single-thread CPU seconds, on
# 3,000-text slices of Debian and PyPI against two targets: the shared ZIP-FIT
# target (25 paper abstracts) and 50 Debian `python` section descriptions.
# Also checks that winnow's exact scores equal the one-process Python formula
# (bench/zipfit_formula.py) number for number.
# usage: bench/zipfit_modes_bench.sh [N]   (N pool texts per corpus, default 3000)
set -u
cd "$(dirname "$0")/.." || exit 2
W=${WINNOW:-$PWD/build/winnow}; S=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
PY=/usr/bin/python3; N=${1:-3000}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
zcat "$S/corpora/debian.jsonl.gz" | awk 'NR % 20 == 1' | head -n "$N" > "$d/debian.jsonl"
zstdcat "$S/corpora/pypi.jsonl.zst" | awk 'NR % 200 == 1' | head -n "$N" > "$d/pypi.jsonl"
cp "$S/vectors/zipfit/target.jsonl" "$d/abstracts.jsonl"
zcat "$S/corpora/debian.jsonl.gz" | awk 'NR % 20 == 7' | jq -c 'select(.section == "python")' | head -50 > "$d/python.jsonl"
cpu() { /usr/bin/time -f %U "$@" 2>&1 >/dev/null | tail -1; }
echo "| pool | target | mode | CPU s (1 thread) | Spearman vs gzip-9 | top-10% overlap |"
echo "| --- | --- | --- | --- | --- | --- |"
for pool in debian pypi; do
	for tgt in abstracts python; do
		"$W" score zipfit -q --threads 1 --target "$d/$tgt.jsonl" "$d/$pool.jsonl" | jq -r .winnow.zipfit > "$d/exact"
		t=$(cpu "$W" score zipfit -q --threads 1 --target "$d/$tgt.jsonl" "$d/$pool.jsonl")
		echo "| $pool | $tgt | gzip 9 (exact) | $t | 1 | 1 |"
		for m in "gzip 6" "gzip 1" "zstd 1" "zstd 3" "zstd 19" "lz4 0" "lz4 9"; do
			set -- $m
			"$W" score zipfit -q --threads 1 --target "$d/$tgt.jsonl" --compressor "$1" --level "$2" "$d/$pool.jsonl" | jq -r .winnow.zipfit > "$d/fast"
			t=$(cpu "$W" score zipfit -q --threads 1 --target "$d/$tgt.jsonl" --compressor "$1" --level "$2" "$d/$pool.jsonl")
			f=$($PY bench/zipfit_fidelity.py "$d/exact" "$d/fast")
			echo "| $pool | $tgt | $1 $2 | $t | $(echo "$f" | awk '{print $2}') | $(echo "$f" | awk '{print $4}') |"
		done
	done
done
# exactness against the one-process formula on a small slice
head -300 "$d/debian.jsonl" > "$d/small.jsonl"
"$W" score zipfit -q --threads 1 --target "$d/abstracts.jsonl" "$d/small.jsonl" | jq -r .winnow.zipfit > "$d/w"
$PY bench/zipfit_formula.py "$d/small.jsonl" "$d/abstracts.jsonl" > "$d/p"
$PY -c "import sys; a=[float(x) for x in open(sys.argv[1])]; b=[float(x) for x in open(sys.argv[2])]; print('exact vs formula: max |diff| %.3g over %d texts' % (max(abs(x-y) for x,y in zip(a,b)), len(a)))" "$d/w" "$d/p"
