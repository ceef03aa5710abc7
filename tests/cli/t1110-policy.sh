#!/usr/bin/env bash
# tests/cli/t1110-policy.sh — the --on-error policy and the closing line,
# defined once (io/stream.h): in = every non-blank line read (records and bad
# lines), rejected = the bad lines and records (a part of in), out = records
# written. The quarantine file is an explicit value, never an input, and
# starts empty each run unless --quarantine-append.
. "$(dirname "$0")/lib.sh"

mk_input() { # 3 good records, one malformed line, one record without text
	printf '{"text":"a"}\n{"text":"b"}\n{oops\n{"id":7}\n{"text":"c"}\n' > in.jsonl
}

test_expect_success 'malformed lines count in in and rejected (cat, stats)' '
	mk_input &&
	"$WINNOW" cat --on-error skip in.jsonl > out 2> err &&
	grep -qx "winnow cat: in 5, out 4, rejected 1" err &&
	"$WINNOW" stats --on-error skip in.jsonl > out 2> err &&
	grep -qx "winnow stats: in 5, out 0, rejected 1" err
'

test_expect_success 'a step that rejects a record: rejected is a part of in (score zipfit)' '
	mk_input &&
	printf "{\"text\":\"a b c\"}\n" > target.jsonl &&
	"$WINNOW" score zipfit --target target.jsonl --on-error skip in.jsonl > out 2> err &&
	grep -qx "winnow score zipfit: in 5, out 3, rejected 2" err &&
	[ "$(wc -l < out)" -eq 3 ]
'

test_expect_success 'under fail, in counts the lines up to the failing one' '
	mk_input &&
	"$WINNOW" cat in.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "in.jsonl:3: invalid JSON" err &&
	grep -qx "winnow cat: in 3, out 0, rejected 1 (failed: nothing written)" err && ! test -s out
'

test_expect_success 'embed under fail on the first record: in 1, not a batch size' '
	printf "{\"body\":1}\n" > one.jsonl && for i in $(seq 3000); do echo "{\"body\":\"x$i\"}"; done >> one.jsonl &&
	"$WINNOW" embed --field body one.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "one.jsonl:1: " err &&
	grep -qx "winnow embed: in 1, out 0, rejected 1 (failed: nothing written)" err
'

test_expect_success '--quarantine FILE and --on-error quarantine=FILE keep the bad lines verbatim' '
	mk_input &&
	"$WINNOW" cat -q --quarantine q1.jsonl in.jsonl > out1 &&
	"$WINNOW" cat -q --on-error quarantine=q2.jsonl in.jsonl > out2 &&
	printf "{oops\n" > want && cmp want q1.jsonl && cmp want q2.jsonl && cmp out1 out2
'

test_expect_success 'quarantine without a file is a usage error that names both forms' '
	mk_input &&
	"$WINNOW" cat --on-error quarantine in.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "quarantine needs a file: --on-error quarantine=FILE or --quarantine FILE" err &&
	! test -s out
'

test_expect_success 'a quarantine file that is also an input is refused, the input untouched' '
	mk_input && cp in.jsonl keep.jsonl &&
	"$WINNOW" cat --quarantine in.jsonl in.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "in.jsonl: the quarantine file is also an input" err &&
	cmp in.jsonl keep.jsonl && ! test -s out
'

test_expect_success 'the old "--on-error quarantine FILE" form no longer swallows an input' '
	mk_input && cp in.jsonl keep.jsonl &&
	"$WINNOW" cat --on-error quarantine keep.jsonl < in.jsonl > out 2> err; rc=$?
	test $rc = 2 && cmp in.jsonl keep.jsonl
'

test_expect_success 'the quarantine file starts empty each run; --quarantine-append keeps it' '
	mk_input &&
	echo "{\"old\":1}" > q.jsonl &&
	"$WINNOW" cat -q --quarantine q.jsonl in.jsonl > /dev/null &&
	printf "{oops\n" > want && cmp want q.jsonl &&
	"$WINNOW" cat -q --quarantine q.jsonl --quarantine-append in.jsonl > /dev/null &&
	printf "{oops\n{oops\n" > want2 && cmp want2 q.jsonl &&
	printf "{\"text\":\"fine\"}\n" > good.jsonl &&
	"$WINNOW" cat -q --quarantine q.jsonl good.jsonl > /dev/null && ! test -s q.jsonl
'

test_done
