#!/usr/bin/env bash
# t6520 — S2L: `winnow select --balanced-clusters` by hand (clusters of
# 10, 3, 50, 7 records: 20 -> 6, 3, 6, 5 and 30 -> 10, 3, 10, 7, the
# official order: smallest first, floor(left / clusters left) each),
# `winnow train --trajectories` clustering losses written here as a .npy
# (three separated groups found as three clusters), train's own
# winnow.s2l_cluster equal to clustering its --save-trajectories, the
# pipeline train | select, the same bytes at 1 and 2 threads, and the
# usage and bad-input errors.
. "$(dirname "$0")/lib.sh"

# a float32 .npy writer in plain python3 (numpy is not needed for this)
cat > npy.py <<'PY'
import struct, sys
def save(path, rows):
    n, k = len(rows), len(rows[0])
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, k)
    head += " " * (63 - (10 + len(head)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        for r in rows:
            f.write(struct.pack("<%df" % k, *r))
def load(path):
    b = open(path, "rb").read()
    hl = struct.unpack("<H", b[8:10])[0]
    head = b[10:10 + hl].decode()
    shape = eval(head)["shape"]
    vals = struct.unpack("<%df" % (shape[0] * shape[1]), b[10 + hl:])
    return shape, [vals[i * shape[1]:(i + 1) * shape[1]] for i in range(shape[0])]
PY

test_expect_success 'setup' '
	for c in 0 1 2 3; do
		case $c in 0) k=10;; 1) k=3;; 2) k=50;; 3) k=7;; esac
		for i in $(seq 1 $k); do
			printf "{\"id\":\"%s-%s\",\"winnow\":{\"s2l_cluster\":%s}}\n" $c $i $c
		done
	done > worked.jsonl &&
	[ "$(wc -l < worked.jsonl)" -eq 70 ] &&
	python3 - <<-\PY
	import json
	state = 12345
	def u():
	    global state
	    state = (1103515245 * state + 12345) % 2**31
	    return state / 2**31 - 0.5
	centres = {"b": (3.0, 0.0), "a": (-1.5, 2.6), "c": (-1.5, -2.6)}
	with open("pts.jsonl", "w") as f:
	    for i in range(60):
	        lab = "bac"[(i * 7) % 3]
	        cx, cy = centres[lab]
	        v = [round(cx + u(), 4), round(cy + u(), 4)]
	        print(json.dumps({"id": i, "kind": lab, "winnow": {"emb": v}}, separators=(",", ":")), file=f)
	PY
'

