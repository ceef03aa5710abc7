#!/usr/bin/env bash
# t0001 — tests/lint-tests.sh: the shell tests hold none of the patterns that
# make a case unable to fail, and the lint catches each pattern in the shape
# it had in this tree (an assertion turned into SKIP, `&& exit $rc` in an
# expected-failure body, jq -c re-serialisation compared as bytes) while it
# lets the legitimate skips through (a missing file, tool, module or privilege).
. "$(dirname "$0")/lib.sh"
LINT="$WINNOW_ROOT/tests/lint-tests.sh"
Q="'"

test_expect_success 'tests/cli/*.sh are clean' '
	bash "$LINT" > out 2>&1 || { cat out; false; }
'

# bad.sh: the old shapes, verbatim from t6000, t6100, t3100 and t5100 before the fix
cat > bad.sh <<'EOF'
test_expect_success 'dist check' '
	"$WINNOW" cluster kmeans -q -k 7 --seed 2 --centroids-out c.npy "$F" > out &&
	/usr/bin/python3 -c "
import numpy as np
assert False
" || skip_case "python3 with numpy not available"
'
test_expect_failure_code 1 'k larger than the number of vectors' '
	"$WINNOW" cluster kmeans -k 501 "$F" > out 2> err; rc=$?
	grep -q "k (501) is larger than the number of vectors (500)" err && [ ! -s out ] && exit $rc
'
test_expect_failure_code 1 'level 1 larger than the records' '
	head -20 "$F" | "$WINNOW" cluster hkmeans --levels 30,3 2> err; rc=$?
	grep -q "k (30) is larger than the number of vectors (20)" err && exit 1
'
test_expect_success 'records are unchanged apart from the winnow member' '
	"$WINNOW" score zipfit -q --target "$Z/target.jsonl" "$Z/source.jsonl" > out.jsonl &&
	jq -c "del(.winnow)" out.jsonl > a && jq -c . "$Z/source.jsonl" > b && test_cmp a b
'
test_expect_success 'upweight keeps the records' '
	jq -c "del(.winnow)" out | cmp - <(jq -c . "$F")
'
test_expect_success 'a feature probe through winnow itself' '
	"$WINNOW" select --help 2>/dev/null | grep -q -- "--top" || skip_case "no winnow select here"
	true
'
EOF

test_expect_success 'the old patterns are each caught, on their lines' '
	{ bash "$LINT" bad.sh > out 2>&1; [ $? = 1 ]; } &&
	grep -q "^bad.sh:6: skip-after-assertion: \" || skip_case" out &&
	grep -q "^bad.sh:10: exit-after-and: " out &&
	grep -q "^bad.sh:14: exit-after-and: " out &&
	grep -q "^bad.sh:18: jq-byte-identity: " out &&
	grep -q "^bad.sh:21: jq-byte-identity: " out &&
	grep -q "^bad.sh:24: skip-after-assertion: " out &&
	[ "$(wc -l < out)" -eq 6 ] || { cat out; false; }
'

# good.sh: skips after absence checks, a message check that cannot pass by
# accident, jq -c on a field (not a whole record), a quoted name with '"'"'
cat > good.sh <<'EOF'
test_expect_success 'a shared corpus' '
	D=$(shared_file corpora/debian.jsonl.gz); [ -f "$D" ] || skip_case "no $D"
	command -v python3 > /dev/null || skip_case "no python3"
	can_unpriv || skip_case "cannot run as an unprivileged user here"
	/usr/bin/python3 -c "import numpy" 2> /dev/null || skip_case "no numpy"
	python3 -c "
print(1)
" 2> perr || { grep -q "No module named" perr && skip_case "no numpy"; cat perr; false; }
	if ! command -v zstd > /dev/null; then skip_case "no zstd"; fi
'
test_expect_failure_code 2 'usage with message' '
	"$WINNOW" embed --model no-such-model < /dev/null 2> err; rc=$?; grep -q "no-such-model" err || exit 9; exit $rc
'
test_expect_success 'level'"'"'s ids' '
	"$WINNOW" cluster kmeans -q -k 10 "$F" | jq -c .winnow.cluster > a &&
	jq -c ". + {winnow: {keep: true}}" in > b && cmp a a
'
test_expect_success 'a failure case written as success' '
	"$WINNOW" cluster kmeans -k 501 "$F" > out 2> err; rc=$?
	test $rc = 1 && grep -q "larger than" err && exit 0
'
EOF

test_expect_success 'skips after an absence check and other clean shapes pass' '
	bash "$LINT" good.sh > out 2>&1 || { cat out; false; }
'

test_expect_success 'a case body ends where its quote closes, not at the next test' '
	printf "%s\n" "test_expect_success ${Q}a${Q} ${Q}true${Q}" \
		"test_expect_failure_code 1 ${Q}b${Q} ${Q}" "	false && exit 1" "${Q}" \
		"test_expect_success ${Q}c${Q} ${Q}true && exit 0${Q}" > edge.sh &&
	{ bash "$LINT" edge.sh > out 2>&1; [ $? = 1 ]; } &&
	grep -q "^edge.sh:3: exit-after-and" out && [ "$(wc -l < out)" -eq 1 ] || { cat out; false; }
'
test_done
