#!/usr/bin/env bash
# t4100 — `winnow embed` with the default hash model: winnow.emb on every
# record (f32 and f16), unit norms, records otherwise untouched, --npy rows
# equal to the annotations, thread independence, IDF fitting, the cache
# across runs, bad records and usage errors.
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"

# npy_rows FILE DIM: one line of DIM floats per row (winnow writes 128-byte headers)
npy_rows() { tail -c +129 "$1" | od -A n -v -t f4 -w$((4 * $2)); }
# norms: the L2 norm of each row on stdin
norms() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i * $i; printf "%.6f\n", sqrt(s) }'; }

test_expect_success 'every record gets a 512-dim f32 winnow.emb; the rest is unchanged' '
	head -50 "$D" > in.jsonl &&
	"$WINNOW" embed in.jsonl > out.jsonl 2> err &&
	grep -qx "winnow embed: in 50, out 50, rejected 0" err &&
	[ "$(jq -c "[.winnow.emb.dim, .winnow.emb.dtype, (.winnow.emb.b64 | length)]" out.jsonl | sort -u)" = "[512,\"f32\",2732]" ] &&
	sed "s/,\"winnow\":{\"emb\":{\"dim\":512,\"dtype\":\"f32\",\"b64\":\"[A-Za-z0-9+\/=]*\"}}}\$/}/" out.jsonl > a && test_cmp in.jsonl a
'
# the .npy checked against its format by hand: magic and version 1.0, header
# length, the header dict, then the rows: the base64 of each record's
# winnow.emb decoded by coreutils, in record order
test_expect_success 'vectors are L2-normalised and --npy holds the same rows in order' '
	head -50 "$D" > in.jsonl &&
	"$WINNOW" embed -q --npy direct.npy in.jsonl > out.jsonl &&
	[ "$(head -c 8 direct.npy | od -A n -t x1 | tr -d " ")" = 934e554d50590100 ] &&
	hlen=$(od -A n -t u2 -j 8 -N 2 direct.npy | tr -d " ") &&
	head -c $((10 + hlen)) direct.npy | tail -c +11 > header &&
	grep -Eqx "\{.descr.: .<f4., .fortran_order.: False, .shape.: \(50, 512\), \} *" header &&
	[ "$(tail -c 1 header | od -A n -t x1 | tr -d " ")" = 0a ] &&
	jq -r .winnow.emb.b64 out.jsonl | while read -r b; do printf %s "$b" | base64 -d; done > rows &&
	[ "$(stat -c %s rows)" -eq $((50 * 512 * 4)) ] &&
	tail -c +$((11 + hlen)) direct.npy | cmp - rows &&
	"$WINNOW" vectors export -q --npy exported.npy out.jsonl > /dev/null &&
	cmp direct.npy exported.npy &&
	[ "$(npy_rows direct.npy 512 | wc -l)" -eq 50 ] &&
	[ "$(npy_rows direct.npy 512 | norms | sort -u)" = "1.000000" ]
'
test_expect_success '--vec-dtype f16 halves the annotation and rounds within half precision' '
	head -20 "$D" > in.jsonl &&
	"$WINNOW" embed -q --vec-dtype f16 --npy h.npy in.jsonl > out16.jsonl &&
	"$WINNOW" embed -q --npy f.npy in.jsonl > /dev/null &&
	[ "$(jq -c "[.winnow.emb.dtype, (.winnow.emb.b64 | length)]" out16.jsonl | sort -u)" = "[\"f16\",1368]" ] &&
	grep -q "<f2" h.npy &&
	"$WINNOW" vectors export -q --npy h32.npy out16.jsonl > /dev/null &&
	paste <(npy_rows h32.npy 512 | tr -s " " "\n" | grep .) <(npy_rows f.npy 512 | tr -s " " "\n" | grep .) |
		awk "{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 5e-4) bad = 1 } END { exit bad }"
'
test_expect_success 'same bytes on 1 and 2 threads' '
	head -300 "$D" > in.jsonl &&
	"$WINNOW" embed -q --threads 1 --char-ngrams 3,5 in.jsonl > one &&
	"$WINNOW" embed -q --threads 2 --char-ngrams 3,5 in.jsonl > two &&
	test_cmp one two
