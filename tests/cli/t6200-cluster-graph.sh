#!/usr/bin/env bash
# t6200 — `winnow cluster graph` on 500 real records: component ids numbered
# by first appearance, the extremes of the threshold (everything joined /
# nothing joined), flat and HNSW agree on small data, --stats sizes, and a
# brute-force all-pairs check of the components (python3 standard library).
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
NPY="$WINNOW_ROOT/fixtures/cluster/debian-500.npy"

test_expect_success 'components are numbered in order of first appearance' '
	"$WINNOW" cluster graph --threshold 0.5 --knn 10 "$F" > out 2> err &&
	[ "$(wc -l < out)" -eq 500 ] &&
	jq -r .winnow.component out | awk "BEGIN{m=-1} {if (\$1 > m+1) exit 1; if (\$1 > m) m = \$1}" &&
	[ "$(head -1 out | jq .winnow.component)" -eq 0 ] &&
	grep -q "kNN edges at cos >= 0.5 (FAISS flat)" err
'

test_expect_success 'threshold -1 with every neighbour joins everything; threshold 1 almost nothing' '
	"$WINNOW" cluster graph -q --threshold -1 --knn 499 "$F" | jq -r .winnow.component | sort -u > all &&
	[ "$(cat all)" = 0 ] &&
	"$WINNOW" cluster graph -q --threshold 1 --knn 5 --stats s.json "$F" > /dev/null &&
	jq -e ".components >= 490" s.json
'

test_expect_success 'the other bytes are untouched' '
	"$WINNOW" cluster graph -q --threshold 0.7 "$F" | sed "s/,\"component\":[0-9]*}}\$/}}/" | cmp - "$F"
'

test_expect_success 'flat, HNSW and the core agree on small data' '
	"$WINNOW" cluster graph -q --threshold 0.6 --knn 8 --index flat "$F" > a &&
	"$WINNOW" cluster graph -q --threshold 0.6 --knn 8 --index hnsw "$F" > b &&
	"$WINNOW" cluster graph -q --threshold 0.6 --knn 8 --engine core --device cpu "$F" > c &&
	cmp a b && cmp a c
'

test_expect_success '--stats: sizes sum to n, first records, edges' '
	"$WINNOW" cluster graph -q --threshold 0.6 --stats s.json "$F" > out &&
	jq -e "(.sizes | add) == 500 and (.sizes | length) == .components and .first[0] == 0
	       and .edges > 0 and .knn == 10" s.json &&
	[ "$(jq -r .winnow.component out | sort -u | wc -l)" -eq "$(jq .components s.json)" ]
'

# the all-pairs reference in python3's standard library (the .npy read by its
# format), so it runs where numpy is not installed
test_expect_success 'components equal a brute-force all-pairs check' '
	command -v python3 > /dev/null || skip_case "no python3"
	"$WINNOW" cluster graph -q --threshold 0.6 --knn 499 --npy "$NPY" "$F" | jq -r .winnow.component > ids &&
	python3 -c "
import struct, math, ast
raw = open(\"$NPY\", \"rb\").read()
assert raw[:6] == b\"\\x93NUMPY\"
hlen = struct.unpack(\"<H\", raw[8:10])[0]
hdr = ast.literal_eval(raw[10:10 + hlen].decode(\"latin1\"))
assert hdr[\"descr\"] == \"<f4\" and not hdr[\"fortran_order\"], hdr
n, d = hdr[\"shape\"]
v = struct.unpack(\"<%df\" % (n * d), raw[10 + hlen:10 + hlen + 4 * n * d])
X = []
for i in range(n):
    r = v[i * d:(i + 1) * d]; s = math.sqrt(sum(a * a for a in r)) or 1.0
    X.append([a / s for a in r])
parent = list(range(n))
def find(i):
    while parent[i] != i: i = parent[i]
    return i
for i in range(n):
    for j in range(i + 1, n):
        s = sum(a * b for a, b in zip(X[i], X[j]))
        assert abs(s - 0.6) >= 1e-5, \"a pair sits on the threshold\"
        if s >= 0.6:
            a, b = find(i), find(j)
            if a != b: parent[max(a, b)] = min(a, b)
roots = [find(i) for i in range(n)]; lab = {}; want = [lab.setdefault(r, len(lab)) for r in roots]
got = [int(l) for l in open(\"ids\")]
assert len(got) == n, len(got)
assert got == want, \"components differ\"
"
'

test_expect_failure_code 2 'missing threshold' '"$WINNOW" cluster graph "$F"'
test_expect_failure_code 2 'threshold out of range' '"$WINNOW" cluster graph --threshold 1.5 "$F"'
test_expect_failure_code 2 'unknown index' '"$WINNOW" cluster graph --threshold 0.5 --index ivf "$F"'
test_expect_success 'empty input: no records, no components' '
	: | "$WINNOW" cluster graph --threshold 0.5 > out 2> err && [ ! -s out ] && grep -q "in 0, out 0" err
'
test_done
