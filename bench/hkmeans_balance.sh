#!/usr/bin/env bash
# bench/hkmeans_balance.sh — not a timing: the spread of top-level cluster
# sizes of `cluster hkmeans` on the first N Debian records (hash
# embeddings), L2 and --spherical, without and with resampling, and how a
# balanced sample of 10% spreads over the records' Debian sections.
#
# usage: bench/hkmeans_balance.sh [N] [LEVELS]   (default 20000 200,20,4)
# Prints one line per run: largest top cluster, max/median, top sizes,
# distinct sections and the largest section share in the balanced sample.
set -eu
N=${1:-20000}
LEVELS=${2:-200,20,4}
W=${WINNOW:-$(dirname "$0")/../build/winnow}
CORPUS=${CORPUS:-$(dirname "$0")/../../shared/corpora/debian.jsonl.gz}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
zcat "$CORPUS" | head -n "$N" > "$tmp/in.jsonl"
"$W" embed -q --npy "$tmp/v.npy" --no-annotate "$tmp/in.jsonl" > "$tmp/rec.jsonl"
for metric in l2 spherical; do
	for R in 0 10; do
		sph=""; [ $metric = spherical ] && sph=--spherical
		"$W" cluster hkmeans -q $sph --levels "$LEVELS" --resamples $R --npy "$tmp/v.npy" \
			--stats "$tmp/s.json" "$tmp/rec.jsonl" > "$tmp/h.jsonl"
		"$W" select -q --balanced --cap $((N / 10)) --seed 1 "$tmp/h.jsonl" > "$tmp/sel.jsonl"
		top=$(jq -r '.levels[-1].sizes | sort | "largest \(.[-1]) of \(add), max/median \((.[-1] / ((.[(length - 1) / 2 | floor] + .[length / 2 | floor]) / 2)) * 100 | round / 100), sizes \(reverse)"' "$tmp/s.json")
		sec=$(jq -r .section "$tmp/sel.jsonl" | sort | uniq -c | sort -rn | awk '{n++; t += $1; if (NR == 1) m = $1} END {printf "sample: %d sections, largest share %.2f", n, m / t}')
		echo "$metric R=$R: $top; $sec"
	done
done
