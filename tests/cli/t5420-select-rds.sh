#!/usr/bin/env bash
# t5420 — `winnow select rds` on 400 Debian records (fixtures/selectors,
# embedded by the hash model and clustered by `cluster kmeans`) with a
# 20-record Debian target embedded the same way: exactly N records for
# several N, the picks and their order (winnow.rds_rank) and scores as a
# plain-Python RDS+ round-robin (tests/peers/rds_peer.py), per query and
# --per-task section; threads; bad target and pool input; usage errors.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/selectors/debian-400.jsonl"
T="$WINNOW_ROOT/fixtures/selectors/debian-target-20.jsonl"
PEER="$WINNOW_ROOT/tests/peers/rds_peer.py"

test_expect_success 'setup: embed pool and target alike, cluster the pool' '
	"$WINNOW" embed -q --dim 64 "$F" | "$WINNOW" cluster kmeans -q -k 8 > pool.jsonl &&
	"$WINNOW" embed -q --dim 64 "$T" > tgt.jsonl && [ "$(wc -l < tgt.jsonl)" -eq 20 ]
'

# picks OUT: "<pool index> <score>" by winnow.rds_rank; OUT a subsequence of pool.jsonl
picks() {
	python3 -c "
import json, sys
src = [l.rstrip(\"\\n\") for l in open(\"pool.jsonl\")]
pos, got = 0, []
for line in open(sys.argv[1]):
    w = json.loads(line)[\"winnow\"]
    bare = line.rstrip(\"\\n\").split(\",\\\"rds\\\":\")[0] + \"}}\"
    while src[pos] != bare:
        pos += 1
    got.append((w[\"rds_rank\"], pos, w[\"rds\"]))
    pos += 1
got.sort()
assert [r for r, _, _ in got] == list(range(len(got))), got
for _, p, s in got:
    print(p, repr(s))
" "$1"
}

same() {
	python3 -c "
import sys
a = [l.split() for l in open(sys.argv[1])]
b = [l.split() for l in open(sys.argv[2])]
assert len(a) == len(b) and a, (len(a), len(b))
for (i, s), (j, t) in zip(a, b):
    assert i == j, (i, j)
    assert abs(float(s) - float(t)) <= 1e-6, (s, t)
" "$1" "$2"
}

test_expect_success 'per query: exactly N picks, order and scores as the Python round-robin' '
	for n in 1 7 20 33 150; do
		"$WINNOW" select rds -q --target tgt.jsonl --budget $n pool.jsonl > out &&
		[ "$(wc -l < out)" -eq $n ] && picks out > got &&
		python3 "$PEER" pool.jsonl tgt.jsonl $n > want && same got want || return 1
	done
'

test_expect_success '--per-task section: max over a task, round-robin across tasks' '
	"$WINNOW" select rds --target tgt.jsonl --budget 45 --per-task section pool.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 45 ] && picks out > got &&
	python3 "$PEER" pool.jsonl tgt.jsonl 45 section > want && same got want &&
	ntasks=$(python3 -c "import json; print(len({json.loads(l)[\"section\"] for l in open(\"tgt.jsonl\")}))") &&
	grep -q "^winnow select rds: 45 picks from 400 records for 20 target vectors in $ntasks tasks" err &&
	head -1 out | grep -q "\"rds_task\":\""
'

test_expect_success 'a budget above the pool keeps every record' '
	"$WINNOW" select rds -q --target tgt.jsonl --budget 1000 pool.jsonl > out &&
	[ "$(wc -l < out)" -eq 400 ]
'

test_expect_success 'same bytes at 1 and 2 threads' '
	"$WINNOW" select rds -q --target tgt.jsonl --budget 120 --per-task section --threads 1 pool.jsonl > a &&
	"$WINNOW" select rds -q --target tgt.jsonl --budget 120 --per-task section --threads 2 pool.jsonl > b &&
	cmp a b
'

test_expect_success 'a target record without a vector, a mismatched dimension: exit 1 with the message' '
	{ sed -n 1,2p tgt.jsonl; echo "{\"text\":\"x\"}"; sed -n 3,20p tgt.jsonl; } > badt.jsonl &&
	"$WINNOW" select rds --target badt.jsonl --budget 5 pool.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow select rds: badt.jsonl:3: no vector at winnow.emb (--target)" err &&
	"$WINNOW" embed -q --dim 32 "$T" > t32.jsonl &&
	"$WINNOW" select rds --target t32.jsonl --budget 5 pool.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "the pool.s vectors have dimension 64, the target.s 32" err
'

test_expect_success 'a pool record without a vector: exit 1 positioned; skip goes on' '
	{ sed -n 1,4p pool.jsonl; echo "{\"id\":\"x\"}"; sed -n 5,400p pool.jsonl; } > in.jsonl &&
	"$WINNOW" select rds --target tgt.jsonl --budget 10 in.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow select rds: in.jsonl:5: no vector at winnow.emb" err &&
	"$WINNOW" select rds --target tgt.jsonl --budget 10 --on-error skip in.jsonl > out 2> err &&
	grep -q "rejected 1" err && "$WINNOW" select rds -q --target tgt.jsonl --budget 10 pool.jsonl | cmp - out
'

test_expect_success 'a recipe step gives the bytes of the command' '
	printf "winnow: 1\ninputs: [pool.jsonl]\nsteps:\n  - select rds: {target: tgt.jsonl, budget: 25, per-task: section}\noutput: {jsonl: r.jsonl}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" select rds -q --target tgt.jsonl --budget 25 --per-task section pool.jsonl | cmp - r.jsonl
'

test_expect_success 'usage errors: exit 2 with the message' '
	"$WINNOW" select rds --budget 5 pool.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select rds: --target FILE is required" err &&
	"$WINNOW" select rds --target tgt.jsonl pool.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select rds: --budget N is required" err
'

test_done
