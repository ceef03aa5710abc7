#!/usr/bin/env bash
# t2040 — `winnow store` killed by SIGTERM or SIGINT in the middle of a run
# that reads a slow pipe. A run that was creating the database leaves
# nothing behind (no database, no -wal/-shm, no temporary file); a run
# that was writing into an existing database leaves it exactly as it was
# (sqlite3 .dump and `winnow export` before and after), and it takes a
# normal run afterwards. Either way the process dies of the signal
# (exit status 128 + signal), like a program without a handler.
. "$(dirname "$0")/lib.sh"
deb=$(fixture debian-2000.jsonl)
head -1000 "$deb" > A.jsonl
sed -n 1001,1200p "$deb" > B.jsonl
cat A.jsonl B.jsonl > AB.jsonl

# wait_until N CMD...: poll every 20 ms, at most N times, until CMD succeeds
wait_until() {
	local n=0 max=$1; shift
	until "$@"; do
		n=$((n + 1)); [ $n -lt $max ] || return 1; sleep 0.02
	done
}
# write_locked DB: another process holds DB's write lock (a run is in its
# transaction); sqlite3's busy timeout is 0, so it fails at once
write_locked() {
	! sqlite3 "$1" "BEGIN IMMEDIATE; ROLLBACK;" > /dev/null 2>&1
}
# new_db_begun: the run has made its database file (s.db itself, or a
# temporary file to become s.db)
new_db_begun() {
	ls | grep -q "^s\.db"
}
# start_store ARGS...: a store reading B.jsonl and then a pipe that stays
# open, in the background ($pid); SIGINT is set back to its default (a
# shell without job control starts background jobs with SIGINT ignored)
start_store() {
	rm -f in.fifo; mkfifo in.fifo
	{ cat B.jsonl; exec sleep 30; } > in.fifo 2>/dev/null & feeder=$!
	env --default-signal=INT "$WINNOW" store "$@" in.fifo 2>err & pid=$!
}
stop_feeder() {
	kill $feeder 2>/dev/null; wait $feeder 2>/dev/null
	rm -f in.fifo
}

for sig in TERM INT; do
	case $sig in TERM) want=143 ;; INT) want=130 ;; esac

	test_expect_success "SIG$sig while creating a database leaves nothing behind" '
		rm -f s.db*
		start_store s.db --table t
		wait_until 500 new_db_begun && sleep 0.3
		begun=$?
		kill -'$sig' $pid; wait $pid; rc=$?; stop_feeder
		left=$(ls | grep "^s\.db"); echo "exit $rc; left: ${left:-nothing}"
		[ $begun = 0 ] && [ $rc = '$want' ] && [ -z "$left" ]
	'

	for mode in append replace; do
		test_expect_success "SIG$sig during --mode $mode into an existing database leaves it as it was" '
			rm -f s.db*
			"$WINNOW" store -q s.db --table t A.jsonl || exit 1
			sqlite3 s.db .dump > before.sql
			start_store s.db --table t --mode '$mode'
			wait_until 500 write_locked s.db && sleep 0.2
			locked=$?
			kill -'$sig' $pid; wait $pid; rc=$?; stop_feeder
			[ $locked = 0 ] && [ $rc = '$want' ] &&
			[ "$(sqlite3 s.db "PRAGMA integrity_check")" = ok ] &&
			sqlite3 s.db .dump | cmp - before.sql &&
			"$WINNOW" export -q s.db --table t | cmp - A.jsonl &&
			! ls | grep -q winnow-tmp &&
			"$WINNOW" store -q s.db --table t --mode append B.jsonl &&
			"$WINNOW" export -q s.db --table t | cmp - AB.jsonl
		'
	done
done

test_expect_success 'a signal that was ignored stays ignored: the run completes' '
	rm -f s.db* in.fifo; mkfifo in.fifo
	{ cat B.jsonl; sleep 1; } > in.fifo 2>/dev/null &
	env --ignore-signal=HUP "$WINNOW" store -q s.db --table t in.fifo 2>err & pid=$!
	wait_until 500 new_db_begun; kill -HUP $pid; wait $pid; rc=$?; wait
	[ $rc = 0 ] && "$WINNOW" export -q s.db --table t | cmp - B.jsonl
'

test_done
