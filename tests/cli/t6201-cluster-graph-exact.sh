#!/usr/bin/env bash
# t6201 — `winnow cluster graph` is the threshold graph it names, whatever
# --knn is: its components and its edge count equal those of the graph of all
# pairs with cos >= T, computed here by brute force in python3 (stdlib only:
# the .npy is read with struct). Cases: the 500 Debian fixture vectors at
# T = 0.6 with --knn 1 and 3 (a search limited to 3 neighbours finds 69
# components for the exact 68), flat and the core; two arcs of 70 vectors
# where every vector has 69 neighbours above T in its own arc, so --knn 64
# sees no edge across and splits the one component; four to an arc with
# --knn 2, counted by hand (26 edges, one component); the same output at
# any --threads; --help says so.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"
NPY="$WINNOW_ROOT/fixtures/cluster/debian-500.npy"

# bf NPY T: component ids of the all-pairs graph (numbered by first record),
# one per line, then "edges E" (ordered pairs above T); fails when a pair
# lies within 1e-5 of T, where float32 and double may disagree.
cat > bf.py <<'EOF'
import math, struct, sys
b = open(sys.argv[1], "rb").read()
hl = struct.unpack("<H", b[8:10])[0]
hdr = b[10:10 + hl].decode()
assert "'<f4'" in hdr and "'fortran_order': False" in hdr, hdr
n, d = (int(v) for v in hdr[hdr.index("(") + 1:hdr.index(")")].split(",")[:2])
v = struct.unpack("<%df" % (n * d), b[10 + hl:10 + hl + 4 * n * d])
T = float(sys.argv[2])
U = []
for i in range(n):
    x = v[i * d:(i + 1) * d]; s = math.sqrt(sum(a * a for a in x))
    U.append([a / s for a in x] if s > 0 else None)
parent = list(range(n)); edges = 0
def find(i):
    while parent[i] != i: i = parent[i]
    return i
for i in range(n):
    for j in range(i + 1, n):
        if U[i] is None or U[j] is None: continue
        c = sum(a * b for a, b in zip(U[i], U[j]))
        assert abs(c - T) >= 1e-5, "pair %d %d sits on the threshold" % (i, j)
        if c >= T:
            edges += 2
            a, b = find(i), find(j)
            if a != b: parent[max(a, b)] = min(a, b)
lab = {}
for i in range(n): print(lab.setdefault(find(i), len(lab)))
print("edges", edges)
EOF

# arcs M STEP: 2 x M unit vectors in a plane as records + .npy: arc P at
# 0, -STEP, -2 STEP, ... degrees, arc Q at 25, 25 + STEP, ...
cat > arcs.py <<'EOF'
import math, struct, sys
m, step = int(sys.argv[1]), float(sys.argv[2])
deg = [-i * step for i in range(m)] + [25 + i * step for i in range(m)]
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2), }" % len(deg)
hdr += " " * (63 - len(hdr) % 64) + "\n"
with open("arcs.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for a in deg:
        f.write(struct.pack("<2f", math.cos(math.radians(a)), math.sin(math.radians(a))))
with open("arcs.jsonl", "w") as f:
    for i in range(len(deg)): f.write('{"id":%d,"text":"v%d"}\n' % (i, i))
EOF

# check NAME: winnow's ids (NAME.ids) and --stats edges (NAME.json) against bf.txt
check() {
	grep -v edges bf.txt > want && test_cmp want "$1.ids" &&
	[ "$(jq .edges "$1.json")" = "$(sed -n "s/^edges //p" bf.txt)" ]
}

test_expect_success 'Debian 500 at 0.6, --knn 1 and 3, flat and core: the all-pairs graph' '
	/usr/bin/python3 bf.py "$NPY" 0.6 > bf.txt &&
	[ "$(grep -vc edges bf.txt)" -eq 500 ] && [ "$(sort -un bf.txt | grep -vc edges)" -eq 68 ] &&
	for k in 1 3; do
		"$WINNOW" cluster graph -q --threshold 0.6 --knn $k --index flat --npy "$NPY" \
			--stats flat$k.json "$F" | jq -r .winnow.component > flat$k.ids &&
		check flat$k &&
		"$WINNOW" cluster graph -q --threshold 0.6 --knn $k --engine core --device cpu \
			--npy "$NPY" --stats core$k.json "$F" | jq -r .winnow.component > core$k.ids &&
		check core$k || return 1
	done
'

test_expect_success 'more neighbours above T than --knn: one component, not two' '
	/usr/bin/python3 arcs.py 70 0.05 && /usr/bin/python3 bf.py arcs.npy 0.9 > bf.txt &&
	[ "$(sort -un bf.txt | grep -vc edges)" -eq 1 ] &&
	"$WINNOW" cluster graph --threshold 0.9 --knn 64 --npy arcs.npy --stats arcs.json \
		arcs.jsonl 2> err | jq -r .winnow.component > arcs.ids &&
	check arcs && grep -q "140 vectors, 1 components" err
'

test_expect_success 'four to an arc, --knn 2: 26 edges by hand, one component' '
	/usr/bin/python3 arcs.py 4 2 &&
	"$WINNOW" cluster graph -q --threshold 0.9 --knn 2 --npy arcs.npy --stats s.json arcs.jsonl |
		jq -r .winnow.component | sort -u > ids &&
	[ "$(cat ids)" = 0 ] && jq -e ".edges == 26 and .components == 1" s.json
'

test_expect_success 'the same bytes at --threads 1, 2 and 3' '
	for t in 1 2 3; do
		"$WINNOW" cluster graph -q --threads $t --threshold 0.6 --knn 1 --npy "$NPY" \
			--stats s$t.json "$F" > out$t || return 1
	done &&
	cmp out1 out2 && cmp out1 out3 && cmp s1.json s2.json && cmp s1.json s3.json
'

test_expect_success '--help says the components are exact at T' '
	"$WINNOW" cluster graph --help > help &&
	grep -q "^Exact at T: a vector whose K-th neighbour still passes T is searched again" help
'
test_done