'
test_expect_success '--char-ngrams and --dim change the vectors' '
	head -5 "$D" > in.jsonl &&
	"$WINNOW" embed -q in.jsonl | jq -r .winnow.emb.b64 > plain &&
	"$WINNOW" embed -q --char-ngrams 3,5 in.jsonl | jq -r .winnow.emb.b64 > chars &&
	! cmp -s plain chars &&
	[ "$("$WINNOW" embed -q --dim 64 in.jsonl | jq .winnow.emb.dim | sort -u)" = 64 ]
'
test_expect_success '--fit-idf writes statistics and no records; --idf uses them' '
	head -200 "$D" > in.jsonl &&
	"$WINNOW" embed --fit-idf idf.txt in.jsonl > out 2> err &&
	[ ! -s out ] && [ -s idf.txt ] && grep -q "IDF over 200 documents" err &&
	"$WINNOW" embed -q --idf idf.txt in.jsonl | jq -r .winnow.emb.b64 > with &&
	"$WINNOW" embed -q in.jsonl | jq -r .winnow.emb.b64 > without &&
	! cmp -s with without &&
	{ "$WINNOW" embed --dim 64 --idf idf.txt in.jsonl > out 2> err; [ $? -ne 0 ]; } && [ ! -s out ]
'
test_expect_success '--cache: the second run only hits, with identical output' '
	head -40 "$D" > in.jsonl &&
	"$WINNOW" embed --cache c.db in.jsonl > first 2> err1 &&
	grep -q "cache c.db: hits 0, misses 40" err1 &&
	{ head -40 "$D"; sed -n 41,45p "$D"; } > more.jsonl &&
	"$WINNOW" embed --cache c.db more.jsonl > second 2> err2 &&
	grep -q "cache c.db: hits 40, misses 5" err2 &&
	head -40 second > second40 && test_cmp first second40 &&
	"$WINNOW" embed --cache c.db --dim 128 in.jsonl > /dev/null 2> err3 &&
	grep -q "hits 0, misses 40" err3
'
test_expect_success 'a record without text: positioned error and nothing written, or skipped' '
	{ head -2 "$D"; echo "{\"id\": 7}"; head -1 "$D"; } > in.jsonl &&
	{ "$WINNOW" embed --npy x.npy in.jsonl > out 2> err; [ $? -eq 1 ]; } &&
	[ ! -s out ] && [ ! -e x.npy ] && grep -q "^winnow embed: in.jsonl:3: missing text field" err &&
	"$WINNOW" embed --on-error skip --npy x.npy in.jsonl > out 2> err &&
	[ "$(wc -l < out)" -eq 3 ] && grep -q "in 4, out 3, rejected 1" err &&
	[ "$(npy_rows x.npy 512 | wc -l)" -eq 3 ]
'
test_expect_success '--field picks another text field; --no-annotate passes records through' '
	head -3 "$D" | jq -c "{id, body: .text}" > in.jsonl &&
	"$WINNOW" embed -q --field body --npy b.npy in.jsonl > /dev/null &&
	head -3 "$D" | "$WINNOW" embed -q --npy t.npy > /dev/null && cmp b.npy t.npy &&
	"$WINNOW" embed -q --field body --no-annotate --npy n.npy in.jsonl > out && test_cmp in.jsonl out && cmp n.npy t.npy
'
test_expect_success 'an empty input gives no records and an empty .npy' '
	: > empty.jsonl && "$WINNOW" embed -q --npy e.npy empty.jsonl > out && [ ! -s out ] &&
	grep -q "(0, 512)" e.npy
'
test_expect_failure_code 2 '--vec-dtype f64 is a usage error' '"$WINNOW" embed --vec-dtype f64 < /dev/null'
test_expect_failure_code 2 '--pooling with --model hash is a usage error' '"$WINNOW" embed --pooling cls < /dev/null'
test_expect_failure_code 2 '--no-annotate without --npy is a usage error' '"$WINNOW" embed --no-annotate < /dev/null'
test_expect_failure_code 2 '--char-ngrams 5,3 is a usage error' '"$WINNOW" embed --char-ngrams 5,3 < /dev/null'
test_expect_failure_code 2 'a --model that is neither hash nor a directory is a usage error' '
	"$WINNOW" embed --model no-such-model < /dev/null 2> err; rc=$?; grep -q "no-such-model" err || exit 9; exit $rc
'
test_done
