#!/usr/bin/env bash
# t8100 — `winnow coreset` on 500 real records scored by `winnow score
# leverage` (Σ τ = 24): with replacement, Σ winnow.count = M and
# winnow.weight = count · Σs / (M s_i), by hand from the records' own
# winnow.leverage (python3 peer); --pps weights 1/π_i = Σs / (M s_i) (no
# certainty item: M · max τ / 24 < 1); kept records byte-identical and in
# input order; seeds and threads; bad weights under --on-error; usage errors.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"

test_expect_success 'setup: leverage scores' '
	"$WINNOW" score leverage -q "$F" > scored.jsonl && [ "$(wc -l < scored.jsonl)" -eq 500 ]
'

# check_weights M MODE OUT: the weights by hand, the records a subsequence of scored.jsonl
check_weights() {
	python3 -c "
import json, re, sys
m, mode, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
src = [l.rstrip(\"\\n\") for l in open(\"scored.jsonl\")]
S = sum(json.loads(l)[\"winnow\"][\"leverage\"] for l in src)
pos, total = 0, 0
for line in open(out):
    line = line.rstrip(\"\\n\")
    w = json.loads(line)[\"winnow\"]
    c = w.get(\"count\", 1)
    want = c * S / (m * w[\"leverage\"])
    assert abs(w[\"weight\"] - want) <= 1e-12 * want, (w, want)
    total += c
    bare = re.sub(r\"(,\\\"count\\\":[0-9]+)?,\\\"weight\\\":[-0-9.e]+}}$\", \"}}\", line)
    while src[pos] != bare:
        pos += 1  # IndexError: not a subsequence in input order
    pos += 1
assert total == m, (total, m)
assert (\"count\" in w) == (mode == \"with\"), w
" "$@"
}

test_expect_success 'with replacement: counts sum to M, weight = count/(M p), records unchanged in order' '
	"$WINNOW" coreset --sample 100 --weights winnow.leverage --stats s.json scored.jsonl > out 2> err &&
	check_weights 100 with out &&
	n=$(wc -l < out) && jq -e ".distinct == $n and .sample == 100 and .n == 500 and .effective_sample_size > 0
		and .effective_sample_size <= 100 and .mode == \"with replacement\"" s.json &&
	grep -q "^winnow coreset: 100 draws (with replacement) from 500 records by winnow.leverage: $n distinct, effective sample size" err &&
	grep -q "in 500, out $n, rejected 0" err
'

test_expect_success '--pps: M records, weight = 1/pi = sum(s)/(M s_i)' '
	"$WINNOW" coreset -q --sample 100 --weights winnow.leverage --pps scored.jsonl > out &&
	[ "$(wc -l < out)" -eq 100 ] && check_weights 100 pps out
'

test_expect_success '--without-replacement: M distinct records, weight 1/(M p)' '
	"$WINNOW" coreset -q --sample 60 --weights winnow.leverage --without-replacement scored.jsonl > out &&
	[ "$(wc -l < out)" -eq 60 ] && check_weights 60 without out
'

test_expect_success 'same seed: same bytes (at 1 and 2 threads); another seed: another sample' '
	"$WINNOW" coreset -q --sample 300 --weights winnow.leverage --seed 4 --threads 1 scored.jsonl > a &&
	"$WINNOW" coreset -q --sample 300 --weights winnow.leverage --seed 4 --threads 2 scored.jsonl > b &&
	"$WINNOW" coreset -q --sample 300 --weights winnow.leverage --seed 5 scored.jsonl > c &&
	cmp a b && ! cmp -s a c
'

test_expect_success 'a record without the weight: exit 1 positioned; skip draws from the rest' '
	{ sed -n 1,6p scored.jsonl; echo "{\"id\":\"x\"}"; sed -n 7,500p scored.jsonl; } > in.jsonl &&
	"$WINNOW" coreset --sample 10 --weights winnow.leverage in.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow coreset: in.jsonl:7: missing .winnow.leverage. (--weights)" err &&
	"$WINNOW" coreset --sample 10 --weights winnow.leverage --on-error skip in.jsonl > out 2> err &&
	grep -q "rejected 1" err && "$WINNOW" coreset -q --sample 10 --weights winnow.leverage scored.jsonl | cmp - out
'

test_expect_success 'all weights 0: exit 1 with the message' '
	printf "{\"winnow\":{\"s\":0}}\n{\"winnow\":{\"s\":0}}\n" > z.jsonl &&
	"$WINNOW" coreset --sample 1 --weights winnow.s z.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "every sensitivity is 0: nothing to draw" err && [ ! -s out ]
'

test_expect_success 'a recipe (score lewis, coreset) gives the bytes of the pipeline' '
	printf "winnow: 1\nseed: 3\ninputs: [%s]\nsteps:\n  - score lewis: {p: 1}\n  - coreset: {sample: 40, weights: winnow.lewis}\noutput: {jsonl: core.jsonl}\n" "$F" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	"$WINNOW" score lewis -q --p 1 "$F" | "$WINNOW" coreset -q --sample 40 --weights winnow.lewis --seed 3 > pipe.jsonl &&
	cmp pipe.jsonl core.jsonl && [ -s core.jsonl ]
'

test_expect_success 'usage errors: exit 2 with the message' '
	"$WINNOW" coreset --weights winnow.leverage scored.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow coreset: --sample M is required" err &&
	"$WINNOW" coreset --sample 5 scored.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow coreset: --weights PATH is required" err &&
	"$WINNOW" coreset --sample 5 --weights winnow.leverage --pps --without-replacement scored.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "exclude each other" err
'

test_done
