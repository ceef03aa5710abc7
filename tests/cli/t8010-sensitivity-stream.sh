#!/usr/bin/env bash
# t8010 — `score leverage`, `score lewis` and the lightweight q stream in two
# passes (one per Lewis iteration, three for q) over a record spool: 9,000
# records (two batches of 8,192 rows at d = 5) against the float64 peer
# (tests/peers/sensitivity_peer.py) to 1e-9 / 1e-6; the spool on disk (WINNOW_SPOOL_MEM
# tiny) gives the bytes of the spool in memory; 1 and 2 threads agree on
# the multi-batch input; --npy rows rejected on the fly under skip; the
# float32 GEMM path (--float32-gemm, what --device cuda runs) within 1e-5
# of float64; a bad --device is a usage error.
. "$(dirname "$0")/lib.sh"
PEER="$WINNOW_ROOT/tests/peers/sensitivity_peer.py"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
NPY="$WINNOW_ROOT/fixtures/cluster/debian-500.npy"

# big.jsonl: 9000 records with 5-dim float32 vectors (a fixed LCG, python3 stdlib)
python3 -c "
import base64, struct
s = 12345
out = open('big.jsonl', 'w')
for i in range(9000):
    v = []
    for j in range(5):
        s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
        v.append(((s >> 11) / 2.0**53 - 0.5) * (1 + j) + (0.3 if j == 0 else 0.0))
    b = base64.b64encode(struct.pack('<5f', *v)).decode()
    out.write('{\"id\":%d,\"winnow\":{\"emb\":{\"dim\":5,\"dtype\":\"f32\",\"b64\":\"%s\"}}}\n' % (i, b))
"

