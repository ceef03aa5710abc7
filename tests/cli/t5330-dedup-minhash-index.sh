#!/usr/bin/env bash
# t5330 — `winnow dedup minhash --save-index DB` / `--against DB` on
# fixtures/dedup/debian-near.jsonl (400 Debian records, ids unique): batch
# A = records 1-200 builds the index, batch B = records 100-400 is deduped
# against it. Checked with python3 (stdlib): the index holds the run's
# parameters and exactly the records A kept (names, shingle digests as the
# reference counts them, 16 band hashes each); every record of B that was in
# A is found; every dup_jaccard is the true Jaccard to the named document
# and the members that matched directly are >= 0.8; without --mark-only
# the output is B's records without dup_index minus in-batch duplicates
# (representatives as a run without --against writes them);
# --against A --save-index B' chains (B' = A's documents + B's kept ones,
# and B against B' drops everything); the same bytes at 1 and 2 threads;
# an index of other parameters, a file that is no index, or no file at all
# is a usage error naming why.
. "$(dirname "$0")/lib.sh"
F=$(fixture dedup/debian-near.jsonl)

cat > ref.py <<'EOF'
import json, re, sqlite3, struct, sys
def shingles(t, n=5):
    w = [x for x in re.split(r"\W+", t.lower()) if x]
    if not w: return set()
    if len(w) < n: return {" ".join(w)}
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}
def J(a, b):
    u = len(a | b)
    return len(a & b) / u if u else 0.0
