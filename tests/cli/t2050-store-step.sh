#!/usr/bin/env bash
# t2050 — store as a step: a recipe with output: {db: ...} stores what the
# shell pipeline's `winnow store` stores (sqlite3 dumps compared) and records
# its provenance in runs (the recipe and its sha256 against sha256sum, the
# inputs against the CLI's own runs row and wc -c, each step's counts against
# python3), the append-twice warning, and usage errors that leave no database.
. "$(dirname "$0")/lib.sh"
deb=$(fixture debian-2000.jsonl)

head -300 "$deb" > a.jsonl
{ head -100 "$deb"; echo '{"id": broken'; sed -n 101,200p "$deb"; } > bad.jsonl
sed -n 301,400p "$deb" > b.jsonl
cat > r.yaml <<'YAML'
winnow: 1
seed: 7
inputs: [bad.jsonl]
steps:
  - cat: {on-error: skip}
  - select: {per: section, cap: 5}
output: {db: out.db, table: best, mode: append}
YAML
# records kept by --per section --cap 5, counted by python3 from the input
kept=$(python3 -c '
import json, collections, sys
c = collections.Counter()
for line in open("bad.jsonl"):
    try: r = json.loads(line)
    except ValueError: continue
    c[r.get("section")] += 1
print(sum(min(5, n) for n in c.values()))')
dump() { sqlite3 -batch "$1" ".schema \"$2\"" ".mode quote" "SELECT * FROM \"$2\" ORDER BY rowid"; }
q() { sqlite3 -batch "$1" "$2"; }

test_expect_success 'recipe -> db exits 0 and stores what the shell pipeline stores' '
	rm -f out.db* sh.db* &&
	"$WINNOW" run r.yaml 2> err &&
	"$WINNOW" cat --on-error skip bad.jsonl 2>/dev/null | "$WINNOW" select --per section --cap 5 --seed 7 |
		"$WINNOW" store sh.db --table best --mode append --seed 7 2>/dev/null &&
	dump out.db best > got && dump sh.db best > want && test_cmp want got &&
	[ "$(q out.db "SELECT count(*) FROM best")" = "$kept" ] && [ "$kept" -gt 20 ] &&
	grep -q "^winnow run: r.yaml: 3 steps, in 201, out $kept, rejected 1, " err
'

test_expect_success 'the runs row holds the recipe, its sha256, the command, seed and version' '
	[ "$(q out.db "SELECT json_extract(extra, \"\$.recipe.sha256\") FROM runs")" = \
	  "$(sha256sum r.yaml | cut -d" " -f1)" ] &&
	q out.db "SELECT json_extract(extra, \"\$.recipe.text\") FROM runs" > text &&
	{ cat r.yaml; echo; } | cmp - text &&
	[ "$(q out.db "SELECT json_extract(extra, \"\$.recipe.file\") FROM runs")" = r.yaml ] &&
	[ "$(q out.db "SELECT command FROM runs")" = "winnow run r.yaml" ] &&
	[ "$(q out.db "SELECT seed || \" \" || version || \" \" || mode || \" \" || table_name FROM runs")" = \
	  "7 $(cat "$WINNOW_ROOT/VERSION") append best" ]
'

test_expect_success 'the runs row lists the inputs as the CLI store records them' '
	rm -f cli.db* && "$WINNOW" store -q cli.db --on-error skip bad.jsonl &&
	[ "$(q out.db "SELECT inputs FROM runs")" = "$(q cli.db "SELECT inputs FROM runs")" ] &&
	[ "$(q out.db "SELECT json_extract(inputs, \"\$[0].name\") || \" \" || json_extract(inputs, \"\$[0].size\") FROM runs")" = \
	  "bad.jsonl $(wc -c < bad.jsonl)" ] &&
	[ "$(q out.db "SELECT json_array_length(inputs) FROM runs")" = 1 ]
'

test_expect_success 'the runs row holds every step s in/out/rejected/seconds' '
	steps=$(q out.db "SELECT group_concat(s.value ->> \"step\" || \":\" || (s.value ->> \"in\") || \":\" ||
		(s.value ->> \"out\") || \":\" || (s.value ->> \"rejected\"), \" \") FROM runs, json_each(runs.extra, \"\$.steps\") s") &&
	[ "$steps" = "cat:201:200:1 select:200:$kept:0 store:$kept:$kept:0" ] &&
	[ "$(q out.db "SELECT count(*) FROM runs, json_each(runs.extra, \"\$.steps\") s
		WHERE typeof(s.value ->> \"seconds\") = \"real\" AND (s.value ->> \"seconds\") >= 0")" = 3 ] &&
	[ "$(q out.db "SELECT n_in || \" \" || n_out || \" \" || n_rejected FROM runs")" = "$kept $kept 0" ]
'

test_expect_success 'a recipe run twice in append mode warns and appends again' '
	"$WINNOW" run --force r.yaml 2> err2 &&
	grep -qx "winnow store: out.db: warning: input .bad.jsonl. (xxh3 [0-9a-f]\{16\}) was already stored in table .best. by run 1; its records are now there twice" err2 &&
	! grep -q warning err &&
	[ "$(q out.db "SELECT count(*) FROM best")" = $((2 * kept)) ]
'

warn_re="winnow store: x.db: warning: input .a.jsonl. (xxh3 [0-9a-f]\{16\}) was already stored in table .t. by run"
test_expect_success 'store --mode append of the same input twice warns; other inputs do not' '
	rm -f x.db* &&
	"$WINNOW" store -q x.db -t t --mode append a.jsonl 2> e1 && [ ! -s e1 ] &&
	"$WINNOW" store -q x.db -t t --mode append b.jsonl 2> e2 && [ ! -s e2 ] &&
	"$WINNOW" store -q x.db -t t --mode append a.jsonl 2> e3 &&
	grep -qx "$warn_re 1; its records are now there twice" e3 && [ $(wc -l < e3) = 1 ] &&
	[ "$(q x.db "SELECT count(*) FROM t")" = 700 ] &&
	"$WINNOW" store -q x.db -t other --mode append a.jsonl 2> e4 && [ ! -s e4 ]
'

test_expect_success 'the same bytes from stdin warn too; a replace run starts the table over' '
	"$WINNOW" store -q x.db -t t --mode append < a.jsonl 2> e5 &&
	grep -qx "winnow store: x.db: warning: input .<stdin>. (xxh3 [0-9a-f]\{16\}) was already stored in table .t. by run 3; its records are now there twice" e5 &&
	"$WINNOW" store -q x.db -t t b.jsonl 2> e6 && [ ! -s e6 ] &&
	"$WINNOW" store -q x.db -t t --mode append a.jsonl 2> e7 && [ ! -s e7 ] &&
	"$WINNOW" store -q x.db -t t --mode append a.jsonl 2> e8 &&
	grep -qx "$warn_re 7; its records are now there twice" e8
'

test_expect_success 'a usage error leaves no database file' '
	rm -f u.db* &&
	"$WINNOW" store u.db --mode merge a.jsonl > out 2> err; rc=$? &&
	[ $rc = 2 ] && grep -qx "winnow store: --mode must be replace or append, not .merge." err &&
	[ ! -s out ] && [ -z "$(ls u.db* 2>/dev/null)" ] &&
	"$WINNOW" store u.db -t sqlite_x a.jsonl 2> err; rc=$? &&
	[ $rc = 2 ] && grep -q "^winnow store: --table: " err && [ -z "$(ls u.db* 2>/dev/null)" ] &&
	"$WINNOW" store 2> err; rc=$? &&
	[ $rc = 2 ] && grep -qx "winnow store: missing the database path" err
'

test_expect_success 'a recipe with a bad output mode is exit 2 and leaves no database' '
	rm -f out2.db* && sed "s/out.db, table: best, mode: append/out2.db, mode: merge/" r.yaml > m.yaml &&
	"$WINNOW" run m.yaml 2> err; rc=$? &&
	[ $rc = 2 ] && grep -q "^winnow run: m.yaml:[0-9]*:[0-9]*: store: --mode must be replace or append, not .merge.$" err &&
	[ -z "$(ls out2.db* 2>/dev/null)" ]
'
test_done
