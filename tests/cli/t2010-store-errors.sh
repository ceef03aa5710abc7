#!/usr/bin/env bash
# t2010 — what `winnow store` and `winnow export` do with bad input: an
# unwritable database path, a file that is not a database, a locked
# database, bad records under each --on-error mode (fail leaves the database
# exactly as it was), reserved table names and usage errors.
. "$(dirname "$0")/lib.sh"
deb=$(fixture debian-2000.jsonl)
head -100 "$deb" > good.jsonl
# line 51 lacks the text field, line 52 has a "winnow" member that is no object
{ head -50 good.jsonl; echo '{"id":"nt","body":"no text here"}'
  echo '{"id":"wa","text":"x","winnow":[1,2]}'; tail -48 good.jsonl; } > bad.jsonl

# dump DB: the whole logical content, to compare before and after a run
dump() { sqlite3 "$1" .dump; }
# unpriv CMD...: run as an unprivileged user when we are root (root ignores
# file permissions), else as ourselves; can_unpriv says whether that works
# here (the binary must be reachable for user nobody).
unpriv() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		"$@"
	fi
}
can_unpriv() {
	[ "$(id -u)" != 0 ] && return 0
	command -v setpriv > /dev/null && chmod 755 "$TEST_DIR" &&
		unpriv "$WINNOW" store --help > /dev/null 2>&1 && unpriv cat good.jsonl > /dev/null
}

test_expect_success 'a directory as database path' '
	mkdir dir.db &&
	"$WINNOW" store dir.db good.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: dir.db: unable to open database file" err &&
	[ -z "$(ls dir.db)" ]
'

test_expect_success 'a path under /proc cannot hold a database' '
	"$WINNOW" store /proc/winnow-nonexistent/x.db good.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: /proc/winnow-nonexistent/x.db: unable to open database file" err
'

test_expect_success 'a path in a missing directory' '
	"$WINNOW" store no/such/dir.db good.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: no/such/dir.db: unable to open database file (directory no/such: No such file or directory)" err
'

test_expect_success 'a read-only directory' '
	can_unpriv || skip_case "cannot run as an unprivileged user here"
	mkdir ro && chmod 555 ro &&
	unpriv "$WINNOW" store ro/x.db good.jsonl 2>err; rc=$?; chmod 755 ro
	[ $rc -eq 1 ] && [ ! -e ro/x.db ] &&
	grep -q "^winnow store: ro/x.db: unable to open database file (cannot create it in ro: Permission denied)" err
'

test_expect_success 'a read-only database file is left untouched' '
	can_unpriv || skip_case "cannot run as an unprivileged user here"
	"$WINNOW" store -q ro.db good.jsonl && chmod 444 ro.db && dump ro.db > before &&
	unpriv "$WINNOW" store ro.db good.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: ro.db: attempt to write a readonly database" err &&
	dump ro.db | cmp - before
'

test_expect_success 'export reads a database in a read-only directory' '
	can_unpriv || skip_case "cannot run as an unprivileged user here"
	mkdir rodir && "$WINNOW" store -q rodir/x.db good.jsonl && chmod 555 rodir &&
	unpriv "$WINNOW" export -q rodir/x.db > back.jsonl; rc=$?; chmod 755 rodir
	[ $rc -eq 0 ] && cmp back.jsonl good.jsonl && [ -z "$(ls rodir | grep -v "^x.db$")" ]
'

test_expect_success 'a file that is not a database is not touched' '
	cp good.jsonl notdb.db &&
	"$WINNOW" store notdb.db good.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: notdb.db: file is not a database" err &&
	cmp notdb.db good.jsonl && [ ! -e notdb.db-wal ]
'

test_expect_success 'a locked database: clear error, nothing written' '
	"$WINNOW" store -q lk.db good.jsonl && dump lk.db > before &&
	# the sqlite3 shell takes the write lock, then says so by creating a file
	{ echo "BEGIN IMMEDIATE; CREATE TABLE holder(x);"; echo ".system touch locked"
	  sleep 20; echo "ROLLBACK;"; } 2>/dev/null | sqlite3 lk.db > /dev/null 2>&1 &
	holder=$!
	n=0; until [ -e locked ] || [ $n -ge 500 ]; do n=$((n + 1)); sleep 0.02; done
	"$WINNOW" store --busy-timeout 50 lk.db bad.jsonl 2>err; rc=$?
	kill $holder 2>/dev/null; wait $holder 2>/dev/null
	[ $rc -eq 1 ] && grep -q "^winnow store: lk.db: database is locked" err &&
	dump lk.db | cmp - before
'

