#!/usr/bin/env bash
# t5410 — `winnow select mig` on 400 Debian records (fixtures/selectors),
# labels = the Debian section, quality = winnow.dist from `cluster kmeans`:
# the picks, their order (winnow.mig_rank) and gains against a plain-Python
# MIG (tests/peers/mig_peer.py) fed the label vectors of `winnow embed`
# (the hash model, with character n-grams so that some labels are joined
# at a lowered threshold); the issue's worked example through the CLI
# (first pick {A,C}); gains non-increasing; threads; bad input; usage.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/selectors/debian-400.jsonl"
PEER="$WINNOW_ROOT/tests/peers/mig_peer.py"

test_expect_success 'setup: embed and cluster (k = 8)' '
	"$WINNOW" embed -q --dim 64 "$F" | "$WINNOW" cluster kmeans -q -k 8 > cl.jsonl &&
	[ "$(wc -l < cl.jsonl)" -eq 400 ]
'

# label vectors exactly as select mig embeds them: the sorted sections through `winnow embed`
labvecs() { # embed options...
	python3 -c "
import json
for s in sorted({json.loads(l)[\"section\"] for l in open(\"cl.jsonl\")}, key=str.encode):
    print(json.dumps({\"text\": s}))
" > labels.jsonl && "$WINNOW" embed -q "$@" labels.jsonl > labvecs.jsonl
}

# picks OUT: "<index> <gain>" in pick order, from the winnow output
picks() {
	python3 -c "
import json, sys
src = [l.rstrip(\"\\n\") for l in open(\"cl.jsonl\")]
pos, got = 0, []
for line in open(sys.argv[1]):
    w = json.loads(line)[\"winnow\"]
    bare = line.rstrip(\"\\n\").split(\",\\\"mig_rank\\\"\")[0] + \"}}\"
    while src[pos] != bare:
        pos += 1
    got.append((w[\"mig_rank\"], pos, w[\"mig_gain\"]))
    pos += 1
got.sort()
assert [r for r, _, _ in got] == list(range(len(got))), got
for _, p, g in got:
    print(p, repr(g))
" "$1"
}

# same OUT PEER [TOL]: same picks in the same order, gains to TOL (1e-9), non-increasing
same() {
	python3 -c "
import sys
a = [l.split() for l in open(sys.argv[1])]
b = [l.split() for l in open(sys.argv[2])]
tol = float(sys.argv[3])
assert len(a) == len(b) and len(a) > 0, (len(a), len(b))
for (i, g), (j, h) in zip(a, b):
    assert i == j, (i, j)
    assert abs(float(g) - float(h)) <= tol * abs(float(h)), (g, h)
gs = [float(g) for _, g in a]
assert all(x >= y for x, y in zip(gs, gs[1:])), gs
" "$1" "$2" "${3:-1e-9}"
}

test_expect_success 'the default hash model: picks, order and gains as the Python MIG' '
	labvecs &&
	"$WINNOW" select mig --budget 40 --labels section --quality winnow.dist cl.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 40 ] && picks out > got &&
	python3 "$PEER" cl.jsonl labvecs.jsonl 40 section winnow.dist > want && same got want &&
	grep -q "^winnow select mig: 40 picks over 400 records and 37 labels" err
'

test_expect_success 'char n-grams, --threshold 0.2 (9 joined pairs), --prop-weight 0.5, --norm, --phi exp: as the Python MIG' '
	labvecs --dim 256 --char-ngrams 2,4 &&
	python3 "$PEER" cl.jsonl labvecs.jsonl 60 section winnow.dist --threshold 0.2 --prop-weight 0.5 --norm --phi exp > want &&
	"$WINNOW" select mig --budget 60 --labels section --quality winnow.dist --threshold 0.2 \
		--prop-weight 0.5 --norm --phi exp --dim 256 --char-ngrams 2,4 cl.jsonl > out 2> err &&
	grep -q "and 37 labels (9 similar pairs at >= 0.2)" err &&
	picks out > got && same got want
'

test_expect_success '--model DIR (bert-tiny) embeds the labels as `embed --model` does: as the Python MIG' '
	labvecs --model "$WINNOW_ROOT/fixtures/models/bert-tiny-uncased" --device cpu &&
	python3 "$PEER" cl.jsonl labvecs.jsonl 30 section winnow.dist --threshold 0.95 > want &&
	"$WINNOW" select mig --budget 30 --labels section --quality winnow.dist --threshold 0.95 \
		--model "$WINNOW_ROOT/fixtures/models/bert-tiny-uncased" --device cpu cl.jsonl > out 2> err &&
	grep -q "and 37 labels (63 similar pairs at >= 0.95)" err &&
	picks out > got && same got want 1e-5
'

test_expect_success 'the worked example: {A}:4 {B}:4 {C}:3 {A,C}:3.5 picks {A,C} first' '
	printf "%s\n" "{\"id\":0,\"l\":[\"A\"],\"q\":4}" "{\"id\":1,\"l\":[\"B\"],\"q\":4}" \
		"{\"id\":2,\"l\":\"C\",\"q\":3}" "{\"id\":3,\"l\":[\"A\",\"C\",\"A\"],\"q\":3.5}" > ex.jsonl &&
	"$WINNOW" select mig -q --budget 1 --labels l --quality q ex.jsonl > out &&
	[ "$(wc -l < out)" -eq 1 ] && grep -q "^{\"id\":3," out &&
	"$WINNOW" select mig -q --budget 1 --labels l --quality q --norm ex.jsonl | grep -q "^{\"id\":0,"
'

test_expect_success 'same bytes at 1 and 2 threads' '
	"$WINNOW" select mig -q --budget 100 --labels section --quality winnow.dist --threads 1 cl.jsonl > a &&
	"$WINNOW" select mig -q --budget 100 --labels section --quality winnow.dist --threads 2 cl.jsonl > b &&
	cmp a b && [ "$(wc -l < a)" -eq 100 ]
'

test_expect_success 'bad labels and a negative quality: exit 1 positioned; skip goes on, a rejected record adds no label' '
	{ sed -n 1,2p cl.jsonl; echo "{\"section\":7,\"winnow\":{\"dist\":1}}"; sed -n 3,400p cl.jsonl; } > in.jsonl &&
	"$WINNOW" select mig --budget 10 --labels section --quality winnow.dist in.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] &&
	grep -q "^winnow select mig: in.jsonl:3: .section. is not a string or an array of strings (--labels)" err &&
	"$WINNOW" select mig --budget 10 --labels section --quality winnow.dist --on-error skip in.jsonl > out 2> err &&
	grep -q "rejected 1" err &&
	"$WINNOW" select mig -q --budget 10 --labels section --quality winnow.dist cl.jsonl | cmp - out &&
	printf "%s\n" "{\"l\":[\"a\",\"b\"],\"q\":1}" "{\"l\":[\"zz\",3],\"q\":1}" > mixed.jsonl &&
	"$WINNOW" select mig --budget 2 --labels l --quality q --on-error skip mixed.jsonl > out 2> err &&
	grep -q "mixed.jsonl:2: .l. is not a string or an array of strings" err &&
	grep -q "1 picks over 1 records and 2 labels" err &&
	printf "{\"l\":\"a\",\"q\":-1}\n" > neg.jsonl &&
	"$WINNOW" select mig --budget 1 --labels l --quality q neg.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "neg.jsonl:1: .q. is negative (--quality)" err
'

test_expect_success 'usage errors: exit 2 with the message' '
	"$WINNOW" select mig --budget 5 --quality q cl.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select mig: --labels PATH is required" err &&
	"$WINNOW" select mig --budget 5 --labels l --quality q --phi log cl.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select mig: --phi must be pow or exp, not .log." err &&
	"$WINNOW" select mig --budget 5 --labels l --quality q --model /nonexistent cl.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select mig: --model ./nonexistent. is neither" err
'

test_done
