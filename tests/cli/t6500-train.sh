#!/usr/bin/env bash
# t6500 — `winnow train`: a proxy classifier on the records' vectors and the
# scores of its training dynamics. 2-D separable points of 3 classes (vectors
# as JSON arrays in winnow.emb) learned to full held-out accuracy, the class
# map against python3's sort of the labels, the annotations spliced without
# touching other bytes, the held-out share, identical bytes at 1 and 2
# threads, the Debian slice (hashed embeddings, label section) learned above
# the majority-class rate, and the bad-input and usage errors with their
# exit codes and messages.
. "$(dirname "$0")/lib.sh"

# 60 points, 20 per class around (3,0), (-1.5,2.6), (-1.5,-2.6); offsets from a
# fixed LCG so the file is the same everywhere; labels in scrambled order.
python3 - <<'PY' > pts.jsonl
import json
state = 12345
def u():
    global state
    state = (1103515245 * state + 12345) % 2**31
    return state / 2**31 - 0.5
centres = {"b": (3.0, 0.0), "a": (-1.5, 2.6), "c": (-1.5, -2.6)}
for i in range(60):
    lab = "bac"[(i * 7) % 3]
    cx, cy = centres[lab]
    v = [round(cx + u(), 4), round(cy + u(), 4)]
    print(json.dumps({"id": i, "kind": lab, "winnow": {"emb": v}}, separators=(",", ":")))
PY

test_expect_success 'separable points: held-out accuracy 1.0 and every record scored' '
	"$WINNOW" train --label kind --model linear --epochs 30 --lr 0.05 --batch 8 --holdout 0.25 \
		pts.jsonl > out 2> err &&
	grep -q "^winnow train: 15 of 60 records held out; majority class .* has held-out accuracy" err &&
	grep -q "^winnow train: run 1 epoch 30: train loss [0-9.]*, held-out accuracy 1.0000$" err &&
	grep -q "^winnow train: 3 classes from kind: 0=a (20) 1=b (20) 2=c (20)$" err &&
	grep -q "in 60, out 60, rejected 0" err &&
	python3 -c "
