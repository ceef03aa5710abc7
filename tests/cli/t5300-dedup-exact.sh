#!/usr/bin/env bash
# t5300 — `winnow dedup exact` against an independent python3 (stdlib)
# computation of the same dedup: on the 2,000 Debian records (15 real exact
# copies, cross-compiler packages sharing a description), with and without
# --normalize (the reference applies unicodedata NFKC, str.lower(), drops
# category P*, " ".join(split())); on fixtures/dedup/debian-normalize.jsonl
# (145 records of the full Debian corpus whose texts differ only by case or
# punctuation: 59 distinct raw, 29 normalised); on fixtures/dedup/normalize.jsonl (17
# hand-made cases whose expected groups are also listed here by hand); the
# --key, --id and line-number forms of winnow.dup_of; kept records
# byte-identical and in input order; `select --per text --cap 1` agreeing
# byte for byte; the Bloom filter past --memory with its reported rate
# recomputed from the numbers it prints; --unit line|paragraph against
# python's text.split(sep); errors (exit code and message).
. "$(dirname "$0")/lib.sh"
F=$(fixture debian-2000.jsonl)
N=$(fixture dedup/normalize.jsonl)

# ref.py FILE FIELD NORMALIZE IDPATH: one line per input record,
# "keep" or "dup <json of dup_of>", the reference's decision.
cat > ref.py <<'EOF'
import json, sys, unicodedata
path, field, norm, idp = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
def normalize(s):
    t = unicodedata.normalize("NFKC", s).lower()
    t = "".join(c for c in t if not unicodedata.category(c).startswith("P"))
    return " ".join(t.split())
seen = {}
for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
    if not line.strip():
        continue
    r = json.loads(line)
    v = r[field]
    v = normalize(v) if norm and isinstance(v, str) else v
    k = json.dumps(v)
    if k in seen:
        print("dup " + json.dumps(seen[k]))
    else:
        seen[k] = r[idp] if idp in r else lineno
        print("keep")
EOF
# got.py IN OUT: the same lines read from winnow's --mark-only output, after
# checking that every record is the input line, byte for byte, plus only
# the spliced winnow member on duplicates.
cat > got.py <<'EOF'
import json, sys
inp = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.strip()]
out = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
assert len(inp) == len(out), (len(inp), len(out))
for a, b in zip(inp, out):
    r = json.loads(b)
    if "winnow" in r and "dup_of" in r["winnow"]:
        assert b == a[:-1] + ',"winnow":{"dup_of":' + json.dumps(r["winnow"]["dup_of"], ensure_ascii=False, separators=(",", ":")) + "}}" or "\"winnow\"" in a, b[:80]
        print("dup " + json.dumps(r["winnow"]["dup_of"]))
    else:
        assert a == b, "kept record changed: " + a[:60]
        print("keep")
EOF

test_expect_success 'debian-2000: the 15 copies marked with the first id, as python computes' '
	"$WINNOW" dedup exact -q --mark-only "$F" > out &&
	python3 ref.py "$F" text 0 id > want && python3 got.py "$F" out > got &&
	test_cmp want got && [ "$(grep -c ^dup got)" -eq 15 ]
'

test_expect_success 'debian-2000: without --mark-only the kept records are the input lines, in order' '
	"$WINNOW" dedup exact "$F" > out 2> err &&
	python3 ref.py "$F" text 0 id | paste -d" " - "$F" | sed -n "s/^keep //p" > want &&
	test_cmp want out &&
	grep -q "^winnow dedup exact: 15 duplicates dropped, 1985 distinct kept$" err &&
	grep -q "^winnow dedup exact: in 2000, out 1985, rejected 0$" err
'

test_expect_success 'select --per text --cap 1 gives the same bytes' '
	"$WINNOW" dedup exact -q "$F" > a && "$WINNOW" select -q --per text --cap 1 "$F" > b &&
	test_cmp a b