test_expect_success 'bad record under --on-error fail: exit 1, database unchanged' '
	"$WINNOW" store -q f.db --seed 1 good.jsonl && dump f.db > before &&
	"$WINNOW" store f.db bad.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: bad.jsonl:51: " err &&
	dump f.db | cmp - before &&
	"$WINNOW" store f.db --mode append bad.jsonl 2>err; [ $? -eq 1 ] &&
	dump f.db | cmp - before
'

test_expect_success 'a "winnow" member that is not an object is a positioned error' '
	sed 51d bad.jsonl > bad2.jsonl &&
	"$WINNOW" store w.db bad2.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: bad2.jsonl:51: .*\"winnow\" is not an object" err
'

test_expect_success 'a failed first run leaves no database file behind' '
	"$WINNOW" store new.db bad.jsonl 2>err; [ $? -eq 1 ] &&
	[ ! -e new.db ] && [ ! -e new.db-wal ] && [ ! -e new.db-shm ] &&
	[ -z "$(ls | grep "^new\.db")" ]
'

test_expect_success 'a missing input file fails before anything is written' '
	"$WINNOW" store -q m.db good.jsonl && dump m.db > before &&
	"$WINNOW" store m.db good.jsonl no-such-file.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "no-such-file.jsonl" err && dump m.db | cmp - before
'

test_expect_success 'empty input fails and leaves the table; --allow-empty stores it' '
	"$WINNOW" store -q e0.db good.jsonl && dump e0.db > before &&
	: | "$WINNOW" store e0.db 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow store: e0.db: no records to store; table '"'"'selection'"'"' left as it was" err &&
	dump e0.db | cmp - before &&
	sed -n 51,52p bad.jsonl > allbad.jsonl &&
	"$WINNOW" store e0.db --on-error skip allbad.jsonl 2>err; [ $? -eq 1 ] &&
	dump e0.db | cmp - before &&
	: | "$WINNOW" store -q e0.db --allow-empty &&
	[ "$(sqlite3 e0.db "SELECT count(*) FROM selection")" = 0 ] &&
	[ "$(sqlite3 e0.db "SELECT n_in || \" \" || n_out FROM runs ORDER BY run_id DESC LIMIT 1")" = "0 0" ]
'

test_expect_success 'skip: bad records are counted in the runs row' '
	"$WINNOW" store s.db --on-error skip bad.jsonl 2>err &&
	grep -q "rejected 2" err &&
	[ "$(sqlite3 -separator " " s.db "SELECT n_out, n_rejected FROM runs")" = "98 2" ] &&
	"$WINNOW" export -q s.db > back.jsonl && sed 51,52d bad.jsonl | cmp - back.jsonl
'

test_expect_success 'quarantine: bad lines kept verbatim' '
	"$WINNOW" store -q q.db --quarantine q.jsonl bad.jsonl &&
	sed -n 51,52p bad.jsonl | cmp - q.jsonl &&
	"$WINNOW" export -q q.db > back.jsonl && sed 51,52d bad.jsonl | cmp - back.jsonl
'

test_expect_success 'reserved table names are usage errors' '
	"$WINNOW" store r.db --table runs good.jsonl 2>err; [ $? -eq 2 ] &&
	grep -q "reserved" err &&
	"$WINNOW" store r.db --table sqlite_x good.jsonl 2>err; [ $? -eq 2 ] &&
	"$WINNOW" store r.db --table "" good.jsonl 2>err; [ $? -eq 2 ] && [ ! -e r.db ]
'

test_expect_success 'usage errors exit 2' '
	"$WINNOW" store 2>err; [ $? -eq 2 ] &&
	"$WINNOW" store r.db --mode upsert good.jsonl 2>err; [ $? -eq 2 ] &&
	grep -q "replace or append" err &&
	"$WINNOW" export 2>err; [ $? -eq 2 ] &&
	"$WINNOW" export r.db --to xml 2>err; [ $? -eq 2 ] && [ ! -e r.db ]
'

test_expect_success 'export: a missing database is not created' '
	"$WINNOW" export none.db > out 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow export: none.db: unable to open database file" err &&
	[ ! -e none.db ] && [ ! -s out ]
'

test_expect_success 'export: a missing table, and a table that is not winnow'"'"'s' '
	"$WINNOW" store -q e.db good.jsonl && sqlite3 e.db "CREATE TABLE plain(x)" &&
	"$WINNOW" export e.db --table nope > out 2>err; [ $? -eq 1 ] &&
	grep -q "^winnow export: e.db: no such table: nope" err && [ ! -s out ] &&
	"$WINNOW" export e.db --table plain -o out.jsonl 2>err; [ $? -eq 1 ] &&
	grep -q "not a winnow table" err && [ ! -e out.jsonl ]
'

test_done
