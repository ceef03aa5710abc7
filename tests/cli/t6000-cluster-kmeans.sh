#!/usr/bin/env bash
# t6000 — `winnow cluster kmeans` on 500 real records (Debian package
# descriptions with 24-dim hashed bag-of-words vectors in winnow.emb, see
# fixtures/cluster/README): annotations spliced without touching other bytes,
# reruns and thread counts give identical bytes, reused centroids keep the
# ids, --npy matches winnow.emb, --stats is consistent, bad vectors are
# positioned errors under --on-error, k > n and usage errors exit 1 and 2.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
NPY="$WINNOW_ROOT/fixtures/cluster/debian-500.npy"

# A record whose 24-dim vector holds a NaN, and one of dimension 2.
nan_b64=$( { head -c 92 /dev/zero; printf '\000\000\300\177'; } | base64 -w0)
two_b64=$( { printf '\000\000\200\077\000\000\200\077'; } | base64 -w0)

test_expect_success 'every record gets cluster in [0,k) and dist >= 0; other bytes unchanged' '
	"$WINNOW" cluster kmeans -k 12 --seed 1 "$F" > out 2> err &&
	[ "$(wc -l < out)" -eq 500 ] &&
	jq "select(.winnow.cluster < 0 or .winnow.cluster >= 12 or .winnow.dist < 0)" out > bad && [ ! -s bad ] &&
	[ "$(jq -r .winnow.cluster out | sort -u | wc -l)" -eq 12 ] &&
	sed "s/,\"cluster\":[0-9]*,\"dist\":[-0-9.e]*}}\$/}}/" out | cmp - "$F" &&
	grep -q "^winnow cluster kmeans: k 12 on 500 vectors of dim 24 (faiss" err &&
	grep -q "in 500, out 500, rejected 0" err
'

# the check reads the .npy by its format (magic, header dict, little-endian
# float32 rows) with python3's standard library only, so it runs without numpy
test_expect_success 'dist is the Euclidean distance to the centroid written by --centroids-out' '
	command -v python3 > /dev/null || skip_case "no python3"
	"$WINNOW" cluster kmeans -q -k 7 --seed 2 --centroids-out c.npy "$F" > out &&
	python3 -c "
