# tests/cli/lib.sh — helpers for shell tests (tests/cli/tNNNN-*.sh), like git's test-lib.
#
# A test script sources this file, then runs cases:
#   test_expect_success 'what it shows' '
#       "$WINNOW" cat in.jsonl > out &&
#       cmp in.jsonl out
#   '
#   test_expect_failure_code 1 'bad line fails' '"$WINNOW" cat bad.jsonl'
# Each case runs in a fresh subshell inside the script's scratch dir
# ($TEST_DIR, removed at the end) with `set -e` off; it passes when its
# commands return 0 (test_expect_success) or exit with the given code.
# Prints "PASS <script>: <what>" / "FAIL ..." lines for tests/run.
# Helpers: shared_file PATH (path under ../shared, or SKIP the case when absent),
# fixture NAME (path under fixtures/), skip_case 'reason'.
# skip_case only right after a check that a tool or file is absent (`[ -f X ] ||`,
# `command -v T ||`, a can_*/have_* probe); an expected failure checks the exit
# code AND the message; byte identity is compared with cmp: tests/lint-tests.sh
# (run by t0001) fails on the shapes that break these.
set -u
WINNOW=${WINNOW:-$(cd "$(dirname "$0")/../.." && pwd)/build/winnow}
WINNOW_ROOT=${WINNOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
WINNOW_SHARED=${WINNOW_SHARED:-$(cd "$WINNOW_ROOT/.." && pwd)/shared}
export WINNOW WINNOW_ROOT WINNOW_SHARED
TEST_SCRIPT=$(basename "$0")
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/winnow-test.XXXXXX")
trap 'rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 2
test_failures=0

fixture() { printf '%s/fixtures/%s' "$WINNOW_ROOT" "$1"; }
shared_file() { printf '%s/%s' "$WINNOW_SHARED" "$1"; }

_test_run() { # name code body
	local name=$1 want=$2 body=$3 rc out
	out=$( (eval "$body") 2>&1 ); rc=$?
	if [ "$rc" = 77 ]; then
		echo "SKIP $TEST_SCRIPT: $name: $(printf '%s' "$out" | tail -1)"
	elif { [ "$want" = ok ] && [ $rc -eq 0 ]; } || [ "$want" = "$rc" ]; then
		echo "PASS $TEST_SCRIPT: $name"
	else
		echo "FAIL $TEST_SCRIPT: $name (exit $rc, expected $want)"
		printf '%s\n' "$out" | tail -15 | sed 's/^/    /'
		test_failures=$((test_failures + 1))
	fi
}

test_expect_success() { _test_run "$1" ok "$2"; }
test_expect_failure_code() { _test_run "$2" "$1" "$3"; }
# Inside a case: skip it with a reason (exit 77).
skip_case() { echo "$1"; exit 77; }
# Inside a case: fail with a message when two files differ.
test_cmp() { cmp "$1" "$2" || { diff "$1" "$2" | head -10; return 1; }; }
test_done() { [ $test_failures -eq 0 ]; }
