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
# The same exec sets OPENBLAS_THREAD_TIMEOUT=4 unless the user set it.
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
openblas_timeout() { # the OPENBLAS_THREAD_TIMEOUT the running (re-executed) winnow holds
	rm -f fifo2 && mkfifo fifo2 &&
	{ env "$@" "$WINNOW" cat -o o2.jsonl fifo2 & pid=$!; } &&
	exec 8> fifo2 && sleep 0.5 &&
	tr '\0' '\n' < /proc/$pid/environ | sed -n "s/^OPENBLAS_THREAD_TIMEOUT=//p"
	exec 8>&-; wait $pid
}
test_expect_success 'the same exec makes the OpenBLAS pool sleep at once (timeout 4), unless the user set it' '
	[ "$(openblas_timeout)" = 4 ] &&
	[ "$(openblas_timeout OPENBLAS_THREAD_TIMEOUT=20)" = 20 ] &&
	[ -z "$(openblas_timeout OMP_WAIT_POLICY=ACTIVE)" ]
'
test_done
