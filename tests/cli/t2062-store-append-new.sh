#!/usr/bin/env bash
# t2062 — store: records already in the table, and where vectors are kept.
# --mode append-new skips a record whose XXH3-64 content hash (of its bytes,
# or of --id FIELD's value) is in the table and says how many; when it skips
# them all it writes nothing and exits 3. Plain --mode append stores them
# again and warns (counts checked by hand: a = lines 1-30, b = lines 20-40,
# so 11 shared). Vectors: by default the `winnow` column leaves winnow.emb
# out and `record` keeps it (export gives the input bytes, cmp); --vectors
# both keeps the old layout; --vectors drop removes it from both.
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"
q() { sqlite3 "$1" "$2"; }

test_expect_success 'setup' '
	sed -n 1,30p "$D" > a.jsonl && sed -n 20,40p "$D" > b.jsonl &&
	"$WINNOW" embed -q --dim 8 --threads 1 a.jsonl > e.jsonl
'
test_expect_success 'append-new: 11 of b are in the table already: skipped, 10 stored' '
	"$WINNOW" store x.db --mode append-new a.jsonl 2> e1 &&
	grep -qx "winnow store: x.db: append-new: 0 records already in table .selection. skipped" e1 &&
	"$WINNOW" store x.db --mode append-new b.jsonl 2> e2 &&
	grep -qx "winnow store: x.db: append-new: 11 records already in table .selection. skipped" e2 &&
	grep -qx "winnow store: in 21, out 10, rejected 0" e2 &&
	[ "$(q x.db "SELECT count(*) FROM selection")" = 40 ] &&
	"$WINNOW" export -q x.db > back.jsonl && sed -n 1,40p "$D" > want.jsonl && cmp want.jsonl back.jsonl &&
	[ "$(q x.db "SELECT mode FROM runs ORDER BY run_id DESC LIMIT 1")" = append-new ]
'
test_expect_success 'append-new with nothing new: exit 3, one line, no runs row, table unchanged' '
	before=$(q x.db "SELECT count(*) FROM runs") &&
	"$WINNOW" store -q x.db --mode append-new b.jsonl > out 2> err; rc=$?
	test $rc = 3 && [ ! -s err ] &&
	"$WINNOW" store x.db --mode append-new a.jsonl > out 2> err; rc=$?
	test $rc = 3 && grep -qx "winnow store: x.db: nothing new to do: every record is already in table .selection." err &&
	[ "$(q x.db "SELECT count(*) FROM runs")" = "$before" ] &&
	[ "$(q x.db "SELECT count(*) FROM selection")" = 40 ]
'
test_expect_success 'append-new repeats inside one run: the second copy is skipped' '
	cat a.jsonl a.jsonl | "$WINNOW" store y.db --mode append-new 2> err &&
	grep -qx "winnow store: y.db: append-new: 30 records already in table .selection. skipped" err &&
	[ "$(q y.db "SELECT count(*) FROM selection")" = 30 ]
'
test_expect_success 'append-new --id id: same id, other bytes, is already there' '
	sed "s/\"section\": \"[a-z]*\"/\"section\": \"changed\"/" b.jsonl > b2.jsonl && ! cmp -s b.jsonl b2.jsonl &&
	"$WINNOW" store -q z.db --mode append a.jsonl &&
	"$WINNOW" store z.db --mode append-new b2.jsonl 2> e0 &&
	grep -qx "winnow store: z.db: append-new: 0 records already in table .selection. skipped" e0 &&
	"$WINNOW" store -q w.db --mode append a.jsonl &&
	"$WINNOW" store w.db --mode append-new --id id b2.jsonl 2> e1 &&
	grep -qx "winnow store: w.db: append-new: 11 records already in table .selection. skipped" e1
'
test_expect_success 'plain append warns (even under -q) about records stored twice, from another file' '
	"$WINNOW" store -q v.db --mode append a.jsonl 2> e1 && [ ! -s e1 ] &&
	"$WINNOW" store -q v.db --mode append b.jsonl 2> e2 &&
	grep -qx "winnow store: v.db: warning: 11 of the records appended were already in table .selection. (same content hash); they are now there twice (--mode append-new skips them)" e2 &&
	[ $(wc -l < e2) = 1 ] && [ "$(q v.db "SELECT count(*) FROM selection")" = 51 ]
'
test_expect_success 'usage: --id needs an append mode; --vectors takes record, both or drop' '
	"$WINNOW" store u.db --id id a.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow store: --id applies to --mode append and append-new" err &&
	"$WINNOW" store u.db --vectors twice a.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow store: --vectors must be record, both or drop, not .twice." err &&
	[ ! -e u.db ]
'
test_expect_success 'vectors default: once, in record; the winnow column has the rest; export is the input' '
	"$WINNOW" store -q r.db e.jsonl && "$WINNOW" export -q r.db > r.jsonl && cmp e.jsonl r.jsonl &&
	[ "$(q r.db "SELECT count(*) FROM selection WHERE instr(winnow, \"b64\") > 0")" = 0 ] &&
	[ "$(q r.db "SELECT count(*) FROM selection WHERE instr(record, \"b64\") > 0")" = 30 ] &&
	q r.db "SELECT winnow FROM selection ORDER BY rowid" > w.txt &&
	[ "$(sort -u w.txt)" = "{}" ]
'
test_expect_success '--vectors both: the winnow column is the record'\''s winnow object, as before' '
	"$WINNOW" store -q b.db --vectors both e.jsonl && "$WINNOW" export -q b.db > b.out && cmp e.jsonl b.out &&
	q b.db "SELECT winnow FROM selection ORDER BY rowid" > wb.txt &&
	sed "s/.*\"winnow\"://; s/}\$//" e.jsonl > we.txt && cmp we.txt wb.txt
'
test_expect_success '--vectors drop: export gives the records without winnow.emb' '
	"$WINNOW" store -q d.db --vectors drop e.jsonl && "$WINNOW" export -q d.db > d.out &&
	sed "s/\"emb\":{[^}]*}//" e.jsonl > want-d.jsonl && cmp want-d.jsonl d.out &&
	bytes() { q "$1" "SELECT sum(length(record)) + sum(length(winnow)) FROM selection"; } &&
	[ $(bytes d.db) -lt $(bytes r.db) ] && [ $(bytes r.db) -lt $(bytes b.db) ]
'
test_expect_success 'a recipe with output mode append-new: the forced rerun finds nothing new, exit 3, table unchanged' '
	printf "winnow: 1\ninputs: [a.jsonl]\nsteps:\n  - cat: {}\noutput: {db: nightly.db, table: t, mode: append-new}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	[ "$(q nightly.db "SELECT count(*) FROM t")" = 30 ] &&
	"$WINNOW" run --force r.yaml > out 2> err; rc=$?
	test $rc = 3 && grep -q "^winnow run: r.yaml: nothing new to do: every record is already in the table" err &&
	[ "$(q nightly.db "SELECT count(*) FROM t")" = 30 ] && [ "$(q nightly.db "SELECT count(*) FROM runs")" = 1 ]
'
test_done
