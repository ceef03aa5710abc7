#!/usr/bin/env bash
# t6120 — what resampling-clustering balances (Vo et al. 2024), shown on the
# reference README's own long-tailed toy (tests/peers/rings.py: five rings of
# equal area holding 6000, 60, 300, 150 and 2400 points at scale 0.3; levels
# 300,90, S 15,2 as its example; 300 drawn by --balanced as its 1000 of
# 29700). The rings are the concepts. Measured here, seeds 1 and 2:
#   - the balanced sample over the hierarchy: without resampling the largest
#     ring takes about a third (per-ring max/median about 2.1), with it about
#     a quarter (max/median 1.04 to 1.12; uniform over rings is 1/5 and 1);
#   - level-1 centroids per ring: plain k-means follows density^(d/(d+2))
#     (144:10:28:21:97, the sqrt law in 2-D), resampling moves them toward
#     equal shares of the support (110:17:45:28:100);
#   - records per top-level cluster grow MORE uneven with resampling (max/
#     median about 3.6 -> 10 to 17): clusters spread evenly over the support hold
#     records in proportion to density, "larger clusters for dominant
#     concepts", as the paper says. Resampling does not even record counts;
#     balanced sampling over the resampled hierarchy evens the selection.
. "$(dirname "$0")/lib.sh"

# summary FILE.jsonl STATS.json SEL1 SEL2: one JSON line of the measures
summary() {
	python3 -c "
import json, sys
from collections import Counter
recs = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
top = sorted(st[\"levels\"][-1][\"sizes\"]); med = (top[(len(top) - 1) // 2] + top[len(top) // 2]) / 2
pair = Counter((r[\"winnow\"][\"hcluster\"][0], r[\"ring\"]) for r in recs)
major = {}
for (c, ring), n in sorted(pair.items(), key=lambda t: (-t[1], t[0])):
    major.setdefault(c, ring)
cent = Counter(major.values()); cent = [cent.get(r, 0) for r in range(5)]
out = {\"top_max_median\": top[-1] / med, \"centroids\": cent, \"centroid_max_min\": max(cent) / max(1, min(cent))}
for i, f in enumerate(sys.argv[3:]):
    c = Counter(json.loads(l)[\"ring\"] for l in open(f)); s = sorted(c.get(r, 0) for r in range(5))
    out[\"sel%d_max_median\" % i] = s[-1] / s[2]; out[\"sel%d_max_share\" % i] = s[-1] / sum(s)
print(json.dumps(out))
" "$@"
}

test_expect_success 'setup: the rings' '
	python3 "$WINNOW_ROOT/tests/peers/rings.py" rings 0.3 &&
	[ "$(wc -l < rings.jsonl)" -eq 8910 ]
'

for seed in 1 2; do
	test_expect_success "seed $seed: hierarchies with and without resampling, balanced samples of 300" '
		for R in 0 10; do
			"$WINNOW" cluster hkmeans -q --seed '$seed' --levels 300,90 --resamples $R --sample-size 15,2 \
				--npy rings.npy --stats s$R.json rings.jsonl > h$R.jsonl &&
			"$WINNOW" select -q --balanced --cap 300 --seed 1 h$R.jsonl > a$R.jsonl &&
			"$WINNOW" select -q --balanced --cap 300 --seed 2 h$R.jsonl > b$R.jsonl &&
			summary h$R.jsonl s$R.json a$R.jsonl b$R.jsonl > m$R.json || return 1
		done &&
		cat m0.json m10.json
	'
	test_expect_success "seed $seed: resampling evens the sample over the rings (max/median 2 -> under 1.35)" '
		jq -e ".sel0_max_median >= 1.8 and .sel1_max_median >= 1.8 and .sel0_max_share >= 0.3" m0.json &&
		jq -e ".sel0_max_median <= 1.35 and .sel1_max_median <= 1.35 and .sel0_max_share <= 0.28" m10.json
	'
	test_expect_success "seed $seed: and the level-1 centroids over the support (max/min ring at least 1.5x closer)" '
		jq -e --slurpfile r m10.json ".centroid_max_min >= 1.5 * \$r[0].centroid_max_min" m0.json
	'
	test_expect_success "seed $seed: but records per top-level cluster grow more uneven (max/median at least 2x)" '
		jq -e --slurpfile r m10.json "\$r[0].top_max_median >= 2 * .top_max_median" m0.json
	'
done

test_done