import json, math, re
ins = open(\"pts.jsonl\").read().splitlines()
outs = open(\"out\").read().splitlines()
assert len(outs) == 60
num = r\"-?[0-9.e+-]+\"
pat = re.compile(r\",\\\"el2n\\\":(%s),\\\"grand\\\":(%s),\\\"forgetting\\\":(%s),\\\"aum\\\":(%s),\\\"vog\\\":(%s),\\\"pvi\\\":(%s),\\\"tracin\\\":(%s),\\\"s2l_cluster\\\":([0-9]+)(,\\\"holdout\\\":true)?}}$\" % ((num,) * 7))
held = 0
for a, b in zip(ins, outs):
    assert b.startswith(a[:-2]), (a, b)
    m = pat.fullmatch(b[len(a) - 2:])
    assert m, b
    el2n, grand, forg, aum, vog = map(float, m.groups()[:5])
    held += m.group(9) is not None
    assert float(m.group(7)) >= 0 and 0 <= int(m.group(8)) < 60
    assert 0 <= el2n <= math.sqrt(2) and grand >= el2n and vog >= 0
    assert forg == int(forg) and 0 <= forg <= 30, forg
    w = json.loads(b)[\"winnow\"]
    assert w[\"el2n\"] == el2n
assert held == 15, held
"
'

test_expect_success '--labels-out: the classes in byte order of the labels, with their counts (python3)' '
	"$WINNOW" train -q --label kind --model linear --epochs 2 --labels-out map.jsonl pts.jsonl > out &&
	python3 -c "
import json, collections
c = collections.Counter(json.loads(l)[\"kind\"] for l in open(\"pts.jsonl\"))
want = [{\"class\": i, \"label\": k, \"records\": c[k]} for i, k in enumerate(sorted(c))]
got = [json.loads(l) for l in open(\"map.jsonl\")]
assert got == want, got
"
'

test_expect_success 'numbers as labels: classes in byte order of their text' '
	sed "s/\"kind\":\"a\"/\"kind\":10/; s/\"kind\":\"b\"/\"kind\":9/; s/\"kind\":\"c\"/\"kind\":-1/" pts.jsonl > num.jsonl &&
	"$WINNOW" train --label kind --model linear --epochs 2 num.jsonl > out 2> err &&
	grep -q "3 classes from kind: 0=-1 (20) 1=10 (20) 2=9 (20)$" err
'

test_expect_success 'thread count and reruns do not change the bytes; another seed does' '
	"$WINNOW" train -q --label kind --hidden 16 --epochs 4 --runs 2 --log-every 3 --holdout 0.2 \
		--vog-std --vog-norm class --threads 1 pts.jsonl > a &&
	"$WINNOW" train -q --label kind --hidden 16 --epochs 4 --runs 2 --log-every 3 --holdout 0.2 \
		--vog-std --vog-norm class --threads 2 pts.jsonl > b &&
	"$WINNOW" train -q --label kind --hidden 16 --epochs 4 --runs 2 --log-every 3 --holdout 0.2 \
		--vog-std --vog-norm class --threads 2 --seed 1 pts.jsonl > c &&
	cmp a b && ! cmp -s a c
'

test_expect_success 'Debian slice, label section: held-out accuracy above the majority-class rate' '
	"$WINNOW" embed -q "$(fixture debian-2000.jsonl)" > emb.jsonl &&
	"$WINNOW" train --label section --holdout 0.2 --epochs 10 --threads 2 emb.jsonl > deb 2> err &&
	maj=$(sed -n "s/^winnow train: 400 of 2000 records held out; majority class .libs. .* accuracy \([0-9.]*\)$/\1/p" err) &&
	acc=$(sed -n "s/^winnow train: run 1 epoch 10: .*held-out accuracy \([0-9.]*\)$/\1/p" err) &&
	echo "majority $maj, held-out accuracy $acc" &&
	[ -n "$maj" ] && [ -n "$acc" ] &&
	python3 -c "import sys; m, a = float(sys.argv[1]), float(sys.argv[2]); assert a > 2 * m, (a, m)" "$maj" "$acc" &&
	"$WINNOW" train -q --label section --holdout 0.2 --epochs 10 --threads 1 emb.jsonl | cmp - deb
'

test_expect_success 'the report times the run: the whole dynamics >= their optimizer steps >= 0, S2L timed' '
	"$WINNOW" train --label kind --hidden 16 --epochs 4 --s2l-k 3 pts.jsonl > /dev/null 2> err &&
	line=$(grep "^winnow train: mlp on 60 records of dim 2, 3 classes: 1 run(s) of 4 steps, 4 evaluations; " err) &&
	dyn=$(echo "$line" | sed -n "s/.*evaluations; \([0-9.]*\) s (optimizer steps \([0-9.]*\) s, the rest scores)$/\1/p") &&
	steps=$(echo "$line" | sed -n "s/.*(optimizer steps \([0-9.]*\) s, the rest scores)$/\1/p") &&
	grep -q "^winnow train: S2L: 60 loss trajectories of 4 checkpoints in 3 clusters; [0-9.]* s$" err &&
	python3 -c "import sys; d, s = float(sys.argv[1]), float(sys.argv[2]); assert d >= s >= 0, (d, s)" "$dyn" "$steps"
'

test_expect_success 'a recipe step: the same bytes as its shell pipeline' '
	printf "winnow: 1\nseed: 3\ninputs: [pts.jsonl]\nsteps:\n  - train: {label: kind, model: linear, epochs: 3, holdout: 0.2}\n  - select: {top: 10, by: winnow.el2n}\noutput: {jsonl: r.jsonl}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" train -q --label kind --model linear --epochs 3 --holdout 0.2 --seed 3 pts.jsonl |
		"$WINNOW" select -q --top 10 --by winnow.el2n > s.jsonl &&
	[ "$(wc -l < r.jsonl)" -eq 10 ] && cmp r.jsonl s.jsonl
'

test_expect_success 'a record without the label: positioned error, nothing written (exit 1)' '
	sed "7s/\"kind\":\"[abc]\",//" pts.jsonl > nolab.jsonl &&
	"$WINNOW" train --label kind --epochs 2 nolab.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow train: nolab.jsonl:7: no label at kind$" err && [ ! -s out ]
'

test_expect_success '--on-error skip drops it; quarantine keeps the line verbatim' '
	"$WINNOW" train --label kind --epochs 2 --on-error skip nolab.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 59 ] && grep -q "in 60, out 59, rejected 1" err &&
	! grep -q "\"id\":6," out &&
	"$WINNOW" train -q --label kind --epochs 2 --quarantine q.jsonl nolab.jsonl > out &&
	sed -n 7p nolab.jsonl | cmp - q.jsonl
'

test_expect_success 'a label that is an object, and a NaN in a vector, are rejected at their lines' '
	nan_b64=$( { printf "\000\000\300\177\000\000\200\077"; } | base64 -w0) &&
	{ sed -n 1,5p pts.jsonl; echo "{\"id\":90,\"kind\":{\"x\":1},\"winnow\":{\"emb\":[1,2]}}";
	  echo "{\"id\":91,\"kind\":\"a\",\"winnow\":{\"emb\":{\"dim\":2,\"dtype\":\"f32\",\"b64\":\"$nan_b64\"}}}"; } > bad.jsonl &&
	"$WINNOW" train --label kind --epochs 2 --on-error skip bad.jsonl > out 2> err &&
	grep -q "^winnow train: bad.jsonl:6: label kind is not a string or a number$" err &&
	grep -q "^winnow train: bad.jsonl:7: winnow.emb: .*" err &&
	grep -q "in 7, out 5, rejected 2" err
'

test_expect_success 'one class only: exit 1 with the reason' '
	grep "\"kind\":\"a\"" pts.jsonl > one.jsonl &&
	"$WINNOW" train --label kind one.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow train: one.jsonl: --label kind has one class only (.a. on 20 records)$" err
'

test_expect_success 'usage errors exit 2 with one line' '
	"$WINNOW" train pts.jsonl 2> e1; r1=$?
	"$WINNOW" train --label kind --epochs 3 --score-epoch 5 pts.jsonl 2> e2; r2=$?
	"$WINNOW" train --label kind --model cnn pts.jsonl 2> e3; r3=$?
	"$WINNOW" train --label kind --holdout 1 pts.jsonl 2> e4; r4=$?
	"$WINNOW" train --label kind --vog-norm row pts.jsonl 2> e5; r5=$?
	test $r1 = 2 && grep -q "^winnow train: --label FIELD is required" e1 &&
	test $r2 = 2 && grep -q "^winnow train: --score-epoch 5 is beyond --epochs 3 (0 to 3)" e2 &&
	test $r3 = 2 && grep -q "^winnow train: unknown --model .cnn. (linear or mlp)" e3 &&
	test $r4 = 2 && grep -q "^winnow train: --holdout FRAC must be in \[0, 1)" e4 &&
	test $r5 = 2 && grep -q "^winnow train: unknown --vog-norm .row." e5
'

test_expect_success '--holdout FILE: train on every record, accuracy on the file, only the records written' '
	head -45 pts.jsonl > tr.jsonl && tail -15 pts.jsonl > ho.jsonl &&
	"$WINNOW" train --label kind --model linear --epochs 30 --lr 0.05 --batch 8 --holdout ho.jsonl \
		tr.jsonl > out 2> err &&
	grep -q "^winnow train: 15 held-out records from ho.jsonl$" err &&
	grep -q "^winnow train: run 1 epoch 30: train loss [0-9.]*, held-out accuracy 1.0000$" err &&
	grep -q "in 45, out 45, rejected 0" err && ! grep -q holdout out &&
	"$WINNOW" train -q --label kind --model linear --epochs 30 --lr 0.05 --batch 8 tr.jsonl > plain &&
	python3 -c "
import json
a = [json.loads(l)[\"winnow\"] for l in open(\"out\")]
b = [json.loads(l)[\"winnow\"] for l in open(\"plain\")]
# the held-out rows never train: the same model, the same scores
assert [x[\"el2n\"] for x in a] == [x[\"el2n\"] for x in b]
assert [x[\"aum\"] for x in a] == [x[\"aum\"] for x in b]"
'

# (a held-out label no training record has is a class of its own, never
# right, as in `sources plan`'s proxy: t6560)
test_expect_success '--holdout FILE with another dimension, or missing: exit 1 with the reason' '
	echo "{\"id\":98,\"kind\":\"a\",\"winnow\":{\"emb\":[0,0,1]}}" > ho3.jsonl &&
	"$WINNOW" train --label kind --epochs 2 --holdout ho3.jsonl tr.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow train: ho3.jsonl: vectors of dimension 3, the training records. 2$" err &&
	"$WINNOW" train --label kind --epochs 2 --holdout missing.jsonl tr.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "missing.jsonl" err && [ ! -s out ]
'

test_expect_success '--aum-threshold: floor(45 / 4) fake-class samples; flags = AUM below their 99th percentile' '
	"$WINNOW" train --label kind --hidden 16 --epochs 10 --lr 0.01 --holdout 0.25 --aum-threshold \
		--threads 1 pts.jsonl > at 2> err &&
	grep -q "^winnow train: AUM threshold [-0-9.e]* (99th percentile of 11 threshold samples in a fake class); [0-9]* records flagged$" err &&
	"$WINNOW" train -q --label kind --hidden 16 --epochs 10 --lr 0.01 --holdout 0.25 --aum-threshold \
		--threads 2 pts.jsonl | cmp - at &&
	python3 -c "
import json
w = [json.loads(l)[\"winnow\"] for l in open(\"at\")]
thr = sorted(x[\"aum\"] for x in w if x.get(\"aum_threshold_sample\"))
assert len(thr) == 11, len(thr)
pos = 0.99 * (len(thr) - 1); lo = int(pos)
t = thr[lo] + (pos - lo) * (thr[lo + 1] - thr[lo])
flag = [x for x in w if \"aum_flag\" in x]
assert len(flag) == 45 - 11 and not any(\"holdout\" in x for x in flag)
assert all(x[\"aum_flag\"] == (x[\"aum\"] < t) for x in flag), t
assert not any(\"aum_flag\" in x for x in w if x.get(\"holdout\") or x.get(\"aum_threshold_sample\"))"
'

test_expect_success '--aum-threshold with too few training records: exit 1 with the reason' '
	head -3 pts.jsonl > three.jsonl &&
	"$WINNOW" train --label kind --epochs 2 --aum-threshold three.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow train: --aum-threshold needs at least 4 training records (3 classes + 1), has 3$" err
'

test_expect_success '--dropout: 0 is no dropout; 0.3 changes the scores, the same at 1 and 2 threads' '
	"$WINNOW" train -q --label kind --hidden 16 --epochs 3 pts.jsonl > d0 &&
	"$WINNOW" train -q --label kind --hidden 16 --epochs 3 --dropout 0 pts.jsonl | cmp - d0 &&
	"$WINNOW" train -q --label kind --hidden 16 --epochs 3 --dropout 0.3 --threads 1 pts.jsonl > d1 &&
	"$WINNOW" train -q --label kind --hidden 16 --epochs 3 --dropout 0.3 --threads 2 pts.jsonl > d2 &&
	cmp d1 d2 && ! cmp -s d0 d1
'

test_expect_success '--dropout out of range, or on the linear model: exit 2 with one line' '
	"$WINNOW" train --label kind --dropout 1 pts.jsonl 2> e1; r1=$?
	"$WINNOW" train --label kind --model linear --dropout 0.2 pts.jsonl 2> e2; r2=$?
	test $r1 = 2 && grep -q "^winnow train: --dropout P must be in \[0, 1)" e1 &&
	test $r2 = 2 && grep -q "^winnow train: --dropout needs --model mlp" e2
'

test_done
