#!/usr/bin/env bash
# t8000 — `winnow score leverage|lewis|kmeans-sensitivity` on 500 real
# records (Debian descriptions with 24-dim vectors in winnow.emb, see
# fixtures/cluster/README), against a float64 peer in python3's standard
# library (tests/peers/sensitivity_peer.py): the scores, Σ τ = rank and
# Σ w = d on stderr, other bytes unchanged, --npy = winnow.emb, identical
# bytes at 1 and 2 threads, a rank-deficient hand example, bad vectors under
# --on-error, and usage and runtime errors with their exit codes and messages.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
NPY="$WINNOW_ROOT/fixtures/cluster/debian-500.npy"
PEER="$WINNOW_ROOT/tests/peers/sensitivity_peer.py"

# close KEY TOL OUT PEERFILE: every winnow.KEY in OUT within TOL (relative) of the peer's value
close() {
	python3 -c "
import json, sys
key, tol = sys.argv[1], float(sys.argv[2])
got = [json.loads(l)[\"winnow\"][key] for l in open(sys.argv[3])]
want = [float(x) for x in open(sys.argv[4])]
assert len(got) == len(want) == 500, (len(got), len(want))
worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
assert worst <= tol, (key, worst, tol)
" "$@"
}
# strip KEY OUT: OUT without the spliced winnow.KEY member
strip() { sed "s/,\"$1\":[-0-9.e]*}}\$/}}/" "$2"; }

test_expect_success 'leverage: the peer to 1e-9, rank 24 and sum 24 on stderr, other bytes unchanged' '
	"$WINNOW" score leverage "$F" > out 2> err &&
	python3 "$PEER" leverage "$F" > peer && close leverage 1e-9 out peer &&
	strip leverage out | cmp - "$F" &&
	grep -q "^winnow score leverage: 500 vectors of dim 24: rank 24 (cholesky), ridge 0, sum of scores 24$" err &&
	grep -q "in 500, out 500, rejected 0" err
'

test_expect_success 'ridge leverage: the peer to 1e-9, and a sum below the rank' '
	"$WINNOW" score leverage --ridge 1 --stats s.json "$F" > out 2> err &&
	python3 "$PEER" ridge 1 "$F" > peer && close leverage 1e-9 out peer &&
	jq -e ".ridge == 1 and .rank == 24 and .sum < 24 and .sum > 0 and .n == 500" s.json
'

test_expect_success 'lewis p=1.5: the Cohen-Peng peer to 1e-6, sum of weights 24, iterations reported' '
	"$WINNOW" score lewis --p 1.5 --stats s.json "$F" > out 2> err &&
	python3 "$PEER" lewis 1.5 "$F" > peer && close lewis 1e-6 out peer &&
	grep -q "p 1.5, [0-9]* iterations (Cohen-Peng), relative change .* <= 1e-12, rank 24, sum of weights 24$" err &&
	jq -e ".iterations > 1 and .relative_change <= 1e-12 and (.sum - 24 | fabs) < 1e-9 and .iteration == \"cohen-peng\"" s.json
'

test_expect_success 'lewis p=6 converges by the averaged iteration, sum 24; --bound scales by 24^2' '
	"$WINNOW" score lewis --p 6 "$F" > out 2> err &&
	grep -q "p 6, [0-9]* iterations (averaged), relative change .* <= 1e-12, rank 24, sum of weights 24$" err &&
	"$WINNOW" score lewis -q --p 6 --bound "$F" > bound &&
	python3 -c "
import json
w = [json.loads(l)[\"winnow\"][\"lewis\"] for l in open(\"out\")]
b = [json.loads(l)[\"winnow\"][\"lewis\"] for l in open(\"bound\")]
assert abs(sum(w) - 24) < 1e-9, sum(w)
assert max(abs(y - 576 * x) / y for x, y in zip(w, b)) < 1e-14
"
'

test_expect_success 'lewis: too few iterations is exit 1 with the message, nothing written' '
	"$WINNOW" score lewis --p 1 --max-iter 2 "$F" > out 2> err; rc=$?
	test $rc = 1 && grep -q "did not converge in 2 iterations" err && [ ! -s out ]
'

test_expect_success 'kmeans-sensitivity: the lightweight q of the peer to 1e-9, sum 1' '
	"$WINNOW" score kmeans-sensitivity "$F" > out 2> err &&
	python3 "$PEER" q "$F" > peer && close kmeans_sensitivity 1e-9 out peer &&
	strip kmeans_sensitivity out | cmp - "$F" && grep -q "lightweight q, sum 1$" err
'

test_expect_success 'kmeans-sensitivity --bicriteria: the peer from the reported centres to 1e-9' '
	"$WINNOW" score kmeans-sensitivity --bicriteria -k 7 --seed 3 --stats s.json "$F" > out 2> err &&
	jq -e ".bound == \"bicriteria\" and (.centers | length) == 7 and (.centers | unique | length) == 7" s.json &&
	python3 "$PEER" bicriteria "$(jq -r ".centers | map(tostring) | join(\",\")" s.json)" "$F" > peer &&
	close kmeans_sensitivity 1e-9 out peer &&
	grep -q "bicriteria bound from 7 k-means++ centres (k 7, seed 3), sum 1$" err &&
	"$WINNOW" score kmeans-sensitivity -q --bicriteria -k 7 --seed 4 --stats s4.json "$F" > /dev/null &&
	! cmp -s s.json s4.json
'

test_expect_success 'kmeans-sensitivity: -k without --bicriteria and --bicriteria without -k are usage errors' '
	"$WINNOW" score kmeans-sensitivity -k 3 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score kmeans-sensitivity: -k goes with --bicriteria" err &&
	"$WINNOW" score kmeans-sensitivity --bicriteria "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score kmeans-sensitivity: --bicriteria needs -k K" err
'

test_expect_success '--npy gives the same bytes as winnow.emb' '
	"$WINNOW" score leverage -q "$F" > a && "$WINNOW" score leverage -q --npy "$NPY" "$F" > b && cmp a b &&
	"$WINNOW" score lewis -q --p 3 "$F" > a && "$WINNOW" score lewis -q --p 3 --npy "$NPY" "$F" > b && cmp a b
'

test_expect_success 'thread count does not change the output' '
	for s in "leverage --ridge 0.5" "lewis --p 3" "lewis --p 4" kmeans-sensitivity \
		"kmeans-sensitivity --bicriteria -k 9"; do
		"$WINNOW" score $s -q --threads 1 "$F" > a &&
		"$WINNOW" score $s -q --threads 2 "$F" > b &&
		OMP_NUM_THREADS=3 OPENBLAS_NUM_THREADS=3 "$WINNOW" score $s -q "$F" > c &&
		cmp a b && cmp a c || return 1
	done
'

# vec X Y: a record with the 2-dim float32 vector (X, Y)
vec() { printf "{\"winnow\":{\"emb\":{\"dim\":2,\"dtype\":\"f32\",\"b64\":\"%s\"}}}\n" \
	"$(python3 -c "import base64, struct, sys; print(base64.b64encode(struct.pack(\"<2f\", $1, $2)).decode())")"; }

# by hand: rows (1,2), (2,4), (3,6) span one direction: τ_i = |a_i|² / Σ|a_j|² = 1/14, 4/14, 9/14
test_expect_success 'rank-deficient vectors: the eigen solve, rank 1, the hand values' '
	{ vec 1 2; vec 2 4; vec 3 6; } > rd.jsonl &&
	"$WINNOW" score leverage rd.jsonl > out 2> err &&
	grep -q "rank 1 (eigen, rank-deficient), ridge 0, sum of scores 1$" err &&
	python3 -c "
import json
t = [json.loads(l)[\"winnow\"][\"leverage\"] for l in open(\"out\")]
for g, w in zip(t, [1 / 14, 4 / 14, 9 / 14]):
    assert abs(g - w) <= 1e-12, (g, w)
assert len(t) == 3
"
'

# by hand: A = [[1,0],[1,0],[0,2],[0,1],[2,1]], AᵀA = [[6,2],[2,6]]: τ = 6,6,24,6,22 (/32)
test_expect_success 'the 5x2 hand example' '
	{ vec 1 0; vec 1 0; vec 0 2; vec 0 1; vec 2 1; } > h.jsonl &&
	"$WINNOW" score leverage -q h.jsonl > out &&
	python3 -c "
import json
t = [json.loads(l)[\"winnow\"][\"leverage\"] for l in open(\"out\")]
assert len(t) == 5
for g, w in zip(t, [6, 6, 24, 6, 22]):
    assert abs(g - w / 32) <= 1e-14, (g, w / 32)
"
'

nan_b64=$( { head -c 92 /dev/zero; printf '\000\000\300\177'; } | base64 -w0)
test_expect_success 'a NaN vector: exit 1 positioned; skip scores the other 499 as the peer does' '
	{ sed -n 1,2p "$F"; echo "{\"id\":\"nan\",\"winnow\":{\"emb\":{\"dim\":24,\"dtype\":\"f32\",\"b64\":\"$nan_b64\"}}}"; sed -n 4,500p "$F"; } > in.jsonl &&
	"$WINNOW" score leverage in.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow score leverage: in.jsonl:3: .*not finite" err &&
	"$WINNOW" score leverage --on-error skip in.jsonl > out 2> err &&
	grep -q "in 500, out 499, rejected 1" err && grep -q "rank 24 (cholesky)" err &&
	sed 3d in.jsonl > kept.jsonl && "$WINNOW" score leverage -q kept.jsonl | cmp - out
'

test_expect_success 'empty input: no records, exit 0' '
	: > empty.jsonl && "$WINNOW" score leverage empty.jsonl > out 2> err && [ ! -s out ] &&
	grep -q "in 0, out 0, rejected 0" err
'

test_expect_success 'usage errors: exit 2 with the message, before any output' '
	"$WINNOW" score lewis "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score lewis: --p P is required (P > 0)" err &&
	"$WINNOW" score lewis --p -1 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score lewis: --p must be a finite number > 0" err &&
	"$WINNOW" score leverage --ridge -1 -o o.jsonl "$F" 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score leverage: --ridge must be a finite number >= 0" err && [ ! -e o.jsonl ] &&
	"$WINNOW" score lewis --p 1 --tol 0 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "tol must be in (0, 1)" err
'

test_done