'

test_expect_success '--normalize on debian-2000 agrees with python (the same 15 copies)' '
	"$WINNOW" dedup exact -q --normalize --mark-only "$F" > out &&
	python3 ref.py "$F" text 1 id > want && python3 got.py "$F" out > got &&
	test_cmp want got && [ "$(grep -c ^dup got)" -eq 15 ]
'

test_expect_success '--normalize merges real variants (case, a lost parenthesis): 145 debian records' '
	D=$(fixture dedup/debian-normalize.jsonl) &&
	"$WINNOW" dedup exact -q --mark-only "$D" > raw &&
	"$WINNOW" dedup exact -q --normalize --mark-only "$D" > out &&
	python3 ref.py "$D" text 1 id > want && python3 got.py "$D" out > got &&
	test_cmp want got && [ "$(grep -c ^keep got)" -eq 29 ] &&
	python3 ref.py "$D" text 0 id > want0 && python3 got.py "$D" raw > got0 &&
	test_cmp want0 got0 && [ "$(grep -c ^keep got0)" -eq 59 ]
'

test_expect_success '--normalize on the hand-made cases: python and the hand list agree' '
	"$WINNOW" dedup exact -q --normalize --mark-only "$N" > out &&
	python3 ref.py "$N" text 1 id > want && python3 got.py "$N" out > got && test_cmp want got &&
	cat > hand <<-EOF &&
	keep
	dup "a1"
	dup "a1"
	dup "a1"
	keep
	dup "a5"
	keep
	dup "b1"
	dup "b1"
	keep
	dup "c1"
	keep
	keep
	dup "d1"
	keep
	keep
	dup "e1"
	EOF
	test_cmp hand got
'

test_expect_success 'without --normalize the hand-made cases are all distinct' '
	"$WINNOW" dedup exact -q "$N" > out && test_cmp "$N" out
'

test_expect_success '--key section keeps the first record of each of the 54 sections' '
	"$WINNOW" dedup exact -q --key section --mark-only "$F" > out &&
	python3 ref.py "$F" section 0 id > want && python3 got.py "$F" out > got &&
	test_cmp want got && [ "$(grep -c ^keep got)" -eq 54 ]
'

test_expect_success 'a non-string --key hashes its raw JSON; dup_of is the line without an id' '
	printf "%s\n" "{\"n\":1,\"text\":\"a\"}" "{\"n\":2,\"text\":\"b\"}" "{\"n\":1,\"text\":\"c\"}" \
		"{\"n\":1.0,\"text\":\"d\"}" "{\"n\":2,\"text\":\"e\"}" > k.jsonl &&
	"$WINNOW" dedup exact -q --key n --mark-only k.jsonl > out &&
	python3 got.py k.jsonl out > got && printf "keep\nkeep\ndup 1\nkeep\ndup 2\n" > want &&
	test_cmp want got &&
	"$WINNOW" dedup exact -q --key n --id text --mark-only k.jsonl | python3 got.py k.jsonl /dev/stdin > got2 &&
	printf "keep\nkeep\ndup \"a\"\nkeep\ndup \"b\"\n" > want2 && test_cmp want2 got2
'

test_expect_success 'an existing winnow object keeps its members; dup_of is appended' '
	printf "%s\n" "{\"id\":1,\"text\":\"x\",\"winnow\":{\"score\":2}}" "{\"id\":2,\"text\":\"x\",\"winnow\":{\"score\":3}}" > w.jsonl &&
	"$WINNOW" dedup exact -q --mark-only w.jsonl > out &&
	printf "%s\n" "{\"id\":1,\"text\":\"x\",\"winnow\":{\"score\":2}}" "{\"id\":2,\"text\":\"x\",\"winnow\":{\"score\":3,\"dup_of\":1}}" > want &&
	test_cmp want out
'

