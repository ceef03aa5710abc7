#!/usr/bin/env bash
# t6560 — measuring a mixture outside `sources plan` (issue 21): `winnow
# train --holdout FILE` as the plan's pilot proxy, and `sources plan
# --eval-mixture`. 2-D separable points of classes a, b, c (around (3,0),
# (-1.5,2.6), (-1.5,-2.6), offsets from a fixed LCG); the target holds 15 of
# them and 5 records of a label "0zz" no training record has. By hand: a
# linear model that separates a, b, c gets 15 of the 20 right (0.75), as the
# plan's proxy (which counts every label of the sources and the target as a
# class) does at a one-source mixture (75 percent); "0zz" sorts first, so it
# is class 0 of the map. --eval-mixture's prediction is the stage-2 model of
# the plan's own fits at that p, recomputed here from the JSON.
. "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import json
state = 12345
def u():
    global state
    state = (1103515245 * state + 12345) % 2**31
    return state / 2**31 - 0.5
centres = {"b": (3.0, 0.0), "a": (-1.5, 2.6), "c": (-1.5, -2.6)}
rows = []
for i in range(90):
    lab = "bac"[i % 3]
    cx, cy = centres[lab]
    rows.append({"id": i, "kind": lab, "winnow": {"emb": [round(cx + u(), 4), round(cy + u(), 4)]}})
dump = lambda f, rs: open(f, "w").write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rs))
dump("a.jsonl", rows[:45])
dump("b.jsonl", rows[45:75])
dump("target.jsonl", rows[75:] + [{"id": 100 + j, "kind": "0zz", "winnow": {"emb": [0, 0]}} for j in range(5)])
PY

test_expect_success 'train --holdout FILE: a label only the file has is a class never right: 15 of 20' '
	"$WINNOW" train --label kind --model linear --epochs 30 --lr 0.05 --batch 8 --holdout target.jsonl \
		--labels-out classes.jsonl a.jsonl > out 2> err &&
	grep -q "^winnow train: 20 held-out records from target.jsonl$" err &&
	grep -q "^winnow train: 5 of them have a label no training record has (1 more classes, never right)$" err &&
	grep -q "^winnow train: run 1 epoch 30: train loss [0-9.]*, held-out accuracy 0.7500$" err &&
	printf "%s\n" "{\"class\":0,\"label\":\"0zz\",\"records\":0}" "{\"class\":1,\"label\":\"a\",\"records\":15}" \
		"{\"class\":2,\"label\":\"b\",\"records\":15}" "{\"class\":3,\"label\":\"c\",\"records\":15}" > want &&
	test_cmp want classes.jsonl &&
	[ "$(wc -l < out)" -eq 45 ] && ! grep -q holdout out
'

test_expect_success 'train --holdout FILE: the same bytes at --threads 1 and 2' '
	"$WINNOW" train -q --threads 1 --label kind --model linear --epochs 5 --holdout target.jsonl a.jsonl > t1 &&
	"$WINNOW" train -q --threads 2 --label kind --model linear --epochs 5 --holdout target.jsonl a.jsonl > t2 &&
	cmp t1 t2
'

PLAN="--pilot-label kind --pilot-sizes 40,60 --size 90 --pilot-epochs 30 --pilot-lr 0.05 --pilot-batch 8
	--source a.jsonl --source b.jsonl --target target.jsonl"

test_expect_success 'plan --eval-mixture: the proxy at one source alone gives 75 (the 5 "0zz" never right), as train does' '
	"$WINNOW" sources plan -q --json $PLAN --eval-mixture 1,0 --eval-mixture 0,1 --eval-mixture 0.5,0.5 > p.json &&
	python3 -c "
import json
d = json.load(open(\"p.json\"))
e = d[\"evaluations\"]
assert [x[\"p\"] for x in e] == [[1, 0], [0, 1], [0.5, 0.5]], e
assert e[0][\"measured\"] == 75 and e[1][\"measured\"] == 75, e
assert [s[\"name\"] for s in d[\"sources\"]] == [\"a\", \"b\"], d[\"sources\"]
" &&
	"$WINNOW" train --label kind --model linear --epochs 30 --lr 0.05 --batch 8 --holdout target.jsonl \
		b.jsonl 2>&1 > /dev/null | grep -q "epoch 30: train loss [0-9.]*, held-out accuracy 0.7500$"
'

test_expect_success 'plan --eval-mixture: the prediction is the plan'"'"'s stage-2 model at p (by hand from the fits)' '
	python3 -c "
import json, math
d = json.load(open(\"p.json\"))
def L(c, p, ot):  # K = 2: p_1 eliminates p_2
    return (c[\"b2_1\"] * p * p + c[\"b1_1\"] * p) * ot + c[\"b0\"] * ot + c[\"c1_1\"] * p + c[\"c0\"]
(f0, f1), N = d[\"fits\"], d[\"size\"]
N0, N1 = f0[\"N\"], f1[\"N\"]
for e in d[\"evaluations\"]:
    p, ot = e[\"p\"][0], e[\"ot\"]
    l0, l1 = L(f0[\"coefficients\"], p, ot), L(f1[\"coefficients\"], p, ot)
    want = (math.log(N / N0) * l1 - math.log(N / N1) * l0) / math.log(N1 / N0)
    assert abs(e[\"predicted\"] - want) < 1e-6 * max(1, abs(want)), (e, want)
u = d[\"evaluations\"][2]
assert abs(u[\"predicted\"] - d[\"predicted_uniform\"]) < 1e-9, (u, d[\"predicted_uniform\"])
"
'

test_expect_success 'plan --eval-mixture in the table; the same bytes at --threads 1 and 2' '
	"$WINNOW" sources plan -q --threads 1 $PLAN --eval-mixture 1,0 > t1 &&
	"$WINNOW" sources plan -q --threads 2 $PLAN --eval-mixture 1,0 > t2 &&
	cmp t1 t2 &&
	grep -q "^# at p = 1,0: predicted [0-9.-]* (OT [0-9.-]*), measured by the proxy 75.000000$" t1
'

test_expect_success 'plan --eval-mixture errors: wrong count, negative weight: exit 2 before any output' '
	"$WINNOW" sources plan $PLAN --eval-mixture 1 -o rep > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow sources plan: --eval-mixture needs 2 weights (one per --source) with a positive sum$" err &&
	! test -e rep &&
	"$WINNOW" sources plan $PLAN --eval-mixture 1.5,-0.5 > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow sources plan: --eval-mixture weight .-0.5. is negative$" err && [ ! -s out ]
'

test_done
