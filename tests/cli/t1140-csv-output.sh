#!/usr/bin/env bash
# tests/cli/t1140-csv-output.sh — `--to csv` drops nothing silently: the
# columns are the union of every record's fields (first appearance order),
# winnow's member is one column per annotation, vectors are left out unless
# --with-vectors; `--csv-types` reads CSV cells that are numbers as numbers.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a later record'"'"'s extra field gets a column (union of keys, first-appearance order)' '
	printf "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"c\":true}\n{\"d\":null,\"b\":\"y,z\"}\n" > in.jsonl &&
	"$WINNOW" cat -q --to csv in.jsonl > out.csv &&
	printf "a,b,c,d\n1,x,,\n2,,true,\n,\"y,z\",,\n" > want && test_cmp want out.csv
'

test_expect_success 'winnow.* annotations are one column each; the vector is left out by default' '
	"$WINNOW" embed -q --dim 4 "$WINNOW_ROOT/fixtures/debian-2000.jsonl" | head -20 |
	  "$WINNOW" cluster kmeans -q -k 2 --device cpu > emb.jsonl &&
	"$WINNOW" cat -q --to csv emb.jsonl > out.csv &&
	head -1 out.csv | grep -qx "id,text,section,priority,source,installed_kb,winnow.cluster,winnow.dist" &&
	[ "$(wc -l < out.csv | tr -d " ")" -ge 21 ] &&
	! grep -q b64 out.csv &&
	python3 -c "
import csv, json, sys
rows = list(csv.DictReader(open(\"out.csv\", newline=\"\")))
recs = [json.loads(l) for l in open(\"emb.jsonl\")]
assert len(rows) == len(recs) == 20
for r, j in zip(rows, recs):
    assert r[\"id\"] == j[\"id\"] and r[\"text\"] == j[\"text\"]
    assert int(r[\"winnow.cluster\"]) == j[\"winnow\"][\"cluster\"]
    assert float(r[\"winnow.dist\"]) == j[\"winnow\"][\"dist\"]
"
'

test_expect_success '--with-vectors keeps the vector as its JSON text' '
	"$WINNOW" cat -q --to csv --with-vectors emb.jsonl > outv.csv &&
	head -1 outv.csv | grep -q ",winnow.emb," && grep -q "b64" outv.csv
'

test_expect_success '--columns still picks and orders, dotted paths allowed' '
	"$WINNOW" cat -q --to csv --columns id,winnow.cluster emb.jsonl > c.csv &&
	head -1 c.csv | grep -qx "id,winnow.cluster" && [ "$(wc -l < c.csv)" -eq 21 ]
'

test_expect_success '--csv-types: numbers become numbers, so select --by works on CSV input' '
	printf "id,installed_kb,note\na,10,012\nb,2.5e3,x\nc,-7,1.\n" > in.csv &&
	"$WINNOW" cat -q --csv --csv-types in.csv > typed.jsonl &&
	printf "{\"id\":\"a\",\"installed_kb\":10,\"note\":\"012\"}\n{\"id\":\"b\",\"installed_kb\":2.5e3,\"note\":\"x\"}\n{\"id\":\"c\",\"installed_kb\":-7,\"note\":\"1.\"}\n" > want &&
	test_cmp want typed.jsonl &&
	"$WINNOW" select -q --csv --csv-types --top 1 --by installed_kb in.csv | grep -q "\"id\":\"b\""
'

test_expect_success 'without --csv-types every CSV value stays a string (and --by says so)' '
	"$WINNOW" select --csv --top 1 --by installed_kb in.csv > out 2> err; rc=$?
	test $rc = 1 && grep -q "is not a number (--by)" err
'

test_done
