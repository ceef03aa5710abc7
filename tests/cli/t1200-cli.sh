#!/usr/bin/env bash
# t1200 — the dispatcher and the shared option parser: help, version,
# usage errors (exit 2), and that every command documents itself with
# usage lines, options and two examples.
. "$(dirname "$0")/lib.sh"

test_expect_success 'winnow help lists commands with a description' '"$WINNOW" help > out && grep -q "^  cat  *Validate, decompress" out && grep -q "^  store  *Write records to a SQLite table" out'
test_expect_success 'winnow --version names the version and features' '
	"$WINNOW" --version > out && grep -q "^winnow [0-9]" out && grep -q "^features: " out
'
test_expect_failure_code 2 'no command is a usage error' '"$WINNOW" 2>/dev/null'
test_expect_failure_code 2 'an unknown command is a usage error' '
	"$WINNOW" frobnicate 2>err; rc=$?; grep -q "not a winnow command" err || exit 9; exit $rc
'
test_expect_success 'every command has --help with usage, options and two examples' '
	bad=0
	for c in $("$WINNOW" help | sed -n "s/^  \([a-z-]*\)$/\1/p"); do
		"$WINNOW" $c --help > out 2>&1 || { echo "$c --help failed"; bad=1; continue; }
		grep -q "^usage: winnow $c" out || { echo "$c: no usage line"; bad=1; }
		[ "$(sed -n "/^Examples:/,\$p" out | grep -c "^  winnow")" -ge 2 ] || { echo "$c: fewer than two examples"; bad=1; }
		"$WINNOW" help $c | cmp -s - out || { echo "help $c differs from $c --help"; bad=1; }
	done
	[ $bad -eq 0 ]
'
test_expect_failure_code 2 'a missing option value is a usage error' '"$WINNOW" cat --field 2>/dev/null'
test_expect_failure_code 2 'a bad integer is a usage error' '
	"$WINNOW" cat --max-record abc 2>err; rc=$?; grep -q "expects a size" err || exit 9; exit $rc
'
test_expect_success 'options and files mix; -- ends options' '
	printf "{\"a\":1}\n" > -- 2>/dev/null; printf "{\"a\":1}\n" > ./-q.jsonl &&
	"$WINNOW" cat -- -q.jsonl > out 2>err && grep -q "in 1, out 1" err
'
test_expect_success '-V is --version' '
	"$WINNOW" -V > out && grep -q "^winnow [0-9]" out
'
test_expect_success 'a usage error is one line and a pointer to --help, not the usage' '
	"$WINNOW" cat --to xml < /dev/null > out 2> err; rc=$?
	test $rc = 2 && [ "$(wc -l < err)" -eq 2 ] &&
	grep -qx "winnow cat: unknown output format .xml. (jsonl or csv)" err &&
	grep -qx "Try .winnow cat --help. for more." err
'
test_expect_success 'an unknown option suggests the closest one' '
	"$WINNOW" cat --colums a < /dev/null 2> err; rc=$?
	test $rc = 2 && grep -q "unknown option .--colums.; did you mean .--columns.?" err
'
test_expect_success 'an integer option out of range says so (not out of memory)' '
	"$WINNOW" embed --dim 8 "$WINNOW_ROOT/fixtures/debian-2000.jsonl" 2>/dev/null | head -10 > in.jsonl &&
	"$WINNOW" cluster kmeans -k 2147483648 in.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "at most 2147483647" err && ! grep -q "out of memory" err
'
test_expect_success 'an unknown --device is a usage error' '
	"$WINNOW" embed --device gpu < /dev/null > out 2> err; rc=$?
	test $rc = 2 && grep -q "unknown device .gpu. (expected cpu, cuda or auto)" err
'
test_expect_success 'a command with methods lists them, each with a description' '
	"$WINNOW" score 2> err; rc=$?
	test $rc = 2 && grep -q "^  zipfit  *[A-Za-z]" err && grep -q "^  dsir  *[A-Za-z]" err
'
test_expect_success 'a huge number for an integer or size option is a usage error (no undefined conversion)' '
	"$WINNOW" select --top 1e200 --by n < /dev/null > out 2> err; rc=$?
	test $rc = 2 && grep -q "option .--top. expects an integer (k/M/G suffixes allowed), got .1e200." err &&
	"$WINNOW" cat --max-record 1e300 < /dev/null > out 2> err; rc=$?
	test $rc = 2 && grep -q "option .--max-record. expects a size in bytes" err
'
test_done
