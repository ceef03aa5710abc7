#!/usr/bin/env bash
# t8210 — `winnow select volume --sample M` on 500 real records (24-dim
# vectors): with M = 24 = rank, each drawn record's winnow.dpp_p is its
# leverage score (`score leverage`, itself checked against the float64 peer
# in t8000) to 1e-9 and winnow.weight = 1/dpp_p; the draw is M distinct
# records in input order, other bytes unchanged; same seed same bytes at 1
# and 2 threads, another seed another draw; M above the rank is exit 1 with
# the message; usage errors. (The inclusion probabilities and the unbiased
# least squares are checked statistically in tests/unit/test_volume.c.)
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"

test_expect_success 'M = rank: dpp_p is the leverage score, weight = 1/dpp_p, 24 distinct records' '
	"$WINNOW" select volume --sample 24 --seed 2 --stats s.json "$F" > out 2> err &&
	"$WINNOW" score leverage -q "$F" > lev &&
	python3 -c "
import json
lev = {json.loads(l)[\"id\"]: json.loads(l)[\"winnow\"][\"leverage\"] for l in open(\"lev\")}
out = [json.loads(l) for l in open(\"out\")]
assert len(out) == 24 and len(set(r[\"id\"] for r in out)) == 24
for r in out:
    w = r[\"winnow\"]
    assert abs(w[\"dpp_p\"] - lev[r[\"id\"]]) <= 1e-9 * lev[r[\"id\"]], (w, lev[r[\"id\"]])
    assert abs(w[\"weight\"] * w[\"dpp_p\"] - 1) <= 1e-15
assert sorted(r[\"winnow\"][\"dpp_rank\"] for r in out) == list(range(1, 25))
ids = [json.loads(l)[\"id\"] for l in open(\"$F\")]
assert [r[\"id\"] for r in out] == [i for i in ids if i in set(r[\"id\"] for r in out)]
" &&
	jq -e ".rank == 24 and .sample == 24 and (.order | length) == 24 and (.singular_values | length) == 24" s.json &&
	grep -q "500 vectors of dim 24, rank 24: 24 drawn" err
'

test_expect_success 'other bytes unchanged' '
	"$WINNOW" select volume -q --sample 10 "$F" |
		sed "s/,\"dpp_rank\":[0-9]*,\"dpp_p\":[-0-9.e]*,\"weight\":[-0-9.e]*}}\$/}}/" > stripped &&
	grep -Fxf stripped "$F" | cmp - stripped && [ "$(wc -l < stripped)" -eq 10 ]
'

test_expect_success 'same seed same bytes at 1 and 2 threads; another seed another draw' '
	"$WINNOW" select volume -q --sample 12 --seed 5 --threads 1 "$F" > a &&
	"$WINNOW" select volume -q --sample 12 --seed 5 --threads 2 "$F" > b && cmp a b &&
	"$WINNOW" select volume -q --sample 12 --seed 6 "$F" > c && ! cmp -s a c
'

vec() { printf "{\"winnow\":{\"emb\":{\"dim\":2,\"dtype\":\"f32\",\"b64\":\"%s\"}}}\n" \
	"$(python3 -c "import base64, struct; print(base64.b64encode(struct.pack(\"<2f\", $1, $2)).decode())")"; }
test_expect_success 'M above the rank: exit 1 with the message, nothing written' '
	{ vec 1 2; vec 2 4; vec 3 6; } > rd.jsonl &&
	"$WINNOW" select volume --sample 2 rd.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow select volume: rd.jsonl: --sample 2 exceeds the rank 1 of the vectors" err &&
	"$WINNOW" select volume -q --sample 1 rd.jsonl | jq -e ".winnow.dpp_p > 0" > /dev/null
'

test_expect_success 'usage errors: exit 2 with the message' '
	"$WINNOW" select volume "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow select volume: --sample M is required (M >= 1)" err &&
	"$WINNOW" select volume --sample 3 --seed -1 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "seed must not be negative" err
'

test_expect_success 'a recipe (select volume) gives the bytes of the pipeline' '
	printf "winnow: 1\nseed: 4\ninputs: [%s]\nsteps:\n  - select volume: {sample: 9}\noutput: {jsonl: v.jsonl}\n" "$F" > r.yaml &&
	"$WINNOW" run -q r.yaml && "$WINNOW" select volume -q --sample 9 --seed 4 "$F" > pipe.jsonl &&
	cmp pipe.jsonl v.jsonl && [ "$(wc -l < v.jsonl)" -eq 9 ]
'

test_expect_success '--npy with a non-finite row: that record rejected, the rest as without it' '
	/usr/bin/python3 -c "
import base64, json, numpy as np
X = np.array([np.frombuffer(base64.b64decode(json.loads(l)[\"winnow\"][\"emb\"][\"b64\"]), \"<f4\") for l in open(\"$F\")])
Y = X.copy(); Y[7, 3] = np.nan; np.save(\"nan.npy\", Y); np.save(\"less.npy\", np.delete(X, 7, axis=0))
" && sed 8d "$F" > less.jsonl &&
	"$WINNOW" select volume --sample 10 --seed 3 --npy nan.npy --on-error skip "$F" > a.jsonl 2> err &&
	grep -q "debian-500-emb.jsonl:8: nan.npy: row 7: element 3 is not finite" err &&
	"$WINNOW" select volume --sample 10 --seed 3 -q --npy less.npy less.jsonl > b.jsonl &&
	cmp a.jsonl b.jsonl && [ -s a.jsonl ]
'

test_done