test_expect_success 'past --memory: a Bloom filter, the same result, its rate recomputed' '
	"$WINNOW" dedup exact --memory 64K --mark-only "$F" > out 2> err &&
	python3 ref.py "$F" text 0 id | sed "s/^dup .*/dup/" > want &&
	python3 got.py "$F" out | sed "s/^dup .*/dup/" > got && test_cmp want got &&
	grep "Bloom filter of" err > line &&
	python3 - line <<-EOF
	import math, re, sys
	s = open(sys.argv[1]).read()
	m = re.search(r"after (\d+) exact hashes: Bloom filter of (\d+) bits, (\d+) hashes, (\d+) keys, false-positive rate (\S+) \(target 1e-06\)", s)
	assert m, s
	exact, bits, k, keys, rate = int(m[1]), int(m[2]), int(m[3]), int(m[4]), float(m[5])
	assert bits == 64 * 1024 * 8 // 2 and k == 20 and exact + keys == 1985, s
	want = (1 - math.exp(-k * keys / bits)) ** k
	assert abs(rate - want) <= 1e-3 * want, (rate, want)
	EOF
'

test_expect_success 'an overfilled Bloom filter says so (rate above target)' '
	"$WINNOW" dedup exact --memory 4K --bloom-fpr 0.01 "$F" > out 2> err &&
	grep -q "past its target false-positive rate: raise --memory" err &&
	[ "$(wc -l < out)" -le 1985 ]
'

test_expect_success 'a record without text fails with its place; skip drops it' '
	printf "%s\n" "{\"id\":1,\"text\":\"a\"}" "{\"id\":2}" "{\"id\":3,\"text\":\"a\"}" > m.jsonl &&
	"$WINNOW" dedup exact m.jsonl > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "m.jsonl:2: missing text field .text." err && [ ! -s out ] &&
	"$WINNOW" dedup exact --on-error skip m.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 1 ] && grep -q "in 3, out 1, rejected 1" err
'

test_expect_success 'a missing --key is an error naming the key' '
	"$WINNOW" dedup exact --key url "$F" > out 2> err; rc=$? &&
	test $rc = 1 && grep -q "debian-2000.jsonl:1: missing key .url." err
'

test_expect_success 'usage errors: --memory too small, --bloom-fpr outside (0,1)' '
	"$WINNOW" dedup exact --memory 100 "$F" > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "memory must be at least 4K" err && [ ! -s out ] &&
	"$WINNOW" dedup exact --bloom-fpr 1 "$F" > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "bloom-fpr must be in (0, 1)" err
'
# units.py IN OUT SEP NORMALIZE FRAC [N]: --unit checked against text.split(SEP),
# a piece kept when blank (ASCII whitespace only) or among the first N-1
# times it is seen (--min-count N, default 2: first seen), the kept
# pieces joined by SEP, the record dropped when no non-blank piece or under
# FRAC of its UTF-8 bytes remains; unchanged records byte-identical,
# changed ones equal but for text and winnow.orig_len (the old byte count).
cat > units.py <<'EOF'
import json, sys, unicodedata
inp, outp, sep, norm, frac = sys.argv[1], sys.argv[2], sys.argv[3].replace("\\n", "\n"), sys.argv[4] == "1", float(sys.argv[5])
N = int(sys.argv[6]) if len(sys.argv) > 6 else 2
count = {}
def normalize(s):
    t = unicodedata.normalize("NFKC", s).lower()
    t = "".join(c for c in t if not unicodedata.category(c).startswith("P"))
    return " ".join(t.split())
seen, want = set(), []
for line in open(inp, encoding="utf-8").read().splitlines():
    r = json.loads(line); t = r["text"]; kept = []; left = 0
    for u in t.split(sep):
        blank = u.strip(" \t\r\n\f\v") == ""
        k = normalize(u) if norm else u
        if not blank: count[k] = count.get(k, 0) + 1
        if blank or count[k] < N:
            kept.append(u); left += not blank
    nt = sep.join(kept)
    if nt == t: want.append(line); continue
    if not left or len(nt.encode()) < frac * len(t.encode()): continue
    r["text"] = nt; r.setdefault("winnow", {})["orig_len"] = len(t.encode()); want.append(r)