import json, base64, struct, math, ast
raw = open(\"c.npy\", \"rb\").read()
assert raw[:8] == b\"\\x93NUMPY\\x01\\x00\", raw[:8]
hlen = struct.unpack(\"<H\", raw[8:10])[0]
hdr = ast.literal_eval(raw[10:10 + hlen].decode(\"latin1\"))
assert hdr == {\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (7, 24)}, hdr
data = raw[10 + hlen:]
assert len(data) == 7 * 24 * 4, len(data)
C = [struct.unpack_from(\"<24f\", data, 96 * i) for i in range(7)]
n = 0
for line in open(\"out\"):
    w = json.loads(line)[\"winnow\"]
    x = struct.unpack(\"<24f\", base64.b64decode(w[\"emb\"][\"b64\"]))
    d = [math.sqrt(sum((c - v) ** 2 for c, v in zip(row, x))) for row in C]
    assert abs(d[w[\"cluster\"]] - w[\"dist\"]) < 1e-5, (d[w[\"cluster\"]], w[\"dist\"])
    assert d[w[\"cluster\"]] <= min(d) + 1e-6
    n += 1
assert n == 500, n
"
'

test_expect_success 'same seed: identical bytes; other seed: other clusters' '
	"$WINNOW" cluster kmeans -q -k 12 --seed 5 "$F" > a &&
	"$WINNOW" cluster kmeans -q -k 12 --seed 5 "$F" > b &&
	"$WINNOW" cluster kmeans -q -k 12 --seed 6 "$F" > c &&
	cmp a b && ! cmp -s a c
'

test_expect_success 'thread count does not change the output' '
	"$WINNOW" cluster kmeans -q -k 20 --seed 3 --threads 1 "$F" > a &&
	"$WINNOW" cluster kmeans -q -k 20 --seed 3 --threads 2 "$F" > b &&
	OMP_NUM_THREADS=3 OPENBLAS_NUM_THREADS=3 "$WINNOW" cluster kmeans -q -k 20 --seed 3 "$F" > c &&
	cmp a b && cmp a c
'

test_expect_success 'reused centroids give the same ids, also on another batch' '
	"$WINNOW" cluster kmeans -q -k 15 --seed 4 --centroids-out day1.npy "$F" > day1 &&
	"$WINNOW" cluster kmeans -q --centroids day1.npy "$F" > again &&
	cmp day1 again &&
	sed -n "200,300p" "$F" | "$WINNOW" cluster kmeans -q --centroids day1.npy > part &&
	sed -n "200,300p" day1 | cmp - part
'

test_expect_success '--npy gives the same clusters as winnow.emb' '
	"$WINNOW" cluster kmeans -q -k 10 --seed 8 "$F" | jq -c .winnow.cluster > a &&
	"$WINNOW" cluster kmeans -q -k 10 --seed 8 --npy "$NPY" "$F" | jq -c .winnow.cluster > b &&
	cmp a b
'

test_expect_success '--stats: k sizes summing to n, inertia, engine; --max-train' '
	"$WINNOW" cluster kmeans -q -k 9 --max-train 200 --stats s.json "$F" > /dev/null &&
	jq -e ".k == 9 and .n == 500 and .dim == 24 and .n_train == 200 and (.sizes | length) == 9
	       and (.sizes | add) == 500 and .inertia > 0 and .engine == \"faiss\"
	       and (.objective_per_iter | length) == 25" s.json
'

test_expect_success '--spherical: cosine distances in [0, 2]' '
	"$WINNOW" cluster kmeans -q -k 8 --spherical "$F" > out &&
	jq "select(.winnow.dist < 0 or .winnow.dist > 2)" out > bad && [ ! -s bad ] &&
	[ "$(wc -l < out)" -eq 500 ]
'

test_expect_success 'the core engine runs on the CPU too' '
	"$WINNOW" cluster kmeans -k 10 --engine core --device cpu --stats s.json "$F" > out 2> err &&
	jq -e ".engine == \"core\" and (.sizes | add) == 500" s.json && grep -q "(core)" err
'

# bad vectors: fail by default (positioned, nothing written), skip and quarantine on request
make_bad() { # make_bad _ LINE: the fixture with record 3 replaced by LINE
	{ sed -n 1,2p "$F"; echo "$2"; sed -n 4,500p "$F"; } > in.jsonl
}
expect_bad_vector() { # expect_bad_vector WHAT (the bad record is line 3)
	rm -f q.jsonl
	"$WINNOW" cluster kmeans -k 5 in.jsonl > out 2> err; rc=$?
	[ $rc -eq 1 ] && [ ! -s out ] || { echo "fail mode: exit $rc"; cat err; return 1; }
	grep -q "^winnow cluster kmeans: in.jsonl:3: .*$1" err || { echo "not positioned:"; cat err; return 1; }
	"$WINNOW" cluster kmeans -k 5 --on-error skip in.jsonl > out 2> err &&
	grep -q "in 500, out 499, rejected 1" err &&
	"$WINNOW" cluster kmeans -q -k 5 --quarantine q.jsonl in.jsonl > out2 &&
	cmp out out2 && sed -n 3p in.jsonl | cmp - q.jsonl
}
test_expect_success 'a NaN in a vector is a positioned error' '
	make_bad x "{\"id\":\"nan\",\"winnow\":{\"emb\":{\"dim\":24,\"dtype\":\"f32\",\"b64\":\"$nan_b64\"}}}" &&
	expect_bad_vector "not finite"
'
test_expect_success 'a vector of another dimension is a positioned error' '
	make_bad x "{\"id\":\"two\",\"winnow\":{\"emb\":{\"dim\":2,\"dtype\":\"f32\",\"b64\":\"$two_b64\"}}}" &&
	expect_bad_vector "has dimension 2, expected 24"
'
test_expect_success 'a record without a vector is a positioned error' '
	make_bad x "{\"id\":\"none\",\"text\":\"no vector here\"}" &&
	expect_bad_vector "no vector at winnow.emb"
'
# bad.npy: the fixture with element (41, 5) overwritten by a float32 NaN
# (00 00 c0 7f), at 10 + header length + (41 x 24 + 5) x 4 bytes
test_expect_success 'a NaN row in --npy rejects its record' '
	cp "$NPY" bad.npy && hlen=$(od -A n -t u2 -j 8 -N 2 "$NPY" | tr -d " ") &&
	printf "\000\000\300\177" | dd of=bad.npy bs=1 seek=$((10 + hlen + (41 * 24 + 5) * 4)) conv=notrunc 2> /dev/null &&
	[ "$(cmp -l "$NPY" bad.npy | wc -l)" -ge 1 ] && [ "$(stat -c %s bad.npy)" = "$(stat -c %s "$NPY")" ] &&
	"$WINNOW" cluster kmeans -k 5 --npy bad.npy "$F" > out 2> err; [ $? -eq 1 ] &&
	grep -q "debian-500-emb.jsonl:42: .*row 41: element 5 is not finite" err &&
	"$WINNOW" cluster kmeans -k 5 --npy bad.npy --on-error skip "$F" 2> err | wc -l | grep -qx 499
'

# runtime failures: exit 1 AND the message (either missing fails the case)
test_expect_success 'k larger than the number of vectors: exit 1 with the message' '
	"$WINNOW" cluster kmeans -k 501 "$F" > out 2> err; rc=$?
	test $rc = 1 && grep -q "k (501) is larger than the number of vectors (500)" err && [ ! -s out ]
'
test_expect_success 'empty input: exit 1 with the message' '
	: | "$WINNOW" cluster kmeans -k 3 2> err; rc=$?
	test $rc = 1 && grep -q "larger than the number of vectors (0)" err
'
test_expect_success '--npy with a row count that does not match: exit 1 with the message' '
	head -5 "$F" | "$WINNOW" cluster kmeans -k 2 --npy "$NPY" 2> err; rc=$?
	test $rc = 1 && grep -q "500 rows of dimension 24 for 5 records" err
'
test_expect_success '--centroids of another dimension: exit 1 with the message' '
	"$WINNOW" cluster kmeans -q -k 3 --npy "$NPY" --centroids-out c.npy "$F" > /dev/null &&
	head -3 "$F" | sed "s/\"dim\":24/\"dim\":2/; s/\"b64\":\"[^\"]*\"/\"b64\":\"$two_b64\"/" > two.jsonl &&
	"$WINNOW" cluster kmeans --centroids c.npy two.jsonl 2> err; rc=$?
	test $rc = 1 && grep -q "centroids have dimension 24, the vectors 2" err
'
test_expect_success 'in a pipeline on the Debian corpus: embed | kmeans | hkmeans | graph' '
	D=$(shared_file corpora/debian.jsonl.gz); [ -f "$D" ] || skip_case "no $D"
	zcat "$D" | head -3000 > in.jsonl &&
	"$WINNOW" embed -q --dim 64 in.jsonl | "$WINNOW" cluster kmeans -q -k 30 --spherical |
		"$WINNOW" cluster hkmeans -q --levels 20,4 | "$WINNOW" cluster graph -q --threshold 0.95 > out &&
	[ "$(wc -l < out)" -eq 3000 ] &&
	jq "select(.winnow.cluster == null or .winnow.hcluster == null or .winnow.component == null)" out > bad &&
	[ ! -s bad ] &&
	sed "s/,\"winnow\":{\"emb\":{\"dim\":64,\"dtype\":\"f32\",\"b64\":\"[A-Za-z0-9+\/=]*\"},\"cluster\":[0-9]*,\"dist\":[-+0-9.e]*,\"hcluster\":\[[0-9]*,[0-9]*\],\"component\":[0-9]*}}\$/}/" out | cmp - in.jsonl
'

# The .npy is mapped, not copied, when it is float32 and all rows are finite;
# a bad row, or a float16 file, takes the copying path. Each path must give
# the bytes the other would: rows built with python3's standard library.
# npy_rows SRC DST DTYPE FIRST LAST [ROW COL HEX]: rows FIRST..LAST of SRC
# (float32) as DTYPE: f float32, e float16, r float32 of the float16-rounded
# values; element (ROW, COL) of the result set to the bits HEX (of a float16
# for e, else of a float32); DROP=ROW in the environment leaves that row out.
npy_rows() {
	python3 -c "
import os, struct, sys
src, dst, dt, a, b = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
raw = open(src, 'rb').read()
hl = struct.unpack('<H', raw[8:10])[0]
vals = struct.unpack('<%df' % ((len(raw) - 10 - hl) // 4), raw[10 + hl:])
drop = int(os.environ.get('DROP', -1))
rows = [list(vals[i * 24:(i + 1) * 24]) for i in range(a, b + 1) if i != drop]
rows = [[struct.unpack('<e', struct.pack('<e', v))[0] for v in r] for r in rows] if dt != 'f' else rows
dt = 'f' if dt == 'r' else dt
data = bytearray(b''.join(struct.pack('<24' + dt, *r) for r in rows))
if len(sys.argv) > 6:
    es = 2 if dt == 'e' else 4
    at = (int(sys.argv[6]) * 24 + int(sys.argv[7])) * es
    data[at:at + es] = struct.pack('<H' if es == 2 else '<I', int(sys.argv[8], 16))
d = \"{'descr': '<%s4', 'fortran_order': False, 'shape': (%d, 24), }\" % (dt, len(rows))
d = d.replace('<e4', '<f2')
h = d + ' ' * (63 - (10 + len(d)) % 64) + '\n'
open(dst, 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + data)
" "$@"
}

test_expect_success 'NaN in the first --npy row, -inf in the last: those records skipped, the rest as from a .npy without them' '
	command -v python3 > /dev/null || skip_case "no python3"
	npy_rows "$NPY" nan0.npy f 0 499 0 0 7fc00000 && npy_rows nan0.npy bad2.npy f 0 499 499 23 ff800000 &&
	npy_rows "$NPY" kept.npy f 1 498 && sed -n "2,499p" "$F" > kept.jsonl &&
	"$WINNOW" cluster kmeans -k 6 --seed 3 --npy bad2.npy --on-error skip "$F" > a 2> err &&
	grep -q "debian-500-emb.jsonl:1: .*row 0: element 0 is not finite" err &&
	grep -q "debian-500-emb.jsonl:500: .*row 499: element 23 is not finite" err &&
	grep -q "in 500, out 498, rejected 2" err &&
	"$WINNOW" cluster kmeans -q -k 6 --seed 3 --npy kept.npy kept.jsonl > b && cmp a b
'

test_expect_success 'a float16 --npy (read, not mapped) gives the bytes of the float32 one of its values' '
	command -v python3 > /dev/null || skip_case "no python3"
	npy_rows "$NPY" h.npy e 0 499 && npy_rows "$NPY" h32.npy r 0 499 &&
	[ "$(stat -c %s h32.npy)" -gt "$(stat -c %s h.npy)" ] && ! cmp -s h32.npy "$NPY" &&
	"$WINNOW" cluster kmeans -q -k 9 --seed 5 --npy h.npy "$F" > a &&
	"$WINNOW" cluster kmeans -q -k 9 --seed 5 --npy h32.npy "$F" > b && cmp a b
'

test_expect_success 'a float16 --npy with a NaN row: compacted in place, the bytes of a .npy without that row' '
	command -v python3 > /dev/null || skip_case "no python3"
	npy_rows "$NPY" hn.npy e 0 499 41 5 7e00 && DROP=41 npy_rows "$NPY" hk.npy r 0 499 &&
	sed 42d "$F" > hk.jsonl &&
	"$WINNOW" cluster kmeans -k 5 --seed 2 --npy hn.npy --on-error skip "$F" > a 2> err &&
	grep -q "debian-500-emb.jsonl:42: .*row 41: element 5 is not finite" err &&
	"$WINNOW" cluster kmeans -q -k 5 --seed 2 --npy hk.npy hk.jsonl > b && cmp a b
'

test_expect_success '--npy (mapped) at 1 and 2 threads, FAISS and the core: identical bytes' '
	for e in faiss core; do
		"$WINNOW" cluster kmeans -q -k 11 --seed 6 --engine $e --threads 1 --npy "$NPY" "$F" > t1 &&
		"$WINNOW" cluster kmeans -q -k 11 --seed 6 --engine $e --threads 2 --npy "$NPY" "$F" > t2 &&
		cmp t1 t2 || return 1
	done
'

test_expect_failure_code 2 'missing -k' '"$WINNOW" cluster kmeans "$F"'
test_expect_failure_code 2 'unknown engine' '"$WINNOW" cluster kmeans -k 3 --engine gpu "$F"'
test_expect_failure_code 2 'unknown clustering' '"$WINNOW" cluster spectral "$F"'
test_expect_success 'help' '"$WINNOW" cluster kmeans --help | grep -q -- "--centroids-out" && "$WINNOW" cluster --help | grep -q hkmeans'
test_done
