#!/usr/bin/env bash
# t2060 — `export` and `device` are steps that read no records
# (WN_STEP_NO_INPUT): the driver opens no source (no stdin read, a word
# left over is a usage error, exit 2 before -o is created), export's
# closing line counts the rows it wrote, and a failed export prints its one
# error line and no closing line; device prints no closing line at all.
. "$(dirname "$0")/lib.sh"
F=small.jsonl

test_expect_success 'setup: a stored table' '
	head -50 "$WINNOW_ROOT/fixtures/debian-2000.jsonl" > small.jsonl &&
	"$WINNOW" store -q x.db "$F" && [ -s x.db ]
'
test_expect_success 'export reads no stdin and counts the rows it wrote' '
	n=$(wc -l < "$F") &&
	"$WINNOW" export x.db -o back.jsonl < /dev/full 2> err &&
	cmp "$F" back.jsonl &&
	echo "winnow export: in $n, out $n, rejected 0" > want && cmp want err
'
test_expect_success 'export of a missing table: one line, exit 1, no closing line, no file' '
	"$WINNOW" export x.db --table nope -o never.jsonl > out 2> err; rc=$?
	test $rc = 1 && echo "winnow export: x.db: no such table: nope" > want && cmp want err &&
	[ ! -e never.jsonl ] && [ ! -s out ]
'
test_expect_success 'export: a second word is a usage error before -o is opened' '
	"$WINNOW" export x.db extra -o never.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow export: unexpected argument '\''extra'\''" err &&
	grep -qx "Try '\''winnow export --help'\'' for more." err && [ ! -e never.jsonl ]
'
test_expect_success 'export: no database, and a bad --to, are usage errors' '
	"$WINNOW" export > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow export: missing the database path" err &&
	"$WINNOW" export x.db --to xml > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow export: --to must be jsonl or csv, not '\''xml'\''" err
'
test_expect_success 'device prints its lines and no closing line' '
	"$WINNOW" device --device cpu --threads 1 < /dev/full > out 2> err &&
	grep -qx "backend: cpu" out && [ ! -s err ]
'
test_expect_success 'device: an unknown device is the core'\''s runtime error (exit 1), as before' '
	"$WINNOW" device --device bogus > out 2> err; rc=$?
	test $rc = 1 && echo "winnow device: unknown device '\''bogus'\'' (expected cpu, cuda or auto)" > want &&
	cmp want err
'
test_expect_success 'the command table lists run as the only command that is not a step' '
	"$WINNOW" help > h &&
	grep -q "^  export  *Write a table stored by" h && grep -q "^  device  *Print the compute backend" h &&
	grep -q "^  run  *run a recipe" h
'
test_done
