#!/usr/bin/env bash
# t1120 — compressed inputs are recognised by their magic bytes: lz4 frames
# are decoded (checked against the lz4 CLI's own decoding), xz, bzip2 and
# legacy lz4 are refused with one line naming the format and the tool to use
# (they used to be reported as "not valid UTF-8"). The files are made by the
# real tools (xz-utils, bzip2, lz4: installed by make deps).
. "$(dirname "$0")/lib.sh"
SRC=$(fixture debian-2000.jsonl)

# refused FILE FORMAT TOOL: exit 1, nothing written, the one message, from a file and from stdin
refused() {
	"$WINNOW" cat "$1" > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] || { echo "file: exit $rc"; cat err; return 1; }
	grep -qx "winnow cat: $1: compressed with $2: not supported (use $3)" err || { cat err; return 1; }
	! grep -q "UTF-8" err || return 1
	"$WINNOW" cat < "$1" > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] || { echo "stdin: exit $rc"; cat err; return 1; }
	grep -qx "winnow cat: <stdin>: compressed with $2: not supported (use $3)" err || { cat err; return 1; }
}

test_expect_success 'xz input is refused by name' '
	xz -c "$SRC" > in.jsonl.xz && refused in.jsonl.xz xz xzcat
'
test_expect_success 'bzip2 input is refused by name' '
	bzip2 -c "$SRC" > in.jsonl.bz2 && refused in.jsonl.bz2 bzip2 bzcat
'
test_expect_success 'legacy lz4 (lz4 -l) input is refused by name' '
	lz4 -q -l -c "$SRC" > in.jsonl.lz4 && refused in.jsonl.lz4 "lz4 (legacy format)" lz4cat
'
test_expect_success 'a CSV header that starts with BZh is CSV, not bzip2' '
	printf "BZh91AY,x\n1,2\n" > in.csv &&
	"$WINNOW" cat -q --csv in.csv > out && echo "{\"BZh91AY\":\"1\",\"x\":\"2\"}" > exp && test_cmp exp out
'
test_expect_success 'lz4 frames are decoded: file, stdin, small blocks, concatenated frames' '
	lz4 -q -c "$SRC" > a.lz4 && lz4 -dc a.lz4 > plain && cmp plain "$SRC" &&
	"$WINNOW" cat -q a.lz4 > out && test_cmp plain out &&
	"$WINNOW" cat -q < a.lz4 > out && test_cmp plain out &&
	lz4 -q -B4 --content-size -c "$SRC" > b.lz4 && "$WINNOW" cat -q b.lz4 > out && test_cmp plain out &&
	cat a.lz4 b.lz4 > ab.lz4 && lz4 -dc ab.lz4 > plain2 && [ "$(wc -l < plain2)" -eq 4000 ] &&
	"$WINNOW" cat -q ab.lz4 > out && test_cmp plain2 out
'
test_expect_success 'lz4 and the other inputs mix in one run' '
	lz4 -q -c "$SRC" > a.lz4 && gzip -c "$SRC" > a.gz &&
	"$WINNOW" cat a.lz4 a.gz "$SRC" > out 2> err && grep -qx "winnow cat: in 6000, out 6000, rejected 0" err &&
	cat "$SRC" "$SRC" "$SRC" > exp && test_cmp exp out
'
test_expect_success 'truncated lz4 fails with a message' '
	lz4 -q -B4 -c "$SRC" > a.lz4 && head -c 200000 a.lz4 > t.lz4 &&
	"$WINNOW" cat t.lz4 > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow cat: t.lz4:[0-9]*: truncated lz4 stream$" err
'
test_expect_success 'corrupt lz4 fails with a message' '
	lz4 -q -B4 -c "$SRC" > a.lz4 &&
	python3 -c "
import sys; b = bytearray(open(\"a.lz4\", \"rb\").read())
for i in range(5000, 5040): b[i] ^= 0x5a
open(\"c.lz4\", \"wb\").write(b)" &&
	"$WINNOW" cat c.lz4 > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow cat: c.lz4:[0-9]*: corrupt lz4 data" err
'
test_done
