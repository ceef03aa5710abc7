#!/usr/bin/env bash
# t2061 — embed reads ahead (io/batch's reader thread) and still rejects in
# stream order: the quarantine file holds the bad lines in input order
# (the reader's and the step's alike: checked against the input by line
# number), and under --on-error fail with --stream the records before the
# bad one are written, the same at --threads 1 and 2 (the block boundaries
# are those of the records read, so the count does not depend on timing).
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"

test_expect_success 'setup: good records with bad ones among them, across blocks' '
	{ head -5 "$D"
	  echo "{\"id\": \"broken\", \"text\": \"unterminated}"
	  echo "{\"id\": \"no-text\", \"section\": \"misc\"}"
	  printf "{\"id\": \"latin1\", \"text\": \"caf\351\"}\n"
	  echo "{\"id\": \"bad-winnow\", \"text\": \"x\", \"winnow\": 3}"
	  sed -n 6,2000p "$D"
	  echo "{\"id\": \"late-no-text\"}"
	  head -100 "$D"
	  echo "[1]"
	} > in.jsonl &&
	sed -n "6,9p;2005p;2106p" in.jsonl > want-q.jsonl && [ $(wc -l < want-q.jsonl) = 6 ]
'
test_expect_success 'quarantine: every bad line, in input order' '
	"$WINNOW" embed --dim 8 --threads 2 --quarantine q.jsonl in.jsonl > out.jsonl 2> err &&
	cmp want-q.jsonl q.jsonl && [ $(wc -l < out.jsonl) = 2100 ] &&
	grep -qx "winnow embed: in 2106, out 2100, rejected 6" err
'
test_expect_success 'stderr: the rejection lines in input order' '
	grep -o "in.jsonl:[0-9]*:" err | tr -d : | sed "s/in.jsonl//" > lines &&
	printf "6\n7\n8\n9\n2005\n2106\n" > want-lines && cmp want-lines lines
'
test_expect_success '--on-error fail --stream: the 2000 records before the bad one are written, at 1 and 2 threads' '
	sed -n "1,5p;10,2005p" in.jsonl > fail.jsonl &&
	for t in 1 2; do
		"$WINNOW" embed --dim 8 --threads $t --stream fail.jsonl > o$t.jsonl 2> e$t; rc=$?
		test $rc = 1 || exit 1
		grep -qx "winnow embed: fail.jsonl:2001: missing text field" e$t || exit 1
		grep -qx "winnow embed: in 2001, out 2000, rejected 1 (failed: 2000 written)" e$t || exit 1
	done &&
	cmp o1.jsonl o2.jsonl && [ $(wc -l < o1.jsonl) = 2000 ]
'
test_expect_success 'the output of the good records is the output without the bad ones' '
	grep -v "^{\"id\": \"\(broken\|no-text\|latin1\|bad-winnow\|late-no-text\)\"" in.jsonl | grep -v "^\[1\]" > good.jsonl &&
	"$WINNOW" embed --dim 8 --threads 1 good.jsonl > good-out.jsonl 2> /dev/null &&
	cmp good-out.jsonl out.jsonl
'
test_done