got = open(outp, encoding="utf-8").read().splitlines()
assert len(got) == len(want), (len(got), len(want))
changed = 0
for g, w in zip(got, want):
    if isinstance(w, str): assert g == w, "unchanged record rewritten: " + g[:60]
    else: assert json.loads(g) == w, (g[:100], w); changed += 1
print("records", len(got), "changed", changed)
EOF

test_expect_success '--unit paragraph and line on debian-2000 agree with python' '
	"$WINNOW" dedup exact --unit paragraph "$F" > out 2> err &&
	python3 units.py "$F" out "\n\n" 0 0 &&
	grep -q "397 repeated paragraphs removed, 15 records dropped" err &&
	"$WINNOW" dedup exact -q --unit line --normalize "$F" > out &&
	python3 units.py "$F" out "\n" 1 0 &&
	"$WINNOW" dedup exact -q --unit paragraph --min-remaining-frac 0.6 "$F" > out &&
	python3 units.py "$F" out "\n\n" 0 0.6 > res && cat res &&
	[ "$(wc -l < out)" -lt 1985 ]
'

test_expect_success '--min-count 3 and 5: the first N-1 occurrences of a unit stay (python)' '
	"$WINNOW" dedup exact --unit line --min-count 3 "$F" > out3 2> err3 &&
	python3 units.py "$F" out3 "\n" 0 0 3 &&
	"$WINNOW" dedup exact -q --unit paragraph --min-count 5 --normalize "$F" > out5 &&
	python3 units.py "$F" out5 "\n\n" 1 0 5 &&
	"$WINNOW" dedup exact -q --unit line "$F" > out2 &&
	"$WINNOW" dedup exact -q --unit line --min-count 2 "$F" > out2b && test_cmp out2 out2b &&
	! cmp -s out2 out3
'

test_expect_success '--unit on hand-made texts: lines vs paragraphs, blank pieces, escapes' '
	U=$(fixture dedup/units.jsonl) &&
	"$WINNOW" dedup exact -q --unit line "$U" > l && python3 units.py "$U" l "\n" 0 0 &&
	"$WINNOW" dedup exact -q --unit paragraph "$U" > p && python3 units.py "$U" p "\n\n" 0 0 &&
	"$WINNOW" dedup exact -q --unit line --normalize "$U" > n && python3 units.py "$U" n "\n" 1 0 &&
	jq -r ".id" l | tr "\n" " " > ids && test "$(cat ids)" = "u1 u2 u4 u5 u6 " &&
	jq -r "select(.id == \"u2\") | .text" l > t2 && printf "Other intro\n\n" > want2 && test_cmp want2 t2 &&
	jq -r "select(.id == \"u4\") | .winnow.orig_len" n > len4 && echo 28 > want4 && test_cmp want4 len4
'

test_expect_success '--unit usage errors' '
	"$WINNOW" dedup exact --unit word "$F" > out 2> err; rc=$? &&
	test $rc = 2 && grep -q "unknown --unit .word. (doc, line or paragraph)" err &&
	"$WINNOW" dedup exact --unit line --mark-only "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "unit line rewrites the text: no --key or --mark-only" err &&
	"$WINNOW" dedup exact --unit line --min-remaining-frac 2 "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "min-remaining-frac must be in \[0, 1\]" err &&
	"$WINNOW" dedup exact --unit line --min-count 1 "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "min-count must be at least 2" err &&
	"$WINNOW" dedup exact --min-count 3 "$F" 2> err; rc=$? &&
	test $rc = 2 && grep -q "min-count goes with --unit line|paragraph" err
'
test_done
