#!/usr/bin/env bash
# t6540 — `winnow train --model gat` (GAIS, Rustamov et al. 2025): a graph
# attention proxy over class-keeping mini-batch kNN graphs, every record
# annotated with winnow.gais (the attention it receives). Separable 2-D
# points learned to full held-out accuracy; the Debian slice (hashed
# embeddings, label section) learned above the majority-class rate, the
# scores bounded by what attention can sum to (rows of attention sum to 1
# per head and layer: sum gais <= n H L), the original bytes kept; the same
# bytes at 1 and 2 threads, another seed other bytes; --graph lsh (single,
# multi-level, multi-view) learning the points and thread-independent; `winnow eval --by
# winnow.gais` runs its curve against random; usage and input errors with
# their exit codes and messages.
. "$(dirname "$0")/lib.sh"

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

test_expect_success 'separable points: held-out accuracy 1.0, every record scored' '
	"$WINNOW" train --label kind --model gat --batch 20 -k 4 --heads 2 --hidden 8 --epochs 40 \
		--lr 0.02 --holdout 0.25 pts.jsonl > out 2> err &&
	grep -q "^winnow train: run 1 epoch 40: train loss [0-9.]*, held-out accuracy 1.0000$" err &&
	grep -q "^winnow train: gat (2 layers, 2 heads) on 60 records of dim 2, 3 classes, mini-batches of 20 with 4 neighbours: 1 run(s)$" err &&
	grep -q "in 60, out 60, rejected 0" err &&
	python3 -c "
