#!/usr/bin/env bash
# t3300 — `score zipfit` and `score dsir` as steps: every option is checked
# before any output is opened (a usage error leaves no file, not even a
# temporary one), `winnow score` lists its methods from the table of steps,
# and DSIR's stdin spool is io/spool: past its memory it spills to a file
# that is never seen in $TMPDIR (not even after kill -9), gives the same
# bytes, and when it cannot be created says where and why. Each case works
# in a directory of its own (c1, c2, ...): what one leaves must not hide another.
. "$(dirname "$0")/lib.sh"
Z="$WINNOW_ROOT/fixtures/zipfit"
D="$WINNOW_ROOT/fixtures/dsir"

test_expect_success 'zipfit --level 10 -o FILE: exit 2, the reason, no FILE and no FILE.tmp.*' '
	mkdir c1 && cd c1 &&
	"$WINNOW" score zipfit --level 10 -o out.jsonl --target "$Z/target.jsonl" "$Z/source.jsonl" 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow score zipfit: level 10 out of range 1..9 for this compressor" err &&
	! ls out.jsonl* 2> /dev/null
'
test_expect_success 'zipfit lz4 --level 13 -o FILE: the range is the compressor'"'"'s' '
	mkdir c2 && cd c2 &&
	"$WINNOW" score zipfit --compressor lz4 --level 13 -o out.jsonl --target "$Z/target.jsonl" "$Z/source.jsonl" 2> err; rc=$?
	test $rc = 2 && grep -q "level 13 out of range 0..12" err && ! ls out.jsonl* 2> /dev/null
'
test_expect_success 'dsir --buckets 0 / --ngrams 6 -o FILE: exit 2 and nothing written' '
	mkdir c3 && cd c3 &&
	"$WINNOW" score dsir --buckets 0 -o out.jsonl --target "$D/target.jsonl" "$D/raw.jsonl.gz" 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow score dsir: --buckets must be 1..268435456" err &&
	"$WINNOW" score dsir --ngrams 6 -o out.jsonl --target "$D/target.jsonl" "$D/raw.jsonl.gz" 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow score dsir: --ngrams must be 1..5" err &&
	! ls out.jsonl* 2> /dev/null
'
test_expect_success 'winnow score lists both methods, each with a description' '
	mkdir c4 && cd c4 &&
	"$WINNOW" score 2> err; rc=$?
	test $rc = 2 && grep -q "^  zipfit  *[A-Za-z]" err && grep -q "^  dsir  *[A-Za-z]" err
'
test_expect_success 'score <method> --help and help score <method> show the options' '
	mkdir c5 && cd c5 &&
	"$WINNOW" score dsir --help > h1 && grep -q -- "--raw FILE" h1 &&
	"$WINNOW" help score zipfit > h2 && grep -q -- "--compressor NAME" h2
'
test_expect_success 'dsir stdin spilled to disk: the same bytes as the file read twice, TMPDIR left empty' '
	mkdir c6 && cd c6 &&
	mkdir tmp &&
	"$WINNOW" score dsir -q --target "$D/target.jsonl" "$D/raw.jsonl.gz" > file.jsonl &&
	gzip -dc "$D/raw.jsonl.gz" | TMPDIR=$PWD/tmp WINNOW_SPOOL_MEM=4096 \
		"$WINNOW" score dsir -q --target "$D/target.jsonl" -o spilled.jsonl &&
	test_cmp file.jsonl spilled.jsonl && [ -z "$(ls -A tmp)" ]
'
test_expect_success 'dsir spool that cannot be created: where and why, exit 1, nothing written' '
	mkdir c7 && cd c7 &&
	gzip -dc "$D/raw.jsonl.gz" | head -50 > in.jsonl &&
	TMPDIR=/nonexistent WINNOW_SPOOL_MEM=0 "$WINNOW" score dsir --target "$D/target.jsonl" -o out.jsonl < in.jsonl 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow score dsir: cannot create a spool in /nonexistent: No such file or directory$" err &&
	grep -q "(failed: nothing written)" err && ! ls out.jsonl* 2> /dev/null
'
test_expect_success 'dsir killed -9 while spooling stdin leaves nothing in TMPDIR' '
	mkdir c8 && cd c8 &&
	mkdir tmp && mkfifo fifo &&
	{ TMPDIR=$PWD/tmp WINNOW_SPOOL_MEM=1024 "$WINNOW" score dsir -q --target "$D/target.jsonl" -o out.jsonl < fifo & } &&
	pid=$! && exec 3> fifo && gzip -dc "$D/raw.jsonl.gz" >&3 && sleep 1 &&
	kill -9 $pid && exec 3>&- && { wait $pid; true; } &&
	[ -z "$(ls -A tmp)" ] && ! ls out.jsonl 2> /dev/null
'
test_done
