#!/usr/bin/env bash
# t9000 — `winnow sources qqt|ot|plan` (issue 21).
# qqt: pilots made from the model itself (fixtures/sources/qqt_pilots*.txt,
# generated with the issue's (b, tau) = (-0.25, 3), (-0.15, 6)): the fit
# recovers them with residual ~0 and the projection prints the issue's
# worked values (38.4M: top-1 0.712901 < top-2 0.750223; 640M: 0.641455 >
# 0.545493); with a fitted, a is the grid's a the pilots were made with;
# bad pilot rows name file:line and exit 1; usage errors exit 2.
. "$(dirname "$0")/lib.sh"
P="$WINNOW_ROOT/fixtures/sources/qqt_pilots.txt"
PA="$WINNOW_ROOT/fixtures/sources/qqt_pilots_fit_a.txt"

test_expect_success 'qqt table: the fit and the worked values of the issue' '
	"$WINNOW" sources qqt -q --pilots "$P" --budget 38.4M,640M --pool-size 12.8M --a 0.022 > out &&
	grep -q "^1	q1	-0.25	3	" out &&
	grep -q "^2	q2	-0.15	6	" out &&
	grep -q "^38400000	0.712901	0.750223	1	0.5$" out &&
	grep -q "^640000000	0.641455	0.545493	2	1$" out
'

test_expect_success 'qqt --json: values, best k, pools and frac; a fitted on the grid' '
	"$WINNOW" sources qqt -q --pilots "$PA" --budget 38.4M,640M --pool-size 12.8M --json > out.json &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
ga = 0.0001 + (0.2 - 0.0001) * 10 / 99
assert d[\"a_fitted\"] and abs(d[\"a\"] - ga) < 1e-15, d[\"a\"]
assert [p[\"pool\"] for p in d[\"pools\"]] == [\"top\", \"mid\", \"low\"], d[\"pools\"]
assert [(p[\"b\"], p[\"tau\"]) for p in d[\"pools\"]] == [(-0.25, 3), (-0.15, 6), (-0.05, 2)]
assert all(p[\"sse\"] < 1e-20 for p in d[\"pools\"])
b0, b1 = d[\"budgets\"]
assert b0[\"best_k\"] == 1 and b0[\"pools\"] == [\"top\"] and abs(b0[\"frac\"] - 1/3) < 1e-15
assert b1[\"best_k\"] == 2 and b1[\"pools\"] == [\"top\", \"mid\"]
assert min(b1[\"error\"]) == b1[\"error\"][1]
"
'

test_expect_success 'qqt: same seed, same bytes; -o writes the same report' '
	"$WINNOW" sources qqt -q --pilots "$P" --budget 64M --pool-size 12.8M --a 0.022 --seed 3 > a &&
	"$WINNOW" sources qqt -q --pilots "$P" --budget 64M --pool-size 12.8M --a 0.022 --seed 3 -o b &&
	cmp a b
'

test_expect_success 'qqt: a bad pilot row names file:line, exit 1, no output file' '
	printf "# pool S n err\nq1 12800000 6400000 0.9\nq1 12800000 oops 0.8\n" > bad.txt &&
	"$WINNOW" sources qqt --pilots bad.txt --budget 64M --pool-size 12.8M -o rep > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "winnow sources qqt: bad.txt:3: samples seen .oops. is not a whole number" err &&
	! test -e rep
'

test_expect_success 'qqt: wrong field count names the line' '
	printf "q1 12800000 6400000\n" > short.txt &&
	"$WINNOW" sources qqt --pilots short.txt --budget 64M --pool-size 12.8M > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "short.txt:1: expected 4 fields" err
'

test_expect_success 'qqt: a missing pilots file, exit 1' '
	"$WINNOW" sources qqt --pilots nope.txt --budget 64M --pool-size 1M > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "nope.txt: No such file" err
'

test_expect_success 'qqt usage errors exit 2 before any output' '
	"$WINNOW" sources qqt --budget 64M --pool-size 1M -o rep > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "\-\-pilots FILE is required" err && ! test -e rep &&
	"$WINNOW" sources qqt --pilots "$P" --pool-size 1M > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "\-\-budget SAMPLES is required" err &&
	"$WINNOW" sources qqt --pilots "$P" --budget 64M,x --pool-size 1M > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "\-\-budget .x. is not a whole number" err &&
	"$WINNOW" sources qqt --pilots "$P" --budget 64M > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "\-\-pool-size SAMPLES is required" err &&
	"$WINNOW" sources qqt --pilots "$P" --budget 64M --pool-size 1M extra.jsonl > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "takes no input files" err
'

test_done
