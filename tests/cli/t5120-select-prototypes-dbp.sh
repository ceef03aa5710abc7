#!/usr/bin/env bash
# t5120 — `winnow select dbp` and `winnow select prototypes` on 500 real
# records clustered by `cluster kmeans --spherical -k 20`: DBP's quotas,
# d_intra and d_inter equal the plain-Python peer's (tests/peers/dbp_peer.py,
# the reference's formulas), sum to M and respect their bounds, and each
# cluster keeps its hardest; prototypes keep the records farthest from their
# centroid (globally and per cluster); the same bytes at 1 and 2 threads;
# a recipe gives the pipeline's bytes; bad input and usage errors.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
PEER="$WINNOW_ROOT/tests/peers/dbp_peer.py"

test_expect_success 'setup: 20 spherical clusters, the peer numbers' '
	"$WINNOW" cluster kmeans -q -k 20 --spherical --seed 2 "$F" > km.jsonl &&
	python3 "$PEER" km.jsonl 0.3 > peer.json && [ "$(wc -l < km.jsonl)" -eq 500 ]
'

# check_kept OUT KEY: the kept lines are input lines plus winnow.KEY, in
# input order; within each cluster (or globally with "all") no dropped
# record is farther from its centroid than a kept one (peer distances).
check_kept() {
	python3 -c "
import json, re, sys
out, key, scope = sys.argv[1], sys.argv[2], sys.argv[3]
src = [l.rstrip(\"\\n\") for l in open(\"km.jsonl\")]
peer = json.load(open(\"peer.json\"))
cl = [json.loads(l)[\"winnow\"][\"cluster\"] for l in src]
kept, pos = set(), 0
for line in open(out):
    line = line.rstrip(\"\\n\")
    w = json.loads(line)[\"winnow\"]
    bare = re.sub(\",\\\"%s\\\":[-0-9.e]+}}$\" % key, \"}}\", line)
    while src[pos] != bare:
        pos += 1
    assert abs(w[key] - peer[\"dist\"][pos]) < 1e-6, (w[key], peer[\"dist\"][pos])
    kept.add(pos); pos += 1
groups = set(cl) if scope == \"cluster\" else [None]
for g in groups:
    idx = [i for i in range(len(src)) if g is None or cl[i] == g]
    lo = min([peer[\"dist\"][i] for i in idx if i in kept], default=9)
    hi = max([peer[\"dist\"][i] for i in idx if i not in kept], default=-9)
    assert lo >= hi - 1e-6, (g, lo, hi)
print(len(kept))
" "$@"
}

test_expect_success 'dbp: quotas, d_intra, d_inter as the peer; sum M = 150; bounds' '
	"$WINNOW" select dbp -q --keep-frac 0.3 --stats s.json km.jsonl > dbp.jsonl &&
	jq -e --slurpfile p peer.json ". as \$s |
	  .keep == 150 and \$p[0].M == 150 and
	  ([.clusters[].quota] == [\$p[0].clusters[].quota]) and
	  ([.clusters[].quota] | add) == 150 and
	  all(.clusters[]; .lb <= .quota and .quota <= .size and
	      .lb == ([((150 / 20 * 0.5) | floor), .size - 1] | min)) and
	  ([range(20) as \$i | (\$s.clusters[\$i].d_intra - \$p[0].clusters[\$i].d_intra) | fabs] | max) < 1e-6 and
	  ([range(20) as \$i | (\$s.clusters[\$i].d_inter - \$p[0].clusters[\$i].d_inter) | fabs] | max) < 1e-6
	" s.json > /dev/null &&
	[ "$(check_kept dbp.jsonl dbp_dist cluster)" = 150 ]
'

test_expect_success 'dbp with other parameters matches the peer too (T 0.1, 5 neighbours, balance 0.2)' '
	python3 "$PEER" km.jsonl 0.5 0.1 5 0.2 > peer2.json &&
	"$WINNOW" select dbp -q --keep-frac 0.5 --temperature 0.1 --neighbours 5 --balance 0.2 --stats s2.json km.jsonl > /dev/null &&
	jq -e --slurpfile p peer2.json "[.clusters[].quota] == [\$p[0].clusters[].quota] and ([.clusters[].quota] | add) == 250" s2.json
'

test_expect_success 'prototypes: the hardest 100 globally, the hardest floor(0.2 |C|) per cluster, easy' '
	"$WINNOW" select prototypes -q --keep-frac 0.2 km.jsonl > p.jsonl &&
	[ "$(check_kept p.jsonl proto_dist all)" = 100 ] &&
	"$WINNOW" select prototypes -q --keep-frac 0.2 --per-cluster km.jsonl > pc.jsonl &&
	want=$(jq -s "[group_by(.winnow.cluster)[] | length * 0.2 | floor] | add" km.jsonl) &&
	[ "$(check_kept pc.jsonl proto_dist cluster)" = "$want" ] &&
	"$WINNOW" select prototypes -q --keep-frac 0.2 --keep easy km.jsonl > e.jsonl &&
	jq -s "[.[].winnow.proto_dist] | max" e.jsonl > emax && jq -s "[.[].winnow.proto_dist] | min" p.jsonl > pmin &&
	awk "NR == FNR {a = \$1; next} {exit !(a <= \$1)}" emax pmin
'

test_expect_success 'same bytes at --threads 1 and 2 (clusters and selections)' '
	"$WINNOW" cluster kmeans -q -k 20 --spherical --seed 2 --threads 1 "$F" | "$WINNOW" select dbp -q --keep-frac 0.3 > a &&
	"$WINNOW" cluster kmeans -q -k 20 --spherical --seed 2 --threads 2 "$F" | "$WINNOW" select dbp -q --keep-frac 0.3 > b &&
	cmp a b && cmp a dbp.jsonl
'

test_expect_success 'a recipe (cluster kmeans, select dbp) gives the bytes of the pipeline' '
	printf "winnow: 1\nseed: 2\ninputs: [%s]\nsteps:\n  - cluster kmeans: {k: 20, spherical: true}\n  - select dbp: {keep-frac: 0.3}\noutput: {jsonl: r.jsonl}\n" "$F" > r.yaml &&
	"$WINNOW" run -q r.yaml && cmp r.jsonl dbp.jsonl
'

test_expect_success '--centroids from cluster kmeans: quotas still sum to M inside their bounds' '
	"$WINNOW" cluster kmeans -q -k 20 --spherical --seed 2 --centroids-out c20.npy "$F" > km2.jsonl &&
	cmp km.jsonl km2.jsonl &&
	"$WINNOW" select dbp -q --keep-frac 0.3 --centroids c20.npy --stats sc.json km.jsonl > dc.jsonl &&
	jq -e "([.clusters[].quota] | add) == 150 and all(.clusters[]; .lb <= .quota and .quota <= .size)" sc.json &&
	[ "$(wc -l < dc.jsonl)" -eq 150 ]
'

test_expect_success '--centroids with fewer rows than the ids: positioned error, exit 1' '
	"$WINNOW" cluster kmeans -q -k 5 --seed 1 --centroids-out c5.npy "$F" > /dev/null &&
	"$WINNOW" select prototypes --keep-frac 0.5 --centroids c5.npy km.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "km.jsonl:[0-9]*: winnow.cluster is [0-9]* but --centroids has 5 rows" err && [ ! -s out ]
'

test_expect_success 'a zero vector is rejected under --on-error skip, the rest selected' '
	printf "{\"winnow\":{\"cluster\":0,\"emb\":[0,0]}}\n{\"winnow\":{\"cluster\":0,\"emb\":[1,0]}}\n{\"winnow\":{\"cluster\":0,\"emb\":[0,1]}}\n" > z.jsonl &&
	"$WINNOW" select dbp --keep-frac 1 --on-error skip z.jsonl > out 2> err &&
	grep -q "z.jsonl:1: winnow.emb is the zero vector" err && [ "$(wc -l < out)" -eq 2 ]
'

test_expect_success 'usage errors: exit 2 with the message, nothing written' '
	"$WINNOW" select dbp --keep-frac 0.3 --temperature 0 km.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "temperature must be a positive number" err && [ ! -s out ] &&
	"$WINNOW" select dbp --keep-frac 0.3 --balance 2 km.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "balance must be between 0 and 1" err &&
	"$WINNOW" select dbp --keep-frac 0.3 --neighbours 0 km.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "neighbours must be at least 1" err &&
	"$WINNOW" select prototypes --keep-frac 1.5 km.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "keep-frac F is required, with 0 < F <= 1" err &&
	"$WINNOW" select prototypes --keep-frac 0.5 --keep medium km.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "unknown --keep .medium. (hard or easy)" err
'

test_done
