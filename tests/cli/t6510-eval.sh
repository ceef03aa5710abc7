#!/usr/bin/env bash
# t6510 — `winnow eval`: prune curves on a Debian slice (the first 600
# records of fixtures/debian-2000.jsonl, hashed embeddings, label section,
# EL2N from `winnow train`): the table's shape and budgets against python3,
# the JSON's statistics recomputed from its accuracies, every rule equal to
# random at fraction 1 (the same records, the same model seeds), the SVG a
# well-formed chart with its axes, band and one line per rule, the same
# bytes at 1 and 2 threads, and the usage and bad-input errors.
. "$(dirname "$0")/lib.sh"

head -600 "$(fixture debian-2000.jsonl)" > deb.jsonl
"$WINNOW" embed -q deb.jsonl | "$WINNOW" train -q --label section --epochs 4 > scored.jsonl

EV="--label section --by winnow.el2n --keep high,low --fracs 0.25,0.5,1 --repeats 3 --epochs 6 --lr 0.003"

test_expect_success 'the table: one row per fraction, budgets round(f n), a mean and sd per rule' '
	"$WINNOW" eval $EV --json c.json --svg c.svg --threads 1 scored.jsonl > t1 2> err &&
	grep -q "in 600, out 0, rejected 0" err &&
	python3 - <<-PY
	lines = open("t1").read().splitlines()
	assert lines[0].startswith("# winnow eval: held-out accuracy of a mlp proxy (6 epochs) on 120 held-out records"), lines[0]
	assert "kept by winnow.el2n from 480 training records; mean and sd over 3 repeats" in lines[0]
	assert lines[1].split() == ["frac", "records", "random_mean", "random_sd", "high_mean", "high_sd", "low_mean", "low_sd"], lines[1]
	rows = [l.split() for l in lines[2:]]
	assert [r[0] for r in rows] == ["0.25", "0.5", "1"], rows
	assert [int(r[1]) for r in rows] == [int(f * 480 + 0.5) for f in (0.25, 0.5, 1)]
	for r in rows:
	    assert len(r) == 8 and all(0 <= float(x) <= 1 for x in r[2:]), r
	PY
'

test_expect_success 'the report times the models: 3 rules x 3 fractions x 3 repeats, in a time >= 0' '
	"$WINNOW" eval $EV --threads 1 scored.jsonl > /dev/null 2> err &&
	t=$(sed -n "s/^winnow eval: 27 model(s) trained in \([0-9.]*\) s (steps and held-out accuracy; reading excluded)$/\1/p" err) &&
	python3 -c "import sys; assert float(sys.argv[1]) >= 0" "$t"
'

test_expect_success 'JSON: mean, sample sd, min, max recomputed from the accuracies; the table shows them' '
	python3 - <<-PY
	import json, statistics
	j = json.load(open("c.json"))
	assert (j["records"], j["train"], j["holdout"], j["repeats"], j["classes"]) == (600, 480, 120, 3, 45), j
	assert j["fracs"] == [0.25, 0.5, 1] and j["budget"] == [120, 240, 480]
	assert [c["keep"] for c in j["curves"]] == ["random", "high", "low"]
	rows = [l.split() for l in open("t1").read().splitlines()[2:]]
	for k, c in enumerate(j["curves"]):
	    for f, acc in enumerate(c["accuracy"]):
	        assert len(acc) == 3 and all(abs(a * 120 - round(a * 120)) < 1e-9 for a in acc), acc
	        assert abs(c["mean"][f] - statistics.mean(acc)) < 1e-12
	        assert abs(c["sd"][f] - statistics.stdev(acc)) < 1e-12
	        assert c["min"][f] == min(acc) and c["max"][f] == max(acc)
	        assert rows[f][2 + 2 * k] == "%.4f" % c["mean"][f], (rows[f], c["mean"][f])
	    # at fraction 1 every rule trains the same models on the same records
	    assert c["accuracy"][2] == j["curves"][0]["accuracy"][2], (c["keep"], c["accuracy"][2])
	r = j["curves"][0]
	assert r["max"][2] > 0.1, r  # 45 classes: above chance once all are kept
	PY
'

test_expect_success 'SVG: well-formed, axes labelled, the random band shaded, one line per rule' '
	python3 - <<-PY
	import xml.etree.ElementTree as ET
	ns = "{http://www.w3.org/2000/svg}"
	root = ET.parse("c.svg").getroot()
	texts = [t.text for t in root.iter(ns + "text")]
	assert "fraction of the training records kept" in texts and "held-out accuracy" in texts, texts
	assert any(t.startswith("Prune curve: section kept by winnow.el2n") for t in texts)
	band = [p for p in root.iter(ns + "polygon") if p.get("class") == "random-band"]
	assert len(band) == 1 and float(band[0].get("fill-opacity")) < 1
	assert len(band[0].get("points").split()) == 6
	lines = {p.get("class") for p in root.iter(ns + "polyline") if p.get("class")}
	assert lines == {"curve-random", "curve-high", "curve-low"}, lines
	PY
'

test_expect_success 'the same bytes at 2 threads and on a rerun; another seed differs' '
	"$WINNOW" eval -q $EV --json c2.json --svg c2.svg --threads 2 scored.jsonl > t2 &&
	cmp t1 t2 && cmp c.json c2.json && cmp c.svg c2.svg &&
	"$WINNOW" eval -q $EV --seed 4 scored.jsonl > t3 && ! cmp -s t1 t3
