#!/usr/bin/env bash
# tests/cli/t1410-output-signals.sh — SIGINT and SIGTERM while `-o FILE` is
# being written remove the temporary file (io/cleanup via io/atomic) and
# leave an existing FILE as it was; the process still dies of the signal.
. "$(dirname "$0")/lib.sh"

# run_killed SIG CMD...: start CMD reading a FIFO that stays open, wait until
# its temporary file exists, send SIG, and print the exit status.
run_killed() {
	local sig=$1; shift
	mkfifo slow
	( printf "{\"text\":\"a\"}\n"; sleep 30 ) > slow &
	local feeder=$!
	# a background job of a script starts with SIGINT ignored (and winnow
	# rightly leaves an ignored signal alone): restore the default first
	python3 -c "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])" "$@" slow 2> err &
	local pid=$!
	for _ in $(seq 100); do ls out.jsonl.tmp.* > /dev/null 2>&1 && break; sleep 0.05; done
	ls out.jsonl.tmp.* > /dev/null 2>&1 || { echo "no temporary file appeared"; kill $pid $feeder; return 1; }
	kill -s "$sig" $pid; wait $pid; local rc=$?
	kill $feeder 2>/dev/null; wait $feeder 2>/dev/null
	rm -f slow
	echo $rc
}

for sig in TERM INT; do
	test_expect_success "SIG$sig during cat -o: no temporary file left, no output" '
		rm -f out.jsonl* && rc=$(run_killed '$sig' "$WINNOW" cat -o out.jsonl) &&
		test "$rc" -gt 128 && ! ls out.jsonl* 2>/dev/null
	'
	test_expect_success "SIG$sig during select -o over an existing file: the file unchanged" '
		printf "{\"old\":1}\n" > out.jsonl && cp out.jsonl keep &&
		rc=$(run_killed '$sig' "$WINNOW" select --top 1 --by n -o out.jsonl) &&
		test "$rc" -gt 128 && test_cmp keep out.jsonl && ! ls out.jsonl.tmp.* 2>/dev/null
	'
done

test_done