counts() { python3 -c "
import json, sys, collections
c = collections.Counter(json.loads(l)[\"winnow\"][\"s2l_cluster\"] for l in open(sys.argv[1]))
print(\" \".join(str(c[k]) for k in range(4)))" "$1"; }

test_expect_success '--balanced-clusters 20 of [10,3,50,7]: 6 3 6 5; 30: 10 3 10 7; input order kept' '
	"$WINNOW" select -q --balanced-clusters winnow.s2l_cluster --sample 20 --seed 3 worked.jsonl > s20 &&
	[ "$(counts s20)" = "6 3 6 5" ] &&
	"$WINNOW" select -q --balanced-clusters winnow.s2l_cluster --sample 30 worked.jsonl > s30 &&
	[ "$(counts s30)" = "10 3 10 7" ] &&
	python3 -c "
ids = [l for l in open(\"worked.jsonl\")]
got = [l for l in open(\"s20\")]
pos = [ids.index(l) for l in got]
assert pos == sorted(pos), pos"
'

test_expect_success '--sample above n keeps all with a warning; another seed draws other records' '
	"$WINNOW" select --balanced-clusters winnow.s2l_cluster --sample 100 worked.jsonl > all 2> err &&
	cmp all worked.jsonl && grep -q "warning: --sample 100 is larger than the input" err &&
	"$WINNOW" select -q --balanced-clusters winnow.s2l_cluster --sample 20 --seed 4 worked.jsonl > s20b &&
	[ "$(counts s20b)" = "6 3 6 5" ] && ! cmp -s s20 s20b
'

test_expect_success 'train --trajectories: three separated groups of losses are three clusters' '
	python3 -c "
import sys; sys.path.insert(0, \".\"); import npy
base = [(1, 1, 1, 1), (5, 5, 4, 4), (9, 0, 0, 0)]
npy.save(\"traj.npy\", [[b + 0.01 * (i // 3) for b in base[i % 3]] for i in range(12)])" &&
	head -12 pts.jsonl > p12.jsonl &&
	"$WINNOW" train --trajectories traj.npy --s2l-k 3 p12.jsonl > t 2> err &&
	grep -q "S2L: 12 loss trajectories of 4 checkpoints in 3 clusters" err &&
	python3 -c "
import json
a = [json.loads(l)[\"winnow\"][\"s2l_cluster\"] for l in open(\"t\")]
assert all(a[i] == a[i % 3] for i in range(12)) and len(set(a)) == 3, a
ins = open(\"p12.jsonl\").read().splitlines(); outs = open(\"t\").read().splitlines()
assert all(o.startswith(i[:-2]) for i, o in zip(ins, outs))" &&
	"$WINNOW" train -q --trajectories traj.npy --s2l-k 100 p12.jsonl > t100 &&
	python3 -c "
import json
a = [json.loads(l)[\"winnow\"][\"s2l_cluster\"] for l in open(\"t100\")]
assert max(a) < 12, a"
'

test_expect_success 'train: s2l_cluster is the k-means of its --save-trajectories (shape n x epochs)' '
	"$WINNOW" train -q --label kind --epochs 5 --s2l-k 4 --save-trajectories tr.npy pts.jsonl > own &&
	python3 -c "
import sys; sys.path.insert(0, \".\"); import npy
shape, rows = npy.load(\"tr.npy\")
assert shape == (60, 5), shape
assert all(v > 0 for r in rows for v in r)
assert sum(r[4] for r in rows) < sum(r[0] for r in rows)  # the loss fell" &&
	"$WINNOW" train -q --trajectories tr.npy --s2l-k 4 pts.jsonl > again &&
	python3 -c "
import json
a = [json.loads(l)[\"winnow\"][\"s2l_cluster\"] for l in open(\"own\")]
b = [json.loads(l)[\"winnow\"][\"s2l_cluster\"] for l in open(\"again\")]
assert a == b and len(set(a)) == 4, (a, b)"
'

test_expect_success 'pipeline train | select --balanced-clusters; 1 and 2 threads give the same bytes' '
	"$WINNOW" train -q --label kind --epochs 3 --s2l-k 5 --threads 1 pts.jsonl |
		"$WINNOW" select -q --balanced-clusters winnow.s2l_cluster --sample 20 > p1 &&
	"$WINNOW" train -q --label kind --epochs 3 --s2l-k 5 --threads 2 pts.jsonl |
		"$WINNOW" select -q --balanced-clusters winnow.s2l_cluster --sample 20 > p2 &&
	[ "$(wc -l < p1)" -eq 20 ] && cmp p1 p2
'

test_expect_success 'usage errors exit 2 with one line' '
	"$WINNOW" select --balanced-clusters winnow.s2l_cluster worked.jsonl 2> e1; r1=$?
	"$WINNOW" select --balanced-clusters winnow.s2l_cluster --balanced --cap 3 worked.jsonl 2> e2; r2=$?
	"$WINNOW" select --balanced-clusters winnow.s2l_cluster --sample 3 --by id worked.jsonl 2> e3; r3=$?
	"$WINNOW" train --trajectories traj.npy --label kind p12.jsonl 2> e4; r4=$?
	"$WINNOW" train --trajectories traj.npy --s2l-k 0 p12.jsonl 2> e5; r5=$?
	test $r1 = 2 && grep -q "^winnow select: --balanced-clusters needs --sample N" e1 &&
	test $r2 = 2 && grep -q "^winnow select: --balanced-clusters and --balanced are two different draws" e2 &&
	test $r3 = 2 && grep -q "^winnow select: --balanced-clusters takes only --sample and --seed" e3 &&
	test $r4 = 2 && grep -q "^winnow train: --trajectories clusters the given losses: no --label" e4 &&
	test $r5 = 2 && grep -q "^winnow train: --trajectories needs --s2l-k of at least 1" e5
'

test_expect_success 'bad input: a record without the cluster id; a .npy of the wrong length' '
	sed "4s/\"s2l_cluster\":0/\"other\":0/" worked.jsonl > miss.jsonl &&
	"$WINNOW" select --balanced-clusters winnow.s2l_cluster --sample 5 miss.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow select: miss.jsonl:4: missing .winnow.s2l_cluster. (--balanced-clusters)$" err &&
	[ ! -s out ] &&
	"$WINNOW" train --trajectories traj.npy pts.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow train: traj.npy: 12 rows of dimension 4 for 60 records$" err
'

test_done