import json
ins = open(\"pts.jsonl\").read().splitlines()
outs = open(\"out\").read().splitlines()
assert len(outs) == 60
held, tot = 0, 0.0
for a, b in zip(ins, outs):
    assert b.startswith(a[:-2]), (a, b)
    w = json.loads(b)[\"winnow\"]
    assert set(w) <= {\"emb\", \"gais\", \"holdout\"}, w
    assert w[\"gais\"] >= 0
    held += w.get(\"holdout\", False)
    tot += w[\"gais\"]
assert held == 15, held
assert 0 < tot <= 60 * 2 * 2, tot
"
'

head -600 "$(fixture debian-2000.jsonl)" > deb.jsonl
"$WINNOW" embed -q deb.jsonl > emb.jsonl

test_expect_success 'debian slice: learned above the majority class, scores within their bound' '
	"$WINNOW" train --label section --model gat --batch 100 -k 5 --epochs 5 --lr 0.01 --holdout 0.2 \
		--threads 1 emb.jsonl > d1 2> err &&
	maj=$(sed -n "s/.*majority class .* has held-out accuracy \([0-9.]*\)$/\1/p" err) &&
	last=$(sed -n "s/^winnow train: run 1 epoch 5: .*held-out accuracy \([0-9.]*\)$/\1/p" err) &&
	python3 -c "assert float(\"$last\") > float(\"$maj\") + 0.05, (\"$last\", \"$maj\")" &&
	python3 -c "
import json
rows = [json.loads(l)[\"winnow\"] for l in open(\"d1\")]
assert len(rows) == 600
g = [r[\"gais\"] for r in rows]
assert min(g) >= 0 and 0 < sum(g) <= 600 * 4 * 2, sum(g)
assert len(set(g)) > 100
assert sum(r.get(\"holdout\", False) for r in rows) == 120
"
'

test_expect_success 'the same bytes at 1 and 2 threads, other bytes for another seed; --runs averages' '
	"$WINNOW" train -q --label section --model gat --batch 100 -k 5 --epochs 5 --lr 0.01 --holdout 0.2 \
		--threads 2 emb.jsonl > d2 &&
	test_cmp d1 d2 &&
	"$WINNOW" train -q --label section --model gat --batch 100 -k 5 --epochs 5 --lr 0.01 --holdout 0.2 \
		--seed 1 emb.jsonl > d3 &&
	! cmp -s d1 d3 &&
	"$WINNOW" train -q --label kind --model gat --batch 20 -k 4 --epochs 3 --runs 2 --threads 1 pts.jsonl > r1 &&
	"$WINNOW" train -q --label kind --model gat --batch 20 -k 4 --epochs 3 --runs 2 --threads 2 pts.jsonl > r2 &&
	test_cmp r1 r2
'

test_expect_success '--graph lsh: single and multi-level hashing learn, the same bytes at 1 and 2 threads' '
	"$WINNOW" train --label kind --model gat --graph lsh --bits 6 -k 4 --heads 2 --hidden 8 --epochs 40 \
		--lr 0.02 --holdout 0.25 pts.jsonl > out 2> err &&
	grep -q "^winnow train: run 1 epoch 40: train loss [0-9.]*, held-out accuracy 1.0000$" err &&
	grep -q "lsh buckets with 4 neighbours" err &&
	"$WINNOW" train -q --label section --model gat --graph lsh --bits 2 --levels 3 --batch 60 -k 5 \
		--epochs 3 --lr 0.01 --threads 1 emb.jsonl > h1 &&
	"$WINNOW" train -q --label section --model gat --graph lsh --bits 2 --levels 3 --batch 60 -k 5 \
		--epochs 3 --lr 0.01 --threads 2 emb.jsonl > h2 &&
	test_cmp h1 h2 &&
	"$WINNOW" train -q --label section --model gat --graph lsh --bits 2 --levels 1 --batch 60 -k 5 \
		--epochs 3 --lr 0.01 emb.jsonl > h3 &&
	! cmp -s h1 h3 &&
	test $(grep -c "\"gais\":[0-9]" h1) = 600 &&
	"$WINNOW" train -q --label section --model gat --graph lsh --bits 3 --views 3 -k 5 \
		--epochs 2 --lr 0.01 --threads 1 emb.jsonl > m1 &&
	"$WINNOW" train -q --label section --model gat --graph lsh --bits 3 --views 3 -k 5 \
		--epochs 2 --lr 0.01 --threads 2 emb.jsonl > m2 &&
	test_cmp m1 m2
'

test_expect_success 'winnow eval --by winnow.gais: the curve against random' '
	"$WINNOW" eval -q --label section --by winnow.gais --fracs 0.3,0.6,1 --keep high,low --repeats 2 \
		--epochs 3 d1 > curve &&
	grep -q "^frac *records *random_mean *random_sd *high_mean *high_sd *low_mean *low_sd$" curve &&
	test $(grep -c "^[0-9.]* *[0-9]* *0\.[0-9]*" curve) = 3
'

test_expect_success 'a recipe embed -> train (gat): the bytes of its shell pipeline' '
	printf "winnow: 1\nseed: 2\ninputs: [deb.jsonl]\nsteps:\n  - embed: {}\n  - train: {label: section, model: gat, graph: lsh, bits: 3, neighbours: 4, heads: 2, layers: 2, epochs: 2, holdout: 0.2}\noutput: {jsonl: r.jsonl}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" embed -q deb.jsonl | "$WINNOW" train -q --label section --model gat --graph lsh --bits 3 \
		-k 4 --heads 2 --layers 2 --epochs 2 --holdout 0.2 --seed 2 > s.jsonl &&
	test $(grep -c "\"gais\":" r.jsonl) = 600 && test_cmp r.jsonl s.jsonl
'

test_expect_success 'usage errors exit 2 before any output' '
	"$WINNOW" train --label kind --model gat --batch 20 -k 20 pts.jsonl > out 2> e1; r1=$? &&
	"$WINNOW" train --label kind --model gat --bits 4 pts.jsonl > out 2> e2; r2=$? &&
	"$WINNOW" train --label kind --model gat --heads 3 pts.jsonl > out 2> e3; r3=$? &&
	"$WINNOW" train --label kind -k 3 pts.jsonl > out 2> e4; r4=$? &&
	"$WINNOW" train --label kind --model gat --aum-threshold pts.jsonl > out 2> e5; r5=$? &&
	"$WINNOW" train --label kind --model gat --graph ring pts.jsonl > out 2> e6; r6=$? &&
	test $r1 = 2 && grep -q "^winnow train: -k 20 must be smaller than --batch 20" e1 &&
	test $r2 = 2 && grep -q "^winnow train: --bits, --levels and --views need --graph lsh$" e2 &&
	test $r3 = 2 && grep -q "^winnow train: --hidden 64 is not a multiple of --heads 3" e3 &&
	test $r4 = 2 && grep -q "^winnow train: --graph, -k, --heads and --layers need --model gat" e4 &&
	test $r5 = 2 && grep -q "^winnow train: --model gat writes winnow.gais only" e5 &&
	test $r6 = 2 && grep -q "^winnow train: unknown --graph .ring. (minibatch or lsh)$" e6 &&
	"$WINNOW" train --label kind --model gat --graph lsh --bits 31 pts.jsonl > out 2> e7; r7=$? &&
	test $r7 = 2 && grep -q "^winnow train: --bits must be 1 to 30, --levels 1 to 8 and --views 1 to 64$" e7 &&
	[ ! -s out ]
'

test_expect_success 'a record without a label: a positioned error, or skipped under --on-error skip' '
	(head -10 pts.jsonl; echo "{\"id\":98,\"winnow\":{\"emb\":[1,1]}}"; sed -n "11,60p" pts.jsonl) > nolab.jsonl &&
	"$WINNOW" train --label kind --model gat --batch 20 -k 3 --epochs 1 nolab.jsonl > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "^winnow train: nolab.jsonl:11: no label at kind$" err && [ ! -s out ] &&
	"$WINNOW" train -q --label kind --model gat --batch 20 -k 3 --epochs 1 --on-error skip nolab.jsonl > out 2> err &&
	grep -q "^winnow train: nolab.jsonl:11: no label at kind$" err &&
	test $(grep -c "\"gais\":" out) = 60
'

test_expect_success 'too few records for -k: a mini-batch too small, exit 1' '
	head -12 pts.jsonl > few.jsonl &&
	"$WINNOW" train --label kind --model gat --batch 10 -k 8 few.jsonl > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "^winnow train: few.jsonl: mini-batch 1 of 2 has 6 records: -k 8 needs at least 9 (lower -k or raise --batch)$" err &&
	[ ! -s out ] &&
	head -5 pts.jsonl > five.jsonl &&
	"$WINNOW" train --label kind --model gat --batch 10 -k 8 five.jsonl > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "^winnow train: five.jsonl: -k 8 needs more than 5 records$" err
'

test_done
