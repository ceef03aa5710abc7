#!/usr/bin/env bash
# t3200 — `winnow score dsir`: the package's weights through the CLI, the
# three ways p_raw is fitted (input read twice, stdin spooled, --raw FILE),
# --hash/--buckets, and the error paths (each bad line reported once).
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/dsir"

# within_1e9 FILE: winnow.dsir of FILE vs expected-weights.txt, relative 1e-9
within_1e9() {
	jq -r '.winnow.dsir' "$1" > got && [ "$(wc -l < got)" -eq 5000 ] &&
	paste got "$D/expected-weights.txt" | awk '{ d = ($1 - $2) / $2; if (d < 0) d = -d; if (d > 1e-9) { print "line " NR ": " $1 " vs " $2; bad = 1 } } END { exit bad }'
}

test_expect_success 'weights match the package (input file read twice)' '
	"$WINNOW" score dsir --target "$D/target.jsonl" "$D/raw.jsonl.gz" > file.jsonl 2> err &&
	within_1e9 file.jsonl && grep -q "^winnow score dsir: in 5000, out 5000, rejected 0$" err
'
test_expect_success 'stdin is spooled: the same bytes as from the file' '
	"$WINNOW" score dsir -q --target "$D/target.jsonl" "$D/raw.jsonl.gz" > file.jsonl &&
	gzip -dc "$D/raw.jsonl.gz" | "$WINNOW" score dsir -q --target "$D/target.jsonl" > stdin.jsonl &&
	test_cmp file.jsonl stdin.jsonl
'
test_expect_success '--raw FILE fits p_raw there and scores the stream in one pass' '
	"$WINNOW" score dsir -q --target "$D/target.jsonl" "$D/raw.jsonl.gz" > file.jsonl &&
	gzip -dc "$D/raw.jsonl.gz" | head -100 |
		"$WINNOW" score dsir -q --target "$D/target.jsonl" --raw "$D/raw.jsonl.gz" > part.jsonl &&
	head -100 file.jsonl | test_cmp - part.jsonl
'
test_expect_success 'records are unchanged apart from the winnow member; 1 and 2 threads agree' '
	"$WINNOW" score dsir -q --threads 1 --target "$D/target.jsonl" "$D/raw.jsonl.gz" > one &&
	"$WINNOW" score dsir -q --threads 2 --target "$D/target.jsonl" "$D/raw.jsonl.gz" > two &&
	test_cmp one two &&
	sed "s/,\"winnow\":{\"dsir\":[-+0-9.e]*}}\$/}/" one > a && gzip -dc "$D/raw.jsonl.gz" > b && test_cmp b a
'
test_expect_success 'one bucket: p_raw = p_target, every weight is 0' '
	gzip -dc "$D/raw.jsonl.gz" | head -50 > in.jsonl &&
	"$WINNOW" score dsir -q --buckets 1 --target "$D/target.jsonl" in.jsonl > out.jsonl &&
	[ "$(jq -c .winnow.dsir out.jsonl | sort -u)" = "0" ]
'
test_expect_success '--hash xxh3 gives other weights for the same records' '
	gzip -dc "$D/raw.jsonl.gz" | head -50 > in.jsonl &&
	"$WINNOW" score dsir -q --target "$D/target.jsonl" in.jsonl > sha.jsonl &&
	"$WINNOW" score dsir -q --hash xxh3 --target "$D/target.jsonl" in.jsonl > xxh.jsonl &&
	[ "$(wc -l < xxh.jsonl)" -eq 50 ] &&
	! jq .winnow.dsir sha.jsonl | cmp -s - <(jq .winnow.dsir xxh.jsonl)
'
test_expect_success 'a bad line on stdin is reported once, with its position' '
	{ gzip -dc "$D/raw.jsonl.gz" | head -3; echo "{\"text\": 1}"; echo "{oops"; } > in.jsonl &&
	{ "$WINNOW" score dsir --target "$D/target.jsonl" < in.jsonl > out 2> err; [ $? -eq 1 ]; } &&
	[ ! -s out ] && grep -q "<stdin>:4: text field is not a string" err &&
	"$WINNOW" score dsir --on-error skip --target "$D/target.jsonl" < in.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 3 ] && [ "$(grep -c "<stdin>:[45]:" err)" -eq 2 ] &&
	grep -q "in 5, out 3, rejected 2" err
'
test_expect_success 'a bad line in a file read twice is reported once too' '
	{ gzip -dc "$D/raw.jsonl.gz" | head -3; echo "{\"id\": 2}"; } > in.jsonl &&
	"$WINNOW" score dsir --on-error skip --target "$D/target.jsonl" in.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 3 ] && [ "$(grep -c "in.jsonl:4: missing text field" err)" -eq 1 ]
'
test_expect_success 'an empty input has no raw pool: a clear error' '
	: > empty.jsonl &&
	{ "$WINNOW" score dsir --target "$D/target.jsonl" empty.jsonl > out 2> err; [ $? -eq 1 ]; } &&
	grep -q "raw set has no tokens (empty input?)" err
'
test_expect_success 'pipeline: resampling by exp(winnow.dsir) favours target-like records, per seed' '
	"$WINNOW" score dsir -q --target "$D/target.jsonl" "$D/raw.jsonl.gz" > scored.jsonl &&
	"$WINNOW" select -q --sample 100 --weights winnow.dsir --log-weights --seed 7 scored.jsonl > a &&
	"$WINNOW" select -q --sample 100 --weights winnow.dsir --log-weights --seed 7 scored.jsonl > b &&
	test_cmp a b && [ "$(wc -l < a)" -eq 100 ] &&
	all=$(jq .winnow.dsir scored.jsonl | awk "{ s += \$1 } END { print s / NR }") &&
	picked=$(jq .winnow.dsir a | awk "{ s += \$1 } END { print s / NR }") &&
	awk -v a="$all" -v p="$picked" "BEGIN { exit !(p > a + 100) }"
'
test_expect_failure_code 2 'no --target is a usage error' '"$WINNOW" score dsir "$D/raw.jsonl.gz"'
test_expect_failure_code 2 'an unknown hash is a usage error' '"$WINNOW" score dsir --hash md5 --target "$D/target.jsonl" "$D/raw.jsonl.gz"'
test_expect_failure_code 2 'zero buckets is a usage error' '"$WINNOW" score dsir --buckets 0 --target "$D/target.jsonl" "$D/raw.jsonl.gz"'
test_done