'

test_expect_success '--keep random alone needs no score; the table has the random columns only' '
	"$WINNOW" embed -q deb.jsonl > emb.jsonl &&
	"$WINNOW" eval -q --label section --keep random --fracs 0.5,1 --repeats 2 --epochs 2 emb.jsonl > t4 &&
	sed -n 2p t4 | grep -q "^frac  *records  *random_mean  *random_sd$" && [ "$(wc -l < t4)" -eq 4 ]
'

test_expect_success '--keep softmax,linear: the probabilistic keeps, equal to random at fraction 1' '
	"$WINNOW" eval -q --label section --by winnow.el2n --keep softmax,linear --temperature 0.5 \
		--eps 0.05 --fracs 0.5,1 --repeats 2 --epochs 3 --json p.json scored.jsonl > t5 &&
	sed -n 2p t5 | grep -q "random_mean  *random_sd  *softmax_mean  *softmax_sd  *linear_mean  *linear_sd$" &&
	python3 -c "
import json
j = json.load(open(\"p.json\"))
c = j[\"curves\"]
assert [x[\"keep\"] for x in c] == [\"random\", \"softmax\", \"linear\"]
assert c[1][\"accuracy\"][1] == c[0][\"accuracy\"][1] == c[2][\"accuracy\"][1]"
'

test_expect_success 'a recipe embed -> train -> eval: the table of its shell pipeline' '
	printf "winnow: 1\nseed: 2\ninputs: [deb.jsonl]\nsteps:\n  - embed: {}\n  - train: {label: section, epochs: 2, holdout: 0.2}\n  - eval: {label: section, by: winnow.aum, keep: low, fracs: \"0.5,1\", repeats: 2, epochs: 2}\noutput: {jsonl: r.txt}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" embed -q deb.jsonl | "$WINNOW" train -q --label section --epochs 2 --holdout 0.2 --seed 2 |
		"$WINNOW" eval -q --label section --by winnow.aum --keep low --fracs 0.5,1 --repeats 2 --epochs 2 --seed 2 > s.txt &&
	[ "$(wc -l < r.txt)" -eq 4 ] && cmp r.txt s.txt
'

test_expect_success 'usage errors exit 2 with one line, before any output' '
	"$WINNOW" eval --label section scored.jsonl --json u.json 2> e1; r1=$?
	"$WINNOW" eval --label section --by winnow.el2n --fracs 0.5,0.2 scored.jsonl 2> e2; r2=$?
	"$WINNOW" eval --label section --by winnow.el2n --keep top scored.jsonl 2> e3; r3=$?
	"$WINNOW" eval --label section --by winnow.el2n --holdout 1 scored.jsonl 2> e4; r4=$?
	"$WINNOW" eval --by winnow.el2n scored.jsonl 2> e5; r5=$?
	"$WINNOW" eval --label section --by winnow.el2n --repeats 0 scored.jsonl 2> e6; r6=$?
	"$WINNOW" eval --label section --by winnow.el2n --keep softmax --temperature 0 scored.jsonl 2> e7; r7=$?
	"$WINNOW" eval --label section --by winnow.el2n --keep linear --eps 0 scored.jsonl 2> e8; r8=$?
	test $r1 = 2 && grep -q "^winnow eval: --keep high needs --by SCORE" e1 && [ ! -e u.json ] &&
	test $r2 = 2 && grep -q "^winnow eval: --fracs .0.5,0.2.: fractions must increase" e2 &&
	test $r3 = 2 && grep -q "^winnow eval: --keep .top.: each rule is high, low, softmax, linear or random" e3 &&
	test $r4 = 2 && grep -q "^winnow eval: --holdout FRAC must be in (0, 1)" e4 &&
	test $r5 = 2 && grep -q "^winnow eval: --label FIELD is required" e5 &&
	test $r6 = 2 && grep -q "^winnow eval: --repeats must be in 1..1000" e6 &&
	test $r7 = 2 && grep -q "^winnow eval: --temperature must be a positive number" e7 &&
	test $r8 = 2 && grep -q "^winnow eval: --eps must be in (0, 1\]" e8
'

test_expect_success 'a record without the score: positioned error (exit 1), nothing written; skip drops it' '
	sed "5s/\"el2n\":[^,]*,//" scored.jsonl > nos.jsonl &&
	"$WINNOW" eval $EV --json n.json nos.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow eval: nos.jsonl:5: no score at winnow.el2n$" err &&
	[ ! -s out ] && [ ! -e n.json ] &&
	"$WINNOW" eval $EV --on-error skip --repeats 1 nos.jsonl > out 2> err &&
	grep -q "in 600, out 0, rejected 1" err && grep -q "on 119 held-out records" out
'

test_expect_success 'a fraction too small for the pool, and one class only: exit 1 with the reason' '
	"$WINNOW" eval --label section --by winnow.el2n --fracs 0.001,1 scored.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow eval: scored.jsonl: --fracs 0.001 keeps no record of the 480 to train on$" err &&
	grep "\"section\": \"devel\"" scored.jsonl > one.jsonl &&
	"$WINNOW" eval --label section --by winnow.el2n one.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow eval: one.jsonl: --label section has one class only (.devel. on 83 records)$" err
'

test_done
