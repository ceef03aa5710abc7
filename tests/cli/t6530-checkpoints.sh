#!/usr/bin/env bash
# t6530 — `winnow train --save-checkpoints DIR` / `--from-checkpoints DIR`:
# the files (one per run and epoch, epoch 0 the initial weights, and PVI's
# null model) read by a python3 safetensors parser written here from the
# format's rules, every score recomputed from them to the same bytes as
# the training run, and the errors: another model shape (both named),
# fewer epochs saved than asked, the two options together, --log-every.
. "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import json
state = 12345
def u():
    global state
    state = (1103515245 * state + 12345) % 2**31
    return state / 2**31 - 0.5
centres = {"b": (3.0, 0.0), "a": (-1.5, 2.6), "c": (-1.5, -2.6)}
with open("pts.jsonl", "w") as f:
    for i in range(60):
        lab = "bac"[(i * 7) % 3]
        cx, cy = centres[lab]
        v = [round(cx + u(), 4), round(cy + u(), 4)]
        print(json.dumps({"id": i, "kind": lab, "winnow": {"emb": v}}, separators=(",", ":")), file=f)
PY

TR="--label kind --hidden 16 --epochs 4 --runs 2 --holdout 0.2 --vog-std --lr 0.01"

test_expect_success 'the files: one per run and epoch and a null model, valid safetensors of the model shape' '
	"$WINNOW" train -q $TR --save-checkpoints ck pts.jsonl > a &&
	[ "$(ls ck | wc -l)" -eq 12 ] &&
	python3 - <<-\PY
	import json, os, struct
	for r in range(2):
	    for e in list(range(5)) + ["null"]:
	        name = "ck/run%d-%s.safetensors" % (r, "null" if e == "null" else "epoch%d" % e)
	        b = open(name, "rb").read()
	        n = struct.unpack("<Q", b[:8])[0]
	        assert n % 8 == 0, n
	        h = json.loads(b[8:8 + n])
	        meta = h.pop("__metadata__")
	        d = 1 if e == "null" else 2
	        assert meta == {"format": "winnow-proxy", "d_in": str(d), "hidden": "16", "classes": "3", "act": "0",
	                        "labels": json.dumps(["a", "b", "c"], separators=(",", ":"))}, meta
	        want = {"W1": [d, 16], "b1": [16], "W2": [16, 3], "b2": [3]}
	        assert {k: v["shape"] for k, v in h.items()} == want, h
	        end = 0
	        for k in ("W1", "b1", "W2", "b2"):
	            lo, hi = h[k]["data_offsets"]
	            size = 1
	            for x in want[k]:
	                size *= x
	            assert h[k]["dtype"] == "F32" and lo == end and hi - lo == 4 * size
	            end = hi
	        assert len(b) == 8 + n + end, (len(b), n, end)
	        vals = struct.unpack("<%df" % (end // 4), b[8 + n:])
	        assert all(v == v for v in vals)
	# training moved the weights between epochs
	assert open("ck/run0-epoch0.safetensors", "rb").read() != open("ck/run0-epoch4.safetensors", "rb").read()
	PY
'

test_expect_success '--from-checkpoints: every score recomputed to the same bytes, no training' '
	"$WINNOW" train $TR --from-checkpoints ck pts.jsonl > b 2> err &&
	cmp a b && grep -q "^winnow train: run 2 epoch 4: held-out accuracy [0-9.]*$" err &&
	! grep -q "train loss" err &&
	"$WINNOW" train -q $TR --from-checkpoints ck --threads 1 pts.jsonl | cmp - a
'

test_expect_success 'checkpoints of another model shape: exit 1 naming both shapes' '
	"$WINNOW" train --label kind --hidden 8 --epochs 4 --runs 2 --holdout 0.2 --from-checkpoints ck pts.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "ck/run0-epoch0.safetensors: a model of input 2, hidden 16, 3 classes, act 0; this run.s is input 2, hidden 8, 3 classes, act 0" err &&
	[ ! -s out ] &&
	"$WINNOW" train --label kind --model linear --epochs 4 --from-checkpoints ck pts.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "hidden 16, 3 classes, act 0; this run.s is input 2, hidden 0" err
'

test_expect_success 'checkpoints of other classes (same count): exit 1 naming both label sets' '
	sed "s/\"kind\":\"a\"/\"kind\":\"x\"/" pts.jsonl > relab.jsonl &&
	"$WINNOW" train $TR --from-checkpoints ck relab.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "ck/run0-epoch0.safetensors: trained on the classes \[\"a\",\"b\",\"c\"\]; this run.s are \[\"b\",\"c\",\"x\"\]" err &&
	[ ! -s out ]
'

test_expect_success 'more epochs or runs than were saved: exit 1 naming the missing file' '
	"$WINNOW" train $TR --epochs 5 --from-checkpoints ck pts.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "ck/run0-epoch5.safetensors" err && [ ! -s out ] &&
	"$WINNOW" train $TR --runs 3 --from-checkpoints ck pts.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "ck/run2-epoch0.safetensors" err
'

test_expect_success 'a checkpoint dir that is a file: exit 1; usage errors exit 2' '
	echo x > afile &&
	"$WINNOW" train $TR --save-checkpoints afile pts.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "afile: cannot make the checkpoint directory: a file of that name exists" err &&
	"$WINNOW" train $TR --save-checkpoints ck --from-checkpoints ck pts.jsonl 2> e1; r1=$?
	"$WINNOW" train $TR --from-checkpoints ck --log-every 3 pts.jsonl 2> e2; r2=$?
	test $r1 = 2 && grep -q "^winnow train: --save-checkpoints and --from-checkpoints do not combine" e1 &&
	test $r2 = 2 && grep -q "^winnow train: --from-checkpoints evaluates once per epoch: no --log-every" e2
'

test_done
