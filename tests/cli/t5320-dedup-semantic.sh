#!/usr/bin/env bash
# t5320 — `winnow dedup semantic` (SemDeDup) against the issue's three-point
# case and against tests/peers/semdedup_peer.py (the official code's rule in
# float64, stdlib python) on fixtures/cluster/debian-500-emb.jsonl clustered
# by `winnow cluster kmeans --spherical -k 8`: the keep flags of five eps at
# once for --keep hard and easy, the one-eps output = the input lines the
# peer keeps (byte-identical), nested keep sets as eps grows, the same bytes
# at --threads 1 and 2, for any --max-cluster tile side and from --npy;
# --keep random by seed; eps >= 1 keeps each cluster's first member; a
# recipe equals its shell pipeline; bad input and usage errors.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
NPY="$WINNOW_ROOT/fixtures/cluster/debian-500.npy"
PEER="$WINNOW_ROOT/tests/peers/semdedup_peer.py"
EPS=0.02,0.05,0.1,0.2,0.3

# flags OUT: the winnow.semdedup_keep values of each record, as the peer prints them
flags() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    k = json.loads(l)["winnow"]["semdedup_keep"]
    print(json.dumps(list(k.values()) if isinstance(k, dict) else [k]))
' "$1"
}

# The three points: a, b, c with cos(a,b) = cos(b,c) = 0.95, cos(a,c) = 0.85
# (rows of the Cholesky factor of their Gram matrix); cent.npy lies along c,
# so farthest first is a, b, c.
cat > three.py <<'EOF'
import json, math, struct
b1 = math.sqrt(1 - 0.95 ** 2); c1 = (0.95 - 0.85 * 0.95) / b1; c2 = math.sqrt(1 - 0.85 ** 2 - c1 ** 2)
V = {"a": [1, 0, 0], "b": [0.95, b1, 0], "c": [0.85, c1, c2]}
dot = lambda x, y: sum(p * q for p, q in zip(x, y))
assert abs(dot(V["a"], V["b"]) - 0.95) < 1e-12 and abs(dot(V["b"], V["c"]) - 0.95) < 1e-12
assert abs(dot(V["a"], V["c"]) - 0.85) < 1e-12
with open("three.jsonl", "w") as f:
    for k in "abc":
        f.write(json.dumps({"id": k, "winnow": {"emb": V[k], "cluster": 0}}) + "\n")
h = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }"
h += b" " * (64 - 10 - len(h) - 1) + b"\n"
open("cent.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + struct.pack("<3f", *V["c"]))
EOF

test_expect_success 'three points, eps 0.07: only a is kept (c goes for b, which went too)' '
	python3 three.py &&
	"$WINNOW" dedup semantic --eps 0.07 --centroids cent.npy three.jsonl > out 2> err &&
	head -1 three.jsonl > want && test_cmp want out &&
	grep -q "eps 0.07 (cosine > 0.93 is a duplicate): kept 1 of 3, removed 2" err &&
	python3 "$PEER" three.jsonl hard 0.07 cent.npy > peer && printf "[true]\n[false]\n[false]\n" > want &&
	test_cmp want peer &&
	"$WINNOW" dedup semantic -q --eps 0.07 --mark-only --centroids cent.npy three.jsonl > m &&
	flags m > got && test_cmp want got
'

test_expect_success 'setup: spherical k-means on 500 debian records' '
	"$WINNOW" cluster kmeans -q --spherical -k 8 --seed 1 "$F" > cl.jsonl &&
	[ "$(wc -l < cl.jsonl)" -eq 500 ]
'

test_expect_success 'five eps in one pass: the flags of the official rule (peer), hard and easy' '
	"$WINNOW" dedup semantic --eps $EPS cl.jsonl > out 2> err &&
	python3 "$PEER" cl.jsonl hard $EPS > peer && flags out > got && test_cmp peer got &&
	grep -q "500 vectors of dim 24 in 8 clusters" err && grep -q "in 500, out 500, rejected 0" err &&
	head -1 out | grep -q "\"semdedup_keep\":{\"0.02\":\(true\|false\),\"0.05\":" &&
	"$WINNOW" dedup semantic -q --keep easy --eps $EPS cl.jsonl > out &&
	python3 "$PEER" cl.jsonl easy $EPS > peer && flags out > got && test_cmp peer got
'

test_expect_success 'the k-means centroids (--centroids-out -> --centroids): the peer on the same centroids' '
	"$WINNOW" cluster kmeans -q --spherical -k 8 --seed 1 --centroids-out km.npy "$F" > cl2.jsonl &&
	test_cmp cl.jsonl cl2.jsonl &&
	"$WINNOW" dedup semantic -q --eps $EPS --centroids km.npy cl.jsonl > out &&
	python3 "$PEER" cl.jsonl hard $EPS km.npy > peer && flags out > got && test_cmp peer got &&
	"$WINNOW" dedup semantic -q --eps $EPS --keep easy --centroids km.npy cl.jsonl > out &&
	python3 "$PEER" cl.jsonl easy $EPS km.npy > peer && flags out > got && test_cmp peer got
'

test_expect_success 'eps monotonicity: kept sets nested and shrinking as eps grows' '
	"$WINNOW" dedup semantic -q --eps $EPS cl.jsonl > out && flags out > got &&
	python3 -c "
import json, sys
rows = [json.loads(l) for l in open(\"got\")]
kept = [sum(r[e] for r in rows) for e in range(5)]
print(kept)
assert all(kept[e] > kept[e + 1] for e in range(4)), kept
assert all(r[e] or not r[e + 1] for r in rows for e in range(4))
"
'

test_expect_success 'one eps: the input lines the peer keeps, byte-identical, in order' '
	"$WINNOW" dedup semantic --eps 0.1 cl.jsonl > out 2> err &&
	python3 "$PEER" cl.jsonl hard 0.1 > peer &&
	python3 -c "
import json, sys
flags = [json.loads(l)[0] for l in open(\"peer\")]
lines = open(\"cl.jsonl\", encoding=\"utf-8\").read().splitlines(True)
open(\"want\", \"w\", encoding=\"utf-8\").write(\"\".join(l for l, k in zip(lines, flags) if k))
" && test_cmp want out && n=$(wc -l < want) && grep -q "in 500, out $n, rejected 0" err
'

test_expect_success 'same bytes at --threads 1 and 2, at --max-cluster 5, and from --npy' '
	"$WINNOW" dedup semantic -q --eps $EPS --threads 1 cl.jsonl > a &&
	"$WINNOW" dedup semantic -q --eps $EPS --threads 2 cl.jsonl > b && test_cmp a b &&
	"$WINNOW" dedup semantic -q --eps $EPS --max-cluster 5 cl.jsonl > c && test_cmp a c &&
	"$WINNOW" dedup semantic -q --eps $EPS --npy "$NPY" cl.jsonl > d && test_cmp a d
'

test_expect_success '--keep random: same seed same bytes (1 and 2 threads), another seed other flags' '
	"$WINNOW" dedup semantic -q --keep random --seed 3 --eps 0.2 --mark-only --threads 1 cl.jsonl > a &&
	"$WINNOW" dedup semantic -q --keep random --seed 3 --eps 0.2 --mark-only --threads 2 cl.jsonl > b &&
	test_cmp a b &&
	"$WINNOW" dedup semantic -q --keep random --seed 4 --eps 0.2 --mark-only cl.jsonl > c &&
	! cmp -s a c && "$WINNOW" dedup semantic -q --eps 0.2 --mark-only cl.jsonl > h && ! cmp -s a h
'

test_expect_success 'eps 1.5 keeps the first member of each cluster only (official: none)' '
	"$WINNOW" dedup semantic --eps 1.5 cl.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 8 ] && grep -q "eps 1.5 (cosine > -0.5 is a duplicate): kept 8 of 500" err
'

test_expect_success 'a recipe cluster kmeans -> dedup semantic writes the bytes of the pipeline' '
	cat > sd.yaml <<-EOF &&
	winnow: 1
	inputs: [$F]
	steps:
	  - cluster kmeans: {k: 8, spherical: true, seed: 1}
	  - dedup semantic: {eps: "0.05,0.1"}
	output: {jsonl: recipe.jsonl}
	EOF
	"$WINNOW" run -q sd.yaml &&
	"$WINNOW" cluster kmeans -q -k 8 --spherical --seed 1 "$F" | "$WINNOW" dedup semantic -q --eps 0.05,0.1 > shell.jsonl &&
	test_cmp shell.jsonl recipe.jsonl && grep -q semdedup_keep recipe.jsonl
'

test_expect_success 'a record without a cluster fails with its place and the remedy; skip goes on' '
	head -3 "$F" > m.jsonl && head -3 cl.jsonl > c.jsonl &&
	cat c.jsonl m.jsonl > mix.jsonl &&
	"$WINNOW" dedup semantic --eps 0.07 mix.jsonl > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "mix.jsonl:4: no cluster at winnow.cluster (run .winnow cluster kmeans --spherical. first)" err &&
	[ ! -s out ] &&
	"$WINNOW" dedup semantic --eps 0.07 --on-error skip mix.jsonl > out 2> err &&
	"$WINNOW" dedup semantic -q --eps 0.07 c.jsonl > want && test_cmp want out &&
	grep -q "in 6, out $(wc -l < want), rejected 3" err && grep -q "3 vectors of dim 24 in" err
'

test_expect_success 'usage errors: eps outside (0, 2), no eps, --keep, --mark-only with several' '
	"$WINNOW" dedup semantic --eps 0 "$F" > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "eps must be in (0, 2) (cosine distance), got 0" err && [ ! -s out ] &&
	"$WINNOW" dedup semantic --eps 0.05,2 "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "eps must be in (0, 2) (cosine distance), got 2" err &&
	"$WINNOW" dedup semantic --eps -0.1 "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "eps must be in (0, 2)" err &&
	"$WINNOW" dedup semantic --eps 0.1x "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "is not a list of numbers" err &&
	"$WINNOW" dedup semantic "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "eps E is required" err &&
	"$WINNOW" dedup semantic --eps 0.1 --keep middle "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "unknown --keep .middle. (hard, easy or random)" err &&
	"$WINNOW" dedup semantic --eps 0.1,0.2 --mark-only "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "mark-only goes with one --eps" err &&
	"$WINNOW" dedup semantic --eps 0.1,0.1 "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "eps 0.1 is given twice" err
'
test_done
