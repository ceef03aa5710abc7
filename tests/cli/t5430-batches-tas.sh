#!/usr/bin/env bash
# t5430 — `winnow batches tas` on 400 Debian records (fixtures/selectors)
# read as training pairs: query = the record's section, margin =
# installed_kb, clusters from `winnow cluster kmeans` over the embedded
# query texts. Every batch comes from one cluster, holds min(B, the
# cluster's queries) distinct queries, batches are numbered 0.. in order,
# records are byte-identical copies plus winnow.batch; the bin rule by
# hand (margins 0, .05, .5, .95, 1 in 10 bins: the bins {0, 5, 9} a third
# each, so the .5 pair is drawn 1/3 of the time); windows of output (a
# small $WINNOW_SPOOL_MEM) change nothing; threads; bad input; usage.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/selectors/debian-400.jsonl"

test_expect_success 'setup: cluster the queries (sections), k = 5' '
	"$WINNOW" embed -q --field section --dim 32 "$F" | "$WINNOW" cluster kmeans -q -k 5 > pairs.jsonl &&
	[ "$(wc -l < pairs.jsonl)" -eq 400 ]
'

# check OUT B NBATCHES: one cluster per batch, sizes, order, copies of input records
check() {
	python3 -c "
import json, sys, collections
out, B, NB = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
src = {}
qc = {}
for l in open(\"pairs.jsonl\"):
    d = json.loads(l)
    src[l.rstrip(\"\\n\")] = d
    qc[d[\"section\"]] = d[\"winnow\"][\"cluster\"]
size = collections.Counter(qc.values())
batches = collections.OrderedDict()
for line in open(out):
    line = line.rstrip(\"\\n\")
    b = json.loads(line)[\"winnow\"][\"batch\"]
    bare = line.rsplit(\",\\\"batch\\\":\", 1)[0] + \"}}\"
    assert bare in src, line[:80]
    batches.setdefault(b, []).append(src[bare])
assert list(batches) == list(range(NB)), list(batches)
for b, recs in batches.items():
    cl = {r[\"winnow\"][\"cluster\"] for r in recs}
    assert len(cl) == 1, (b, cl)
    qs = [r[\"section\"] for r in recs]
    assert len(set(qs)) == len(qs), (b, qs)
    assert len(qs) == min(B, size[cl.pop()]), (b, len(qs))
" "$@"
}

test_expect_success 'batches of one cluster each, distinct queries, min(B, size), in order' '
	"$WINNOW" batches tas --query section --batch 4 --margin installed_kb pairs.jsonl > out 2> err &&
	nq=$(python3 -c "import json; print(len({json.loads(l)[\"section\"] for l in open(\"pairs.jsonl\")}))") &&
	nb=$(( (nq + 3) / 4 )) && check out 4 $nb &&
	grep -q "^winnow batches tas: $nb batches of up to 4 from $nq queries (400 pairs)" err &&
	"$WINNOW" batches tas -q --query section --batch 32 --batches 40 pairs.jsonl > out2 && check out2 32 40
'

test_expect_success 'the margin bins by hand: the .5 pair 1/3 of the time, the others 1/6' '
	for m in 0 0.05 0.5 0.95 1.0; do echo "{\"query\":\"q\",\"m\":$m,\"winnow\":{\"cluster\":0}}"; done > one.jsonl &&
	"$WINNOW" batches tas -q --batch 1 --batches 6000 --margin m one.jsonl > out &&
	python3 -c "
import json, collections, math
c = collections.Counter(json.loads(l)[\"m\"] for l in open(\"out\"))
n = sum(c.values())
assert n == 6000, n
for m, p in ((0.5, 1/3), (0, 1/6), (0.05, 1/6), (0.95, 1/6), (1.0, 1/6)):
    assert abs(c[m] / n - p) <= 5 * math.sqrt(p * (1 - p) / n), (m, c[m], n)
"
'

test_expect_success 'windows of output: the same bytes with a 2000-byte window' '
	"$WINNOW" batches tas -q --query section --batch 8 --batches 30 --margin installed_kb pairs.jsonl > a &&
	WINNOW_SPOOL_MEM=2000 "$WINNOW" batches tas -q --query section --batch 8 --batches 30 --margin installed_kb pairs.jsonl > b &&
	cmp a b && [ "$(wc -l < a)" -gt 100 ]
'

test_expect_success 'same bytes at 1 and 2 threads; another seed, other batches' '
	"$WINNOW" batches tas -q --query section --batch 8 --margin installed_kb --seed 2 --threads 1 pairs.jsonl > a &&
	"$WINNOW" batches tas -q --query section --batch 8 --margin installed_kb --seed 2 --threads 2 pairs.jsonl > b &&
	"$WINNOW" batches tas -q --query section --batch 8 --margin installed_kb --seed 3 pairs.jsonl > c &&
	cmp a b && ! cmp -s a c
'

test_expect_success 'a query in two clusters, a pair without its query: exit 1 positioned' '
	printf "%s\n" "{\"query\":\"a\",\"winnow\":{\"cluster\":0}}" "{\"query\":\"a\",\"winnow\":{\"cluster\":1}}" > two.jsonl &&
	"$WINNOW" batches tas two.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] &&
	grep -q "^winnow batches tas: two.jsonl:2: this pair.s query is in cluster 1, but in cluster 0 at its first pair (line 1)" err &&
	{ sed -n 1,3p pairs.jsonl; echo "{\"winnow\":{\"cluster\":0}}"; } > noq.jsonl &&
	"$WINNOW" batches tas --query section noq.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow batches tas: noq.jsonl:4: missing .section. (--query)" err &&
	"$WINNOW" batches tas -q --query section --on-error skip noq.jsonl > out &&
	[ "$(wc -l < out)" -ge 1 ]
'

test_expect_success 'a recipe (embed the queries, cluster, compose) gives the bytes of the pipeline' '
	printf "winnow: 1\nseed: 4\ninputs: [%s]\nsteps:\n  - embed: {field: section, dim: 32}\n  - cluster kmeans: {k: 5}\n  - batches tas: {query: section, batch: 8, margin: installed_kb}\noutput: {jsonl: r.jsonl}\n" "$F" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" embed -q --field section --dim 32 "$F" | "$WINNOW" cluster kmeans -q -k 5 --seed 4 |
		"$WINNOW" batches tas -q --query section --batch 8 --margin installed_kb --seed 4 | cmp - r.jsonl
'

test_expect_success 'usage errors: exit 2 with the message' '
	"$WINNOW" batches tas --batch 0 pairs.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow batches tas: --batch must be in \[1, 1000000\]" err &&
	"$WINNOW" batches tas --bins 999 pairs.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow batches tas: --bins must be in \[1, 256\]" err
'

test_done