# close KEY TOL OUT PEERFILE N
close() {
	python3 -c "
import json, sys
key, tol, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[5])
got = [json.loads(l)[\"winnow\"][key] for l in open(sys.argv[3])]
want = [float(x) for x in open(sys.argv[4])]
assert len(got) == len(want) == n, (len(got), len(want))
worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
assert worst <= tol, (key, worst, tol)
" "$@"
}

test_expect_success 'leverage over two batches: the peer to 1e-9, sum 5, order and ids kept' '
	"$WINNOW" score leverage big.jsonl > out 2> err &&
	python3 "$PEER" leverage big.jsonl > peer && close leverage 1e-9 out peer 9000 &&
	grep -q "9000 vectors of dim 5: rank 5 (cholesky), ridge 0, sum of scores 5$" err &&
	[ "$(jq -r .id out | head -1)" = 0 ] && [ "$(jq -r .id out | tail -1)" = 8999 ] &&
	sed "s/,\"leverage\":[-0-9.e]*}}\$/}}/" out | cmp - big.jsonl
'

test_expect_success 'lewis p=1 over two batches: the peer to 1e-6, sum 5' '
	"$WINNOW" score lewis --p 1 big.jsonl > out 2> err &&
	python3 "$PEER" lewis 1 big.jsonl > peer && close lewis 1e-6 out peer 9000 &&
	grep -q "rank 5, sum of weights 5$" err
'

test_expect_success 'lewis p=6 over two batches (averaged iteration): the fixed point w = tau(w)^3 to 1e-9, sum 5' '
	"$WINNOW" score lewis --p 6 big.jsonl > out 2> err &&
	grep -q "(averaged), relative change .* <= 1e-12, rank 5, sum of weights 5$" err &&
	python3 -c "
import json, sys
sys.path.insert(0, \"$WINNOW_ROOT/tests/peers\")
import sensitivity_peer as P
A = P.vectors(\"big.jsonl\")
w = [json.loads(l)[\"winnow\"][\"lewis\"] for l in open(\"out\")]
t = P.taus(A, [x ** (1 - 2 / 6) for x in w])
worst = max(abs(x - y ** 3) / x for x, y in zip(w, t))
assert worst <= 1e-9, worst
assert abs(sum(w) - 5) <= 1e-9, sum(w)
"
'

test_expect_success 'lightweight q over two batches (three passes): the peer to 1e-9, sum 1' '
	"$WINNOW" score kmeans-sensitivity big.jsonl > out 2> err &&
	python3 "$PEER" q big.jsonl > peer && close kmeans_sensitivity 1e-9 out peer 9000 &&
	grep -q "9000 vectors of dim 5: lightweight q, sum 1$" err &&
	WINNOW_SPOOL_MEM=4096 "$WINNOW" score kmeans-sensitivity -q --threads 1 -o b big.jsonl && cmp out b
'

test_expect_success 'a spool on disk gives the bytes of a spool in memory' '
	"$WINNOW" score leverage -q big.jsonl > a &&
	WINNOW_SPOOL_MEM=4096 "$WINNOW" score leverage -q -o b big.jsonl && cmp a b &&
	"$WINNOW" score lewis -q --p 3 big.jsonl > a &&
	WINNOW_SPOOL_MEM=4096 "$WINNOW" score lewis -q --p 3 -o b big.jsonl && cmp a b
'

test_expect_success 'two batches: identical bytes at 1 and 2 threads' '
	for s in "leverage" "leverage --ridge 2" "lewis --p 1.5" "lewis --p 5"; do
		"$WINNOW" score $s -q --threads 1 big.jsonl > a &&
		"$WINNOW" score $s -q --threads 2 big.jsonl > b && cmp a b || return 1
	done
'

test_expect_success 'standard input streams the same way as a file' '
	"$WINNOW" score leverage -q big.jsonl > a && "$WINNOW" score leverage -q < big.jsonl > b && cmp a b
'

nan_row() { python3 -c "
import struct, ast, sys
raw = bytearray(open(sys.argv[1], 'rb').read())
hlen = struct.unpack('<H', raw[8:10])[0]
n, d = ast.literal_eval(raw[10:10 + hlen].decode('latin1'))['shape']
off = 10 + hlen + 4 * (d * 2 + 3)
raw[off:off + 4] = struct.pack('<f', float('nan'))
open(sys.argv[2], 'wb').write(raw)
" "$@"; }
test_expect_success '--npy: a NaN row rejects its record (fail: exit 1, skip: the other 499 scored)' '
	nan_row "$NPY" bad.npy &&
	"$WINNOW" score leverage --npy bad.npy "$F" > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow score leverage: .*debian-500-emb.jsonl:3: bad.npy: row 2: element 3 is not finite" err &&
	"$WINNOW" score leverage --on-error skip --npy bad.npy "$F" > out 2> err &&
	grep -q "in 500, out 499, rejected 1" err &&
	sed 3d "$F" > kept.jsonl && "$WINNOW" score leverage -q kept.jsonl | cmp - out
'

test_expect_success '--npy with too few rows: exit 1 with the counts' '
	head -c 0 /dev/null && sed -n 1,3p "$F" > three.jsonl && cat "$F" >> three.jsonl &&
	"$WINNOW" score leverage --npy "$NPY" three.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "debian-500.npy: 500 rows of dimension 24 for 503 records" err && [ ! -s out ]
'

test_expect_success '--float32-gemm (the --device cuda passes, here on the CPU) within 1e-5 of float64' '
	"$WINNOW" score leverage -q big.jsonl > a &&
	"$WINNOW" score leverage --float32-gemm --stats s.json big.jsonl > b 2> err &&
	grep -q "float32 GEMMs on cpu" err && jq -e ".passes == \"float32-gemm\"" s.json &&
	python3 -c "
import json
a = [json.loads(l)[\"winnow\"][\"leverage\"] for l in open(\"a\")]
b = [json.loads(l)[\"winnow\"][\"leverage\"] for l in open(\"b\")]
assert len(a) == len(b) == 9000
worst = max(abs(x - y) / x for x, y in zip(a, b))
assert 0 < worst <= 1e-5, worst
" &&
	"$WINNOW" score leverage -q --float32-gemm --threads 1 big.jsonl > c &&
	"$WINNOW" score leverage -q --float32-gemm --threads 2 big.jsonl > d && cmp c d
'

test_expect_success 'a bad --device is a usage error; k-means takes no --device' '
	"$WINNOW" score leverage --device gpu big.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score leverage: unknown device .gpu. (expected cpu, cuda or auto)" err &&
	"$WINNOW" score kmeans-sensitivity --float32-gemm big.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow score kmeans-sensitivity: unknown option .--float32-gemm." err
'

NUMPY_PY=/usr/bin/python3
test_expect_success 'leverage and Lewis p=1 on the .npy: numpy QR, Cholesky and Cohen-Peng (bench peer)' '
	/usr/bin/python3 -c "import numpy" 2> /dev/null || skip_case "no numpy for /usr/bin/python3"
	"$WINNOW" score leverage -q --npy "$NPY" "$F" > out &&
	"$NUMPY_PY" "$WINNOW_ROOT/bench/sensitivity_peer.py" leverage-qr "$NPY" qr.txt > /dev/null &&
	"$NUMPY_PY" "$WINNOW_ROOT/bench/sensitivity_peer.py" leverage-chol "$NPY" chol.txt > /dev/null &&
	close leverage 1e-9 out qr.txt 500 && close leverage 1e-9 out chol.txt 500 &&
	"$WINNOW" score lewis -q --p 1 --npy "$NPY" "$F" > out &&
	"$NUMPY_PY" "$WINNOW_ROOT/bench/sensitivity_peer.py" lewis "$NPY" 1 lewis.txt > /dev/null &&
	close lewis 1e-6 out lewis.txt 500
'

test_done
