#!/usr/bin/env bash
# t5400 — `winnow select kmq` on 400 Debian records (fixtures/selectors)
# embedded by the hash model and clustered by `winnow cluster kmeans -k 8`,
# quality = winnow.dist: --mode code writes exactly N distinct records with
# per-cluster counts equal to the water-filled equal shares, --mode paper
# draws N times with per-cluster draws equal to the largest-remainder
# shares of N·|C|/n (both by hand in python from the clusters); records
# byte-identical, in input order; rounds; threads and seeds; bad input under
# --on-error; usage errors; a recipe.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/selectors/debian-400.jsonl"

test_expect_success 'setup: embed and cluster (k = 8)' '
	"$WINNOW" embed -q --dim 64 "$F" | "$WINNOW" cluster kmeans -q -k 8 > cl.jsonl &&
	[ "$(wc -l < cl.jsonl)" -eq 400 ]
'

# check OUT N MODE: the per-cluster counts by hand; OUT a subsequence of cl.jsonl
check() {
	python3 -c "
import json, re, sys, collections
out, N, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
src = [l.rstrip(\"\\n\") for l in open(\"cl.jsonl\")]
size = collections.Counter(json.loads(l)[\"winnow\"][\"cluster\"] for l in src)
k = max(size) + 1
sz = [size.get(g, 0) for g in range(k)]
if mode == \"code\":
    L = max(l for l in range(max(sz) + 1) if sum(min(s, l) for s in sz) <= N)
    q = [min(s, L) for s in sz]
    left = N - sum(q)
    for g in range(k):
        if left and sz[g] > L:
            q[g] += 1; left -= 1
else:
    n = sum(sz)
    ex = [N * s / n for s in sz]
    q = [int(e) for e in ex]
    for g in sorted(range(k), key=lambda g: (-(ex[g] - int(ex[g])), g))[:N - sum(q)]:
        q[g] += 1
got = [0] * k
pos = 0
for line in open(out):
    line = line.rstrip(\"\\n\")
    w = json.loads(line)[\"winnow\"]
    c = w.get(\"count\", 1)
    assert (\"count\" in w) == (mode == \"paper\"), w
    got[w[\"cluster\"]] += c
    bare = re.sub(r\",\\\"count\\\":[0-9]+(?=[,}])\", \"\", line)
    bare = re.sub(r\",\\\"kmq_round\\\":[0-9]+(?=[,}])\", \"\", bare)
    while src[pos] != bare:
        pos += 1  # IndexError: not a subsequence in input order
    pos += 1
assert got == q, (got, q)
" "$@"
}

test_expect_success '--mode code: N distinct records, water-filled equal shares per cluster' '
	"$WINNOW" select kmq --budget 60 --mode code --quality winnow.dist cl.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 60 ] && check out 60 code &&
	grep -q "^winnow select kmq: 60 draws (code mode, 1 round) over 8 clusters of 400 records" err &&
	grep -q "in 400, out 60, rejected 0" err
'

test_expect_success '--mode paper: N draws, shares proportional to cluster size' '
	"$WINNOW" select kmq -q --budget 90 --quality winnow.dist cl.jsonl > out &&
	check out 90 paper && [ "$(wc -l < out)" -le 90 ]
'

test_expect_success 'no --quality: uniform; a budget above n in code mode keeps everything' '
	"$WINNOW" select kmq -q --budget 1000 --mode code cl.jsonl > out && cmp out cl.jsonl
'

test_expect_success '--rounds 3: the rounds draw 20 + 20 + 20 distinct records' '
	"$WINNOW" select kmq -q --budget 60 --mode code --rounds 3 --quality winnow.dist cl.jsonl > out &&
	[ "$(wc -l < out)" -eq 60 ] && python3 -c "
import json, sys, collections
r = collections.Counter(json.loads(l)[\"winnow\"][\"kmq_round\"] for l in open(\"out\"))
assert r == {0: 20, 1: 20, 2: 20}, r
"
'

test_expect_success 'same seed: same bytes at 1 and 2 threads; another seed: another sample' '
	for m in paper code; do
		"$WINNOW" select kmq -q --budget 80 --mode $m --quality winnow.dist --seed 3 --threads 1 cl.jsonl > a &&
		"$WINNOW" select kmq -q --budget 80 --mode $m --quality winnow.dist --seed 3 --threads 2 cl.jsonl > b &&
		"$WINNOW" select kmq -q --budget 80 --mode $m --quality winnow.dist --seed 4 cl.jsonl > c &&
		cmp a b && ! cmp -s a c || return 1
	done
'

test_expect_success 'a record without a cluster: exit 1 positioned; skip goes on' '
	{ sed -n 1,4p cl.jsonl; echo "{\"id\":\"x\",\"winnow\":{\"dist\":1}}"; sed -n 5,400p cl.jsonl; } > in.jsonl &&
	"$WINNOW" select kmq --budget 10 in.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow select kmq: in.jsonl:5: missing .winnow.cluster. (--cluster)" err &&
	"$WINNOW" select kmq --budget 10 --on-error skip in.jsonl > out 2> err &&
	grep -q "rejected 1" err && "$WINNOW" select kmq -q --budget 10 cl.jsonl | cmp - out
'

test_expect_success 'a negative quality in paper mode, a bad cluster id: exit 1 with the message' '
	printf "{\"winnow\":{\"cluster\":0,\"q\":1}}\n{\"winnow\":{\"cluster\":0,\"q\":-2}}\n" > neg.jsonl &&
	"$WINNOW" select kmq --budget 1 --quality winnow.q neg.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "neg.jsonl:2: .winnow.q. is negative (--mode paper" err &&
	"$WINNOW" select kmq -q --budget 1 --quality winnow.q --mode code neg.jsonl > out &&
	[ "$(wc -l < out)" -eq 1 ] &&
	printf "{\"winnow\":{\"cluster\":1.5}}\n" > bad.jsonl &&
	"$WINNOW" select kmq --budget 1 bad.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "bad.jsonl:1: .winnow.cluster. is not a cluster id" err
'

test_expect_success 'a recipe step gives the bytes of the command' '
	printf "winnow: 1\nseed: 2\ninputs: [cl.jsonl]\nsteps:\n  - select kmq: {budget: 30, mode: code, quality: winnow.dist}\noutput: {jsonl: r.jsonl}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" select kmq -q --budget 30 --mode code --quality winnow.dist --seed 2 cl.jsonl | cmp - r.jsonl
'

test_expect_success 'usage errors: exit 2 with the message' '
	"$WINNOW" select kmq cl.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select kmq: --budget N is required" err &&
	"$WINNOW" select kmq --budget 5 --mode both cl.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select kmq: --mode must be paper or code, not .both." err &&
	"$WINNOW" select kmq --budget 5 --rounds 6 cl.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select kmq: --rounds must be in \[1, --budget\]" err
'

test_done
