#!/usr/bin/env bash
# t0500 — golden outputs: every documented example and pipeline of every
# command (tests/golden/cases.sh) gives, byte for byte (cmp, or sha256 and line
# count for large outputs), the stdout, closing count lines, written files,
# SQLite table contents and error messages recorded in fixtures/golden/ from
# the code before the cmd/ refactor. A missing expected file, a missing
# declared output, a crash anywhere in a pipeline or another exit code fails
# the case. Re-record deliberately: tests/golden/record.sh --force.
. "$(dirname "$0")/lib.sh"
. "$WINNOW_ROOT/tests/golden/golden.sh" || exit 1
golden_pin_env

inputs_ok=0
golden_inputs "$TEST_DIR/in" > inputs.log 2>&1 && inputs_ok=1
(cd "$TEST_DIR/in" && find . -type f -exec sha256sum {} + | LC_ALL=C sort) > inputs.sum
test_expect_success 'the inputs are made from fixtures/' '[ $inputs_ok = 1 ] || { cat inputs.log; false; }'

for c in "${golden_names[@]}"; do
	test_expect_success "golden $c" "golden_check $c \"\$TEST_DIR/in\" \"\$TEST_DIR/got/$c\""
done

test_expect_success 'at least 40 cases, every one with expected files' '
	[ ${#golden_names[@]} -ge 40 ] &&
	for c in "${golden_names[@]}"; do [ -n "$(golden_expected "$c")" ] || { echo "no expected files for $c"; exit 1; }; done
'
test_expect_success 'every file in fixtures/golden belongs to a case' '
	for f in "$GOLDEN_DIR"/*; do
		b=$(basename "$f"); [ "$b" = README ] || [ "$b" = inputs ] && continue
		[ -n "${golden_cmd[${b%%.*}]+x}" ] || { echo "stale: $b"; exit 1; }
	done
'
test_expect_success 'the cases left their inputs untouched' '
	(cd "$TEST_DIR/in" && find . -type f -exec sha256sum {} + | LC_ALL=C sort) | cmp - inputs.sum
'
test_expect_success 'record.sh refuses to run without --force and changes nothing' '
	before=$(cd "$GOLDEN_DIR" && find . -type f -exec sha256sum {} + | LC_ALL=C sort) &&
	{ bash "$WINNOW_ROOT/tests/golden/record.sh" > out 2> err; [ $? = 2 ]; } &&
	grep -q "refusing to overwrite fixtures/golden/ without --force" err &&
	[ "$(cd "$GOLDEN_DIR" && find . -type f -exec sha256sum {} + | LC_ALL=C sort)" = "$before" ]
'
test_done
