#!/usr/bin/env bash
# t3100 — `winnow score zipfit`: the reference vectors through the CLI (gzip
# levels 9 and 1, zstd), records otherwise untouched, thread-count
# independence, target options, and the error paths.
. "$(dirname "$0")/lib.sh"
Z="$WINNOW_ROOT/fixtures/zipfit"

# close_to EXPECTED KEY: winnow.zipfit of out.jsonl vs EXPECTED's KEY within 1e-12
close_to() {
	jq -r '.winnow.zipfit' out.jsonl > got && jq -r ".$2" "$1" > want &&
	[ "$(wc -l < got)" -eq 303 ] &&
	paste got want | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-12) { print "line " NR ": " $1 " vs " $2; bad = 1 } } END { exit bad }'
}

test_expect_success 'gzip level 9 (default) matches the reference scores' '
	"$WINNOW" score zipfit --target "$Z/target.jsonl" "$Z/source.jsonl" > out.jsonl 2> err &&
	close_to "$Z/expected-level9.jsonl" zipfit &&
	grep -q "^winnow score zipfit: in 303, out 303, rejected 0$" err
'
test_expect_success 'gzip level 1 and zstd level 3 match theirs' '
	"$WINNOW" score zipfit -q --level 1 --target "$Z/target.jsonl" "$Z/source.jsonl" > out.jsonl &&
	close_to "$Z/expected-level1.jsonl" zipfit &&
	"$WINNOW" score zipfit -q --compressor zstd --level 3 --target "$Z/target.jsonl" "$Z/source.jsonl" > out.jsonl &&
	close_to "$Z/expected-zstd-level3.jsonl" zipfit
'
test_expect_success 'records are unchanged apart from the winnow member' '
	"$WINNOW" score zipfit -q --target "$Z/target.jsonl" "$Z/source.jsonl" > out.jsonl &&
	sed "s/,\"winnow\":{\"zipfit\":[-+0-9.e]*}}\$/}/" out.jsonl > a && test_cmp "$Z/source.jsonl" a
'
test_expect_success 'same bytes on 1 and 2 threads' '
	"$WINNOW" score zipfit -q --threads 1 --target "$Z/target.jsonl" "$Z/source.jsonl" > one &&
	"$WINNOW" score zipfit -q --threads 2 --target "$Z/target.jsonl" "$Z/source.jsonl" > two &&
	test_cmp one two
'
test_expect_success 'compressed input, --target-field, and an existing winnow member' '
	head -5 "$Z/source.jsonl" | jq -c ". + {winnow: {keep: true}}" | gzip > in.jsonl.gz &&
	jq -c "{body: .text}" "$Z/target.jsonl" > t.jsonl &&
	"$WINNOW" score zipfit -q --target t.jsonl --target-field body in.jsonl.gz > out.jsonl &&
	[ "$(jq -c "[.winnow.keep, (.winnow.zipfit > 0)]" out.jsonl | sort -u)" = "[true,true]" ] &&
	head -5 "$Z/expected-level9.jsonl" | jq .zipfit > want && jq .winnow.zipfit out.jsonl > got &&
	paste got want | awk "{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 1e-12) exit 1 }"
'
test_expect_success 'a record without text: positioned error, or skipped and counted' '
	{ head -2 "$Z/source.jsonl"; echo "{\"id\": 1}"; } > in.jsonl &&
	{ "$WINNOW" score zipfit --target "$Z/target.jsonl" in.jsonl > out 2> err; [ $? -eq 1 ]; } &&
	[ ! -s out ] && grep -q "^winnow score zipfit: in.jsonl:3: missing text field" err &&
	"$WINNOW" score zipfit --on-error skip --target "$Z/target.jsonl" in.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 2 ] && grep -q "in 3, out 2, rejected 1" err
'
test_expect_failure_code 2 'no --target is a usage error' '"$WINNOW" score zipfit "$Z/source.jsonl"'
test_expect_failure_code 2 'gzip level 10 is a usage error' '"$WINNOW" score zipfit --level 10 --target "$Z/target.jsonl" "$Z/source.jsonl"'
test_expect_failure_code 2 'an unknown compressor is a usage error' '"$WINNOW" score zipfit --compressor brotli --target "$Z/target.jsonl" "$Z/source.jsonl"'
test_expect_failure_code 2 'an unknown method is a usage error' '"$WINNOW" score zipfits --target "$Z/target.jsonl"'
test_expect_success 'a missing or empty target file fails with nothing written' '
	{ "$WINNOW" score zipfit --target nope.jsonl "$Z/source.jsonl" > out 2> err; [ $? -eq 1 ]; } &&
	[ ! -s out ] && grep -q "nope.jsonl" err &&
	: > empty.jsonl &&
	{ "$WINNOW" score zipfit --target empty.jsonl "$Z/source.jsonl" > out 2> err; [ $? -eq 1 ]; } &&
	grep -q "no target texts" err
'
test_expect_success 'pipeline: select --top 10 --by winnow.zipfit takes the reference top 10' '
	"$WINNOW" score zipfit -q --target "$Z/target.jsonl" "$Z/source.jsonl" |
		"$WINNOW" select -q --top 10 --by winnow.zipfit | jq -r .id | sort > got &&
	jq -s -r "sort_by(-.zipfit) | .[:10][] | .index" "$Z/expected-level9.jsonl" > idx &&
	jq -r .id "$Z/source.jsonl" | awk "NR == FNR { want[\$1 + 1] = 1; next } FNR in want" idx - | sort > want &&
	[ "$(wc -l < got)" -eq 10 ] && test_cmp want got
'
test_done
