#!/usr/bin/env bash
# t2030 — two `winnow store` runs creating the same database at once. The
# database must never be lost: both runs end with exit 0 and the table
# holds both inputs' rows, whole, in the order the runs committed (or one
# run fails with a clear message and the database holds the other's rows),
# and no temporary file stays behind. The old code let the loser's cleanup
# delete the database, -wal and -shm the winner was writing.
. "$(dirname "$0")/lib.sh"
deb=$(fixture debian-2000.jsonl)
head -20 "$deb" > A.jsonl
sed -n 21,30p "$deb" > B.jsonl

# rows_of DB SEED: the records the run with that seed inserted (its rowid
# range in `runs`), as stored
rows_of() {
	sqlite3 "$1" "SELECT record FROM t WHERE rowid BETWEEN
		(SELECT rowid_first FROM runs WHERE seed = '$2') AND
		(SELECT rowid_last FROM runs WHERE seed = '$2') ORDER BY rowid"
}
# no_leftovers: nothing but the database (and its -wal/-shm) besides inputs
no_leftovers() {
	! ls | grep -q winnow-tmp
}
# wait_until N CMD...: poll every 20 ms, at most N times, until CMD succeeds
wait_until() {
	local n=0 max=$1; shift
	until "$@"; do
		n=$((n + 1)); [ $n -lt $max ] || return 1; sleep 0.02
	done
}
# begun PID: that store run has started its database (the old code's
# r.db, or the new code's temporary file named after the pid)
begun() {
	[ -e r.db ] || ls r.db.winnow-tmp-"$1"-* > /dev/null 2>&1
}

test_expect_success 'two runs creating one database at once: both succeed, 25 times' '
	bad=0
	for i in $(seq 25); do
		rm -f r.db*
		"$WINNOW" store -q r.db --mode append -t t --seed A A.jsonl 2>errA & pa=$!
		"$WINNOW" store -q r.db --mode append -t t --seed B B.jsonl 2>errB & pb=$!
		wait $pa; ra=$?; wait $pb; rb=$?
		if [ $ra != 0 ] || [ $rb != 0 ]; then
			echo "trial $i: exit $ra and $rb: $(cat errA errB)"; bad=1; break
		fi
		if [ ! -e r.db ]; then echo "trial $i: the database is gone"; bad=1; break; fi
		"$WINNOW" export -q r.db --table t > got.jsonl || { bad=1; break; }
		if ! { cat A.jsonl B.jsonl | cmp -s - got.jsonl ||
		       cat B.jsonl A.jsonl | cmp -s - got.jsonl; }; then
			echo "trial $i: $(wc -l < got.jsonl) rows, not A+B or B+A"; bad=1; break
		fi
		if ! rows_of r.db A | cmp -s - A.jsonl || ! rows_of r.db B | cmp -s - B.jsonl; then
			echo "trial $i: a runs row does not match its rows"; bad=1; break
		fi
		no_leftovers || { echo "trial $i: left $(ls | grep winnow-tmp)"; bad=1; break; }
	done
	[ $bad = 0 ] && [ "$(sqlite3 r.db "PRAGMA integrity_check")" = ok ]
'

test_expect_success 'the first creator fails while a second run creates it: the second run keeps its database' '
	rm -f r.db* f1 rcB; mkfifo f1 || exit 1
	"$WINNOW" store -q r.db --mode append -t t --seed A f1 2>errA & pa=$!
	exec 3<>f1; head -5 A.jsonl >&3; wait_until 500 begun $pa || exit 1
	{ "$WINNOW" store -q r.db --mode append -t t --seed B --busy-timeout 10000 B.jsonl \
		2>errB; echo $? > rcB; } &
	# B finishes (new code) or waits on A'"'"'s lock (old code)
	wait_until 100 test -e rcB || :
	echo "{\"id\":\"bad\",\"text\":\"x\",\"winnow\":[1]}" >&3; exec 3>&-
	wait $pa; ra=$?; wait; rb=$(cat rcB)
	[ $ra = 1 ] && grep -q "^winnow store: f1:6: .*\"winnow\" is not an object" errA &&
	[ $rb = 0 ] && [ -e r.db ] &&
	"$WINNOW" export -q r.db --table t | cmp - B.jsonl &&
	[ "$(sqlite3 r.db "SELECT count(*) || \" \" || seed FROM runs")" = "1 B" ] &&
	no_leftovers
'

test_expect_success 'a run that finds the database created meanwhile appends to it' '
	rm -f r.db* f1 rcB; mkfifo f1 || exit 1
	"$WINNOW" store -q r.db --mode append -t t --seed A f1 2>errA & pa=$!
	exec 3<>f1; head -5 A.jsonl >&3; wait_until 500 begun $pa || exit 1
	{ "$WINNOW" store -q r.db --mode append -t t --seed B --busy-timeout 10000 B.jsonl \
		2>errB; echo $? > rcB; } &
	wait_until 100 test -e rcB || :
	tail -n +6 A.jsonl >&3; exec 3>&-
	wait $pa; ra=$?; wait; rb=$(cat rcB)
	[ $ra = 0 ] && [ $rb = 0 ] &&
	"$WINNOW" export -q r.db --table t > got.jsonl &&
	{ cat B.jsonl A.jsonl | cmp -s - got.jsonl || cat A.jsonl B.jsonl | cmp -s - got.jsonl; } &&
	rows_of r.db A | cmp - A.jsonl && rows_of r.db B | cmp - B.jsonl &&
	[ "$(sqlite3 r.db "SELECT count(*) FROM runs")" = 2 ] &&
	[ "$(sqlite3 r.db "PRAGMA integrity_check")" = ok ] && no_leftovers
'

test_expect_success 'what appeared meanwhile is not a winnow table: clear error, left as it is' '
	rm -f r.db* f1 rcB; mkfifo f1 || exit 1
	"$WINNOW" store -q r.db --mode append -t t --seed A f1 2>errA & pa=$!
	exec 3<>f1; head -5 A.jsonl >&3; wait_until 500 begun $pa || exit 1
	sqlite3 r.db "CREATE TABLE t(x); INSERT INTO t VALUES(42);" || exit 1
	sqlite3 r.db .dump > before
	tail -n +6 A.jsonl >&3; exec 3>&-
	wait $pa; ra=$?
	[ $ra = 1 ] &&
	grep -q "^winnow store: r.db: table '"'"'t'"'"' is not a winnow table" errA &&
	sqlite3 r.db .dump | cmp - before && no_leftovers
'

test_done