def records(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
EOF

cat > check_index.py <<'EOF'
# check_index.py DB KEPT.jsonl: the index = the kept records, parameters as run
import sys; sys.path.insert(0, ".")
from ref import *
db = sqlite3.connect(sys.argv[1])
params = dict(db.execute("SELECT key, value FROM params"))
assert params == {"format": "winnow-minhash-index 2", "ngram": "5", "perms": "128", "bands": "16",
                  "rows": "8", "seed": "0", "threshold": "0.80000000000000004"}, params
kept = records(sys.argv[2])
docs = db.execute("SELECT id, name, shingles FROM docs ORDER BY id").fetchall()
assert [json.loads(n) for _, n, _ in docs] == [r["id"] for r in kept if shingles(r["text"])]
for (i, n, blob), r in zip(docs, kept):
    d = struct.unpack("<%dQ" % (len(blob) // 8), blob)
    assert list(d) == sorted(set(d)) and len(d) == len(shingles(r["text"])), n
    assert db.execute("SELECT count(*) FROM bands WHERE doc = ?", (i,)).fetchone()[0] == 16
print(len(docs), "documents")
EOF

cat > check_against.py <<'EOF'
# check_against.py DB A.jsonl B.jsonl MARKED.jsonl: found, exact, precise
import sys; sys.path.insert(0, ".")
from ref import *
db = sqlite3.connect(sys.argv[1])
A, B, out = records(sys.argv[2]), records(sys.argv[3]), records(sys.argv[4])
text = {r["id"]: r["text"] for r in A}
in_a = {r["id"] for r in A}
assert [r["id"] for r in out] == [r["id"] for r in B]
found = 0
for r in out:
    w = r.get("winnow", {})
    if r["id"] in in_a:
        assert "dup_index" in w, ("a record of the index batch was not found", r["id"])
    if "dup_index" not in w: continue
    found += 1
    j = J(shingles(r["text"]), shingles(text[w["dup_index"]]))
    assert w["dup_jaccard"] == j, (r["id"], w["dup_jaccard"], j)
    assert "dup_group" in w or j >= 0.8, ("matched below the threshold", r["id"], j)
print(found, "found of", len(B), "; of the index batch:", sum(r["id"] in in_a for r in B))
EOF

test_expect_success 'batch A: --save-index holds its parameters and exactly the records it kept' '
	head -200 "$F" > A.jsonl && sed -n "100,400p" "$F" > B.jsonl &&
	"$WINNOW" dedup minhash --save-index a.db A.jsonl > ka.jsonl 2> err &&
	python3 check_index.py a.db ka.jsonl &&
	grep -q "index a.db: $(wc -l < ka.jsonl) kept records saved" err && ! ls a.db.tmp* 2> /dev/null
'

test_expect_success 'batch B --against A: every record of A found, Jaccards exact, matches >= 0.8' '
	"$WINNOW" dedup minhash --against a.db --mark-only B.jsonl > mb.jsonl 2> err &&
	python3 check_against.py a.db A.jsonl B.jsonl mb.jsonl &&
	grep -q "against a.db ($(wc -l < ka.jsonl) documents): [0-9]* records match one" err
'

test_expect_success 'without --mark-only: B minus what matched the index minus in-batch duplicates' '
	"$WINNOW" dedup minhash -q --against a.db B.jsonl > kb.jsonl &&
	"$WINNOW" dedup minhash -q --mark-only B.jsonl > gb.jsonl &&
	python3 -c "
import json
m = [json.loads(l) for l in open(\"mb.jsonl\")]
g = [json.loads(l) for l in open(\"gb.jsonl\")]
lines = open(\"B.jsonl\").read().splitlines(True)
glines = open(\"gb.jsonl\").read().splitlines(True)
want = []
for i, (l, a, b) in enumerate(zip(lines, m, g)):
    wa, wb = a.get(\"winnow\", {}), b.get(\"winnow\", {})
    if \"dup_index\" in wa: continue
    if \"dup_group\" in wb and wb[\"dup_group\"] != i: continue
    want.append(glines[i])
open(\"want\", \"w\").write(\"\".join(want))
" && test_cmp want kb.jsonl
'

test_expect_success '--against A --save-index AB chains: AB = A + B kept; B against AB drops all' '
	"$WINNOW" dedup minhash -q --against a.db --save-index ab.db B.jsonl > kb2.jsonl &&
	test_cmp kb.jsonl kb2.jsonl &&
	cat ka.jsonl kb.jsonl > kept_ab.jsonl && python3 check_index.py ab.db kept_ab.jsonl &&
	"$WINNOW" dedup minhash --against ab.db B.jsonl > out 2> err &&
	[ ! -s out ] && grep -q "in 301, out 0, rejected 0" err &&
	cp a.db same.db && "$WINNOW" dedup minhash -q --against same.db --save-index same.db B.jsonl > kb3.jsonl &&
	test_cmp kb.jsonl kb3.jsonl && python3 check_index.py same.db kept_ab.jsonl
'

test_expect_success 'the same bytes at --threads 1 and 2 against an index' '
	"$WINNOW" dedup minhash -q --mark-only --against a.db --threads 1 B.jsonl > t1 &&
	"$WINNOW" dedup minhash -q --mark-only --against a.db --threads 2 B.jsonl > t2 &&
	test_cmp t1 t2 && test_cmp mb.jsonl t1
'

test_expect_success 'an index of other parameters, not an index, no file: usage errors naming why' '
	"$WINNOW" dedup minhash --against a.db --ngram 3 B.jsonl > out 2> err; rc=$? &&
	test $rc = 2 && [ ! -s out ] &&
	grep -q "a.db: the index was built with ngram 5, this run uses ngram 3" err &&
	"$WINNOW" dedup minhash --against a.db --bands 8 --rows 16 B.jsonl 2> err; rc=$? &&
	test $rc = 2 && grep -q "built with bands 16, this run uses bands 8" err &&
	"$WINNOW" dedup minhash --against a.db --seed 4 B.jsonl 2> err; rc=$? &&
	test $rc = 2 && grep -q "built with seed 0, this run uses seed 4" err &&
	"$WINNOW" dedup minhash --against a.db --threshold 0.8000001 B.jsonl 2> err; rc=$? &&
	test $rc = 2 && grep -q "built with threshold 0.80000000000000004, this run uses threshold 0.80000009999999999" err &&
	"$WINNOW" dedup minhash --against A.jsonl B.jsonl 2> err; rc=$? &&
	test $rc = 2 && grep -q "A.jsonl: not a winnow dedup index" err &&
	"$WINNOW" dedup minhash --against nope.db B.jsonl 2> err; rc=$? &&
	test $rc = 2 && grep -q "nope.db: cannot open the index: No such file or directory" err
'

test_expect_success 'a failed run leaves no index behind' '
	head -3 "$F" > m.jsonl && echo "{\"id\":\"x\"}" >> m.jsonl &&
	"$WINNOW" dedup minhash --save-index m.db m.jsonl > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "m.jsonl:4: missing text field" err && [ ! -e m.db ] && ! ls m.db.tmp* 2> /dev/null
'

test_done
