#!/usr/bin/env bash
# t1100 — every bad-input case of the foundation issue gives one positioned
# line `winnow <cmd>: <file>:<line>: <what>` and follows --on-error
# (fail: exit 1 and nothing written; skip: counted; quarantine: lines kept verbatim).
. "$(dirname "$0")/lib.sh"
B="$WINNOW_ROOT/fixtures/bad"

# expect_reject FILE LINE WHAT [extra cat options]: fail, skip and quarantine behaviour
expect_reject() {
	local f=$B/$1 line=$2 what=$3; shift 3
	"$WINNOW" cat "$@" "$f" > out 2> err; rc=$?
	[ $rc -eq 1 ] || { echo "fail mode: exit $rc"; return 1; }
	[ ! -s out ] || { echo "fail mode wrote output"; return 1; }
	grep -q "^winnow cat: $f:$line: .*$what" err || { echo "no positioned error:"; cat err; return 1; }
	"$WINNOW" cat --on-error skip "$@" "$f" > out 2> err || { echo "skip mode failed"; cat err; return 1; }
	grep -q "rejected 1" err || { echo "skip mode did not count:"; cat err; return 1; }
	"$WINNOW" cat --quarantine q.jsonl "$@" "$f" > out2 2> err || return 1
	cmp -s out out2 || { echo "quarantine output differs from skip output"; return 1; }
	[ "$(wc -l < q.jsonl)" -eq 1 ] || { echo "quarantine should hold one line"; return 1; }
	sed -n "${line}p" "$f" | cmp -s - q.jsonl || { echo "quarantined line is not verbatim"; return 1; }
	rm -f q.jsonl
}

test_expect_success 'malformed JSON' 'expect_reject malformed.jsonl 3 "invalid JSON"'
test_expect_success 'valid JSON that is not an object' 'expect_reject not-object.jsonl 2 "not a JSON object (an array)"'
test_expect_success 'invalid UTF-8' 'expect_reject invalid-utf8.jsonl 2 "not valid UTF-8"'

test_expect_success 'empty and whitespace-only lines are not records' '
	"$WINNOW" cat "$B/blank-lines.jsonl" > out 2>err &&
	grep -v "^ *$" "$B/blank-lines.jsonl" | cmp - out && grep -q "in 2, out 2, rejected 0" err
'
test_expect_success 'a last line without newline is accepted' '
	"$WINNOW" cat -q "$B/no-final-newline.jsonl" > out &&
	{ cat "$B/no-final-newline.jsonl"; echo; } | cmp - out
'
test_expect_success 'CRLF line ends are accepted and written as LF' '
	"$WINNOW" cat -q "$B/crlf.jsonl" > out && tr -d "\r" < "$B/crlf.jsonl" | cmp - out
'
test_expect_success 'a UTF-8 BOM at the start is skipped' '
	"$WINNOW" cat -q "$B/bom.jsonl" > out && tail -c +4 "$B/bom.jsonl" | cmp - out
'
test_expect_success 'a record over --max-record' '
	"$WINNOW" cat --max-record 600 "$B/good3.jsonl" > out 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow cat: $B/good3.jsonl:[0-9]*: record larger than the limit (600 bytes)" err &&
	"$WINNOW" cat --max-record 600 --on-error skip "$B/good3.jsonl" > out 2>err &&
	awk "length(\$0) <= 600" "$B/good3.jsonl" | cmp - out
'
test_expect_success 'truncated gzip' '
	"$WINNOW" cat "$B/truncated.jsonl.gz" > out 2>err; [ $? -eq 1 ] && [ ! -s out ] &&
	grep -q "^winnow cat: $B/truncated.jsonl.gz:[0-9]*: truncated gzip stream" err
'
test_expect_success 'corrupt gzip' '
	"$WINNOW" cat "$B/corrupt.jsonl.gz" > out 2>err; [ $? -eq 1 ] && [ ! -s out ] &&
	grep -q "^winnow cat: $B/corrupt.jsonl.gz:[0-9]*: corrupt gzip data" err
'
test_expect_success 'truncated zstd' '
	"$WINNOW" cat "$B/truncated.jsonl.zst" > out 2>err; [ $? -eq 1 ] && [ ! -s out ] &&
	grep -q "^winnow cat: $B/truncated.jsonl.zst:[0-9]*: truncated zstd stream" err
'
test_expect_success 'corrupt zstd' '
	"$WINNOW" cat "$B/corrupt.jsonl.zst" > out 2>err; [ $? -eq 1 ] && [ ! -s out ] &&
	grep -q "^winnow cat: $B/corrupt.jsonl.zst:[0-9]*: corrupt zstd data" err
'
test_expect_success 'CSV with quoted newlines, quotes and commas' '
	"$WINNOW" cat -q --csv "$B/quoted.csv" > out &&
	printf "%s\n" "{\"id\":\"a\",\"text\":\"line one\\r\\nline two\",\"note\":\"say \\\"hi\\\"\"}" \
		"{\"id\":\"b\",\"text\":\"plain\",\"note\":\"comma, inside\"}" | cmp - out
'
test_expect_success 'CSV round trip through --to csv' '
	"$WINNOW" cat -q --csv "$B/quoted.csv" | "$WINNOW" cat -q --to csv > out.csv &&
	"$WINNOW" cat -q --csv out.csv | cmp - <("$WINNOW" cat -q --csv "$B/quoted.csv")
'
test_expect_success 'CSV row with the wrong number of fields' '
	"$WINNOW" cat --csv "$B/ragged.csv" > out 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow cat: $B/ragged.csv:3: CSV row has 3 fields, the header has 2" err &&
	"$WINNOW" cat --csv --on-error skip "$B/ragged.csv" > out 2>err && [ "$(wc -l < out)" -eq 2 ]
'
test_expect_failure_code 1 'a nonexistent input file' '
	"$WINNOW" cat no-such-file.jsonl > out 2>err; rc=$?
	grep -q "^winnow cat: no-such-file.jsonl: cannot open: No such file or directory" err || exit 9
	exit $rc
'
test_expect_success 'empty input gives empty output and exit 0' '
	: > empty.jsonl && "$WINNOW" cat empty.jsonl > out 2>err && [ ! -s out ] &&
	grep -q "in 0, out 0, rejected 0" err
'
test_expect_success 'fail mode writes nothing to -o FILE and keeps an old file' '
	echo old > out.jsonl &&
	{ "$WINNOW" cat -o out.jsonl "$B/malformed.jsonl" 2>/dev/null; [ $? -eq 1 ]; } &&
	[ "$(cat out.jsonl)" = old ] && [ -z "$(ls out.jsonl.tmp.* 2>/dev/null)" ]
'
test_expect_success 'several inputs, mixed compression, concatenated in order' '
	"$WINNOW" cat -q "$B/good3.jsonl" "$B/bom.jsonl" "$WINNOW_ROOT/fixtures/debian-2000.jsonl" > out &&
	{ cat "$B/good3.jsonl"; tail -c +4 "$B/bom.jsonl"; cat "$WINNOW_ROOT/fixtures/debian-2000.jsonl"; } | cmp - out &&
	gzip -c "$B/good3.jsonl" > g.gz && zstd -q -c "$B/good3.jsonl" > z.zst &&
	"$WINNOW" cat -q g.gz - z.zst < "$B/good3.jsonl" > out && cat "$B/good3.jsonl" "$B/good3.jsonl" "$B/good3.jsonl" | cmp - out
'
test_expect_failure_code 2 'an unknown option is a usage error' '"$WINNOW" cat --no-such-option'
test_done
