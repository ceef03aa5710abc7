#!/usr/bin/env bash
# t2065 — idle OpenMP threads sleep by default: winnow executes itself once
# with OMP_WAIT_POLICY=PASSIVE (libgomp reads it at load, before main), as
# libgomp itself reports (OMP_DISPLAY_ENV=verbose prints its settings at
# load: the second, re-executed load has GOMP_SPINCOUNT 0, i.e. no
# spinning; the default is 300000); a user's OMP_WAIT_POLICY or
# GOMP_SPINCOUNT is kept (one load, their value). The outputs are those of
# a run without the re-exec (the pid, argv and stdin are the same).
# The timing side (default threads vs --threads 1 beside a busy core) is
# bench/threads_bench.sh, not a test: timings on a loaded machine are noise.
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"
# tests/run exports OMP_WAIT_POLICY=passive for every test: the default case
# is a run with neither variable set
unset OMP_WAIT_POLICY GOMP_SPINCOUNT
spin() { grep "GOMP_SPINCOUNT" "$1" | sed "s/.*= '\(.*\)'/\1/" | tr '\n' ' '; }

test_expect_success 'by default: two loads, the second with passive waits (spin count 0)' '
	OMP_DISPLAY_ENV=verbose "$WINNOW" device --device cpu > out 2> err &&
	[ "$(grep -c "OPENMP DISPLAY ENVIRONMENT BEGIN" err)" = 2 ] &&
	[ "$(spin err)" = "300000 0 " ] && grep -qx "backend: cpu" out
'
test_expect_success 'OMP_WAIT_POLICY=ACTIVE is the user'\''s choice: one load, spinning kept' '
	OMP_WAIT_POLICY=ACTIVE OMP_DISPLAY_ENV=verbose "$WINNOW" device --device cpu > out 2> err &&
	[ "$(grep -c "OPENMP DISPLAY ENVIRONMENT BEGIN" err)" = 1 ] &&
	[ "$(spin err)" != "0 " ] && [ "$(spin err)" != "300000 " ]
'
test_expect_success 'GOMP_SPINCOUNT set: one load, that count' '
	GOMP_SPINCOUNT=1234 OMP_DISPLAY_ENV=verbose "$WINNOW" device --device cpu > out 2> err &&
	[ "$(grep -c "OPENMP DISPLAY ENVIRONMENT BEGIN" err)" = 1 ] && [ "$(spin err)" = "1234 " ]
'
test_expect_success 'stdin, argv and the output are those of a run without the re-exec' '
	head -200 "$D" > in.jsonl &&
	"$WINNOW" embed --dim 16 --threads 2 < in.jsonl > a.jsonl 2> ea &&
	OMP_WAIT_POLICY=ACTIVE "$WINNOW" embed --dim 16 --threads 2 < in.jsonl > b.jsonl 2> eb &&
	cmp a.jsonl b.jsonl && cmp ea eb && [ $(wc -l < a.jsonl) = 200 ]
'
test_expect_success 'a signal reaches the same process: -o FILE temp is still removed on SIGTERM' '
	mkfifo fifo &&
	{ "$WINNOW" cat -o out.jsonl fifo & pid=$!; } &&
	exec 9> fifo && head -5 in.jsonl >&9 && sleep 0.5 &&
	kill -TERM $pid; exec 9>&-; wait $pid; rc=$?
	[ $rc -ne 0 ] && [ ! -e out.jsonl ] && ! ls out.jsonl.tmp* > /dev/null 2>&1
'
test_done
