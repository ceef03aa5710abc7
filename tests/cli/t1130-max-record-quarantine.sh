#!/usr/bin/env bash
# t1130 — records over --max-record reach the quarantine file whole and
# byte for byte (they used to be counted but never written there), from a
# file (mapped), from a pipe (read in pieces) and from gzip, including one
# far larger than the reader's buffer; skip and fail still drop them as
# they come. The reference for "over the limit" is awk's length().
. "$(dirname "$0")/lib.sh"
B=$(fixture bad)

# good3.jsonl's first line is 616 bytes, the others are shorter; in.jsonl
# ends with that line again, without a newline
test_expect_success 'over-long lines of a file are quarantined verbatim' '
	rm -f q.jsonl; { cat "$B/good3.jsonl"; head -1 "$B/good3.jsonl" | head -c -1; } > in.jsonl &&
	awk "length(\$0) > 600" in.jsonl > exp && [ "$(wc -l < exp)" -eq 2 ] &&
	awk "length(\$0) <= 600" in.jsonl > exp_out &&
	"$WINNOW" cat --max-record 600 --quarantine q.jsonl in.jsonl > out 2> err &&
	test_cmp exp q.jsonl && test_cmp exp_out out &&
	grep -q "^winnow cat: in.jsonl:1: record larger than the limit (600 bytes)$" err &&
	grep -q "^winnow cat: in.jsonl:4: record larger than the limit (600 bytes)$" err &&
	grep -qx "winnow cat: in 4, out 2, rejected 2" err
'
test_expect_success 'the same from a pipe and from gzip' '
	rm -f q.jsonl; cat "$B/good3.jsonl" "$B/good3.jsonl" > in.jsonl &&
	awk "length(\$0) > 600" in.jsonl > exp &&
	cat in.jsonl | "$WINNOW" cat --max-record 600 --quarantine q.jsonl > out 2> err &&
	test_cmp exp q.jsonl && grep -qx "winnow cat: in 6, out 4, rejected 2" err &&
	rm q.jsonl && gzip -c in.jsonl > in.jsonl.gz &&
	"$WINNOW" cat --max-record 600 --quarantine q.jsonl in.jsonl.gz > out 2> err &&
	test_cmp exp q.jsonl && grep -qx "winnow cat: in 6, out 4, rejected 2" err
'

# big.jsonl: a good line, a 9 MB record (over the reader's 4 MiB buffer and
# 1 MiB reads), a good line
make_big() {
	{ head -1 "$B/good3.jsonl"
	  printf "{\"text\": \""; head -c 9000000 /dev/zero | tr "\\0" a; printf "\"}\n"
	  sed -n 3p "$B/good3.jsonl"; } > big.jsonl
}
test_expect_success 'a 9 MB record through a pipe is quarantined whole' '
	rm -f q.jsonl; make_big && sed -n 2p big.jsonl > exp && [ "$(wc -c < exp)" -eq 9000013 ] &&
	cat big.jsonl | "$WINNOW" cat --max-record 1000 --quarantine q.jsonl > out 2> err &&
	test_cmp exp q.jsonl && sed -n "1p;3p" big.jsonl > exp_out && test_cmp exp_out out &&
	grep -q "^winnow cat: <stdin>:2: record larger than the limit (1000 bytes)$" err &&
	grep -qx "winnow cat: in 3, out 2, rejected 1" err
'
test_expect_success 'skip and fail drop the 9 MB record' '
	make_big && sed -n "1p;3p" big.jsonl > exp_out &&
	cat big.jsonl | "$WINNOW" cat --max-record 1000 --on-error skip > out 2> err &&
	test_cmp exp_out out && grep -qx "winnow cat: in 3, out 2, rejected 1" err &&
	cat big.jsonl | "$WINNOW" cat --max-record 1000 > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] &&
	grep -q "^winnow cat: <stdin>:2: record larger than the limit (1000 bytes)$" err
'
test_expect_success 'an over-long CSV line is quarantined as read' '
	rm -f q.csv; printf "id,text\r\na,%s\r\nb,two\r\n" "$(head -c 700 /dev/zero | tr "\\0" x)" > in.csv &&
	sed -n 2p in.csv > exp &&
	cat in.csv | "$WINNOW" cat --csv --max-record 600 --quarantine q.csv > out 2> err &&
	test_cmp exp q.csv && echo "{\"id\":\"b\",\"text\":\"two\"}" > exp_out && test_cmp exp_out out
'
test_expect_success 'an over-long line cut short by a truncated zstd stream: quarantine counts it as skip does (found by fuzz_csv)' '
	{ echo "{\"id\":1}"; seq 1 100000 | tr -d "\\n"; } | zstd -q -c > full.zst &&
	head -c $(( $(wc -c < full.zst) * 6 / 10 )) full.zst > cut.zst &&
	"$WINNOW" cat --max-record 1000 --on-error skip < cut.zst > out 2> err1; rc1=$?
	"$WINNOW" cat --max-record 1000 --quarantine q.txt < cut.zst > out 2> err2; rc2=$?
	test $rc1 = 1 && test $rc2 = 1 &&
	grep -q "^winnow cat: <stdin>:2: truncated zstd stream" err1 &&
	grep -q "^winnow cat: <stdin>:2: record larger than the limit (1000 bytes)" err1 &&
	grep -q "^winnow cat: <stdin>:2: record larger than the limit (1000 bytes)" err2 &&
	grep -qx "winnow cat: in 2, out 0, rejected 1 (failed: nothing written)" err1 &&
	grep -qx "winnow cat: in 2, out 0, rejected 1 (failed: nothing written)" err2
'
test_done
