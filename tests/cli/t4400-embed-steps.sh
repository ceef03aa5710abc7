#!/usr/bin/env bash
# t4400 — `embed`, `vectors export` and `vectors import` as steps: a usage
# error found by a step's check opens nothing (no output, no .npy, the
# quarantine file untouched); a model that cannot load writes nothing; the
# records of a stream cut into several blocks come out in order, each
# rejected record at its place, with the vector it gets when embedded
# alone; a failed run commits nothing to the cache; `winnow vectors` lists
# its two methods.
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"

# refused RC MESSAGE CMD...: exits RC with MESSAGE on stderr, and left no
# out.jsonl*, e.npy*, idf.txt*, and q.jsonl as it was
refused() {
	local want=$1 msg=$2 rc; shift 2
	echo keep > q.jsonl
	"$@" 2> err > stdout; rc=$?
	[ "$rc" = "$want" ] || { echo "exit $rc, expected $want"; cat err; return 1; }
	grep -qF -- "$msg" err || { echo "no '$msg' in:"; cat err; return 1; }
	[ ! -s stdout ] && [ "$(cat q.jsonl)" = keep ] || { echo "stdout or q.jsonl touched"; return 1; }
	! ls out.jsonl* e.npy* idf.txt* 2> /dev/null || { echo "left behind"; return 1; }
}
IO="-o out.jsonl --quarantine q.jsonl"

test_expect_success 'embed: usage errors in the check open no output (exit 2)' '
	head -5 "$D" > in.jsonl &&
	refused 2 "--vec-dtype '\''f64'\'': expected f32 or f16" "$WINNOW" embed $IO --npy e.npy --vec-dtype f64 in.jsonl &&
	refused 2 "--char-ngrams '\''5,3'\'': expected MIN,MAX" "$WINNOW" embed $IO --npy e.npy --char-ngrams 5,3 in.jsonl &&
	refused 2 "--model '\''no-such-dir'\'' is neither" "$WINNOW" embed $IO --npy e.npy --model no-such-dir in.jsonl &&
	refused 2 "apply to a model directory, not --model hash" "$WINNOW" embed $IO --npy e.npy --batch 4 in.jsonl &&
	refused 2 "--no-annotate without --npy" "$WINNOW" embed $IO --no-annotate in.jsonl
'
test_expect_success 'embed --fit-idf with -o is a usage error (it writes no records)' '
	head -5 "$D" > in.jsonl &&
	refused 2 "--fit-idf writes IDF statistics, not records; drop -o" "$WINNOW" embed $IO --fit-idf idf.txt in.jsonl
'
test_expect_success 'vectors: usage errors in the check open no output (exit 2)' '
	head -5 "$D" > in.jsonl &&
	refused 2 "--npy FILE is required" "$WINNOW" vectors export $IO in.jsonl &&
	refused 2 "give exactly one of --npy FILE and --from-field PATH" "$WINNOW" vectors import $IO --npy e.npy --from-field v in.jsonl &&
	refused 2 "--dim must be in 1..65536" "$WINNOW" vectors import $IO --from-field v --dim 70000 in.jsonl &&
	refused 2 "--vec-dtype '\''f8'\''" "$WINNOW" vectors export $IO --npy e.npy --vec-dtype f8 in.jsonl
'
test_expect_success 'a model that cannot load: exit 1, the file named, nothing written' '
	head -5 "$D" > in.jsonl &&
	refused 1 "/nonexistent/idf.txt" "$WINNOW" embed -o out.jsonl --npy e.npy --idf /nonexistent/idf.txt in.jsonl &&
	refused 1 "/nonexistent/model.npy" "$WINNOW" vectors import -o out.jsonl --npy /nonexistent/model.npy in.jsonl
'
test_expect_success 'three blocks: order kept, rejects at their place, each vector as if embedded alone' '
	cat "$D" "$D" > dd.jsonl &&
	{ head -2100 dd.jsonl; echo "{\"id\":\"no-text-1\"}"; sed -n 2101,4000p dd.jsonl;
	  echo "{\"text\":\"x\",\"winnow\":[]}"; head -600 "$D"; } > in.jsonl &&
	"$WINNOW" embed --dim 16 --quarantine q.jsonl --npy e.npy in.jsonl > out.jsonl 2> err &&
	grep -qx "winnow embed: in 4602, out 4600, rejected 2" err &&
	printf "%s\n" "{\"id\":\"no-text-1\"}" "{\"text\":\"x\",\"winnow\":[]}" > want-q && test_cmp want-q q.jsonl &&
	grep -q "in.jsonl:2101: missing text field" err && grep -q "in.jsonl:4002: \"winnow\" is not an object" err &&
	grep -v -e no-text-1 -e "\"winnow\":\[\]" in.jsonl > want && sed "s/,\"winnow\":{\"emb\":{\"dim\":16,\"dtype\":\"f32\",\"b64\":\"[A-Za-z0-9+\/=]*\"}}}\$/}/" out.jsonl > got && test_cmp want got &&
	"$WINNOW" vectors export -q --npy back.npy out.jsonl > /dev/null && cmp e.npy back.npy &&
	for n in 1 2100 2101 4001 4600; do
		sed -n ${n}p out.jsonl | sed "s/,\"winnow\":{\"emb\":{\"dim\":16,\"dtype\":\"f32\",\"b64\":\"[A-Za-z0-9+\/=]*\"}}}\$/}/" | "$WINNOW" embed -q --dim 16 | jq -c .winnow.emb > alone &&
		sed -n ${n}p out.jsonl | jq -c .winnow.emb > inblock && test_cmp alone inblock || exit 1
	done
'
test_expect_success 'a failed run commits nothing to the cache' '
	{ head -30 "$D"; echo "{\"id\":1}"; } > bad.jsonl && head -30 "$D" > good.jsonl &&
	{ "$WINNOW" embed --cache c.db bad.jsonl > out 2> err; [ $? -eq 1 ]; } && [ ! -s out ] &&
	"$WINNOW" embed --cache c.db good.jsonl > out 2> err &&
	grep -q "cache c.db: hits 0, misses 30" err &&
	[ "$(sqlite3 c.db "select count(*) from winnow_embcache")" = 30 ]
'
test_expect_success '`winnow vectors` lists export and import; an unknown method is a usage error' '
	{ "$WINNOW" vectors 2> err; [ $? -eq 2 ]; } &&
	grep -q "^  export " err && grep -q "^  import " err &&
	"$WINNOW" vectors --help > out && grep -q "^  import " out &&
	"$WINNOW" vectors frobnicate 2> err; rc=$?; test $rc = 2 && grep -q "unknown method .frobnicate." err &&
	"$WINNOW" vectors import --help | grep -q "^usage: winnow vectors import"
'
test_done
