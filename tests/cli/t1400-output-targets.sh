#!/usr/bin/env bash
# tests/cli/t1400-output-targets.sh — where `-o` and stdout put the bytes,
# and what a failed write leaves behind.
#
# -o onto a character device (/dev/full, /dev/null), a FIFO or a symlink
# writes to it and leaves it what it was, as `sort -o` and `cp` do; a
# replaced file keeps its mode; a full device fails with the kernel's
# reason. --stream keeps records whole: a bad record after 30000 good ones
# leaves exactly the good ones, and a full disk (a file-size limit, so no
# root or tmpfs is needed) leaves whole lines only. Without --stream, a
# stdout file whose commit fails is left as it was.
#
# Devices: as root the test makes its own nodes (mknod c 1 7 is /dev/full,
# c 1 3 is /dev/null) so that a broken writer replaces those, never the
# machine's; otherwise it uses /dev/full and /dev/null themselves.
. "$(dirname "$0")/lib.sh"

chardev() { # chardev NAME MINOR -> prints a path to a 1:MINOR character device
	if [ "$(id -u)" = 0 ] && mknod "$TEST_DIR/$1" c 1 "$2" 2>/dev/null; then
		printf '%s' "$TEST_DIR/$1"
	elif [ "$2" = 7 ]; then printf /dev/full
	else printf /dev/null
	fi
}
FULL=$(chardev full 7)
NULL=$(chardev null 3)
printf '{"text":"a"}\n{"text":"b"}\n{"text":"c"}\n' > three.jsonl
python3 -c '
import json
for i in range(30000): print(json.dumps({"id": i, "text": "x" * 100 + str(i)}))
' > good.jsonl
{ cat good.jsonl; echo '{"id": "bad", "text": "unterminated'; } > bad-last.jsonl

test_expect_success '-o a full device fails with the reason and stays a device' '
	"$WINNOW" cat -o "$FULL" three.jsonl 2>err; rc=$?
	test $rc = 1 && grep -q "^winnow cat: $FULL: No space left on device$" err &&
	test -c "$FULL" && ! ls "$FULL".tmp.* 2>/dev/null
'
test_expect_success '-o /dev/null succeeds and it stays a character device' '
	"$WINNOW" cat -q -o "$NULL" three.jsonl && test -c "$NULL" && test ! -s "$NULL"
'
test_expect_success 'stdout on a full device fails with the reason' '
	"$WINNOW" cat three.jsonl > "$FULL" 2>err; rc=$?
	test $rc = 1 && grep -q "^winnow cat: <stdout>: No space left on device$" err
'
test_expect_success '-o FIFO: the reader gets the records, the FIFO stays' '
	mkfifo fifo && { timeout 10 cat fifo > got & } &&
	timeout 10 "$WINNOW" cat -q -o fifo three.jsonl; rc=$?
	[ -p fifo ] || kill %1 2>/dev/null; wait
	test $rc = 0 && test -p fifo && test_cmp three.jsonl got
'
test_expect_success '-o FIFO: a failed run opens it, writes nothing, and closes it' '
	mkfifo fifo2 && { timeout 10 cat fifo2 > got2; echo $? > catrc; } &
	timeout 10 "$WINNOW" cat -q -o fifo2 three.jsonl bad-last.jsonl; rc=$?
	[ -p fifo2 ] || kill %1 2>/dev/null; wait
	test $rc = 1 && test -p fifo2 && test ! -s got2 && [ "$(cat catrc)" = 0 ]
'
test_expect_success '-o SYMLINK writes its target and the link stays' '
	mkdir d && echo old > d/real && ln -s d/real link &&
	"$WINNOW" cat -q -o link three.jsonl &&
	test -L link && [ "$(readlink link)" = d/real ] && test_cmp three.jsonl d/real &&
	! ls d/real.tmp.* link.tmp.* 2>/dev/null
'
test_expect_success '-o keeps the mode of the file it replaces' '
	echo old > secret && chmod 600 secret &&
	"$WINNOW" cat -q -o secret three.jsonl && test_cmp three.jsonl secret &&
	[ "$(stat -c %a secret)" = 600 ] &&
	( umask 027 && "$WINNOW" cat -q -o fresh three.jsonl ) && [ "$(stat -c %a fresh)" = 640 ]
'
test_expect_success '--stream: a bad record after 30000 good ones leaves exactly the good ones' '
	"$WINNOW" cat --stream bad-last.jsonl > out 2>err; rc=$?
	test $rc = 1 && grep -q "bad-last.jsonl:30001: " err && test_cmp good.jsonl out
'
test_expect_success '--stream on a full disk leaves whole lines only' '
	( trap "" XFSZ; ulimit -f 1000; "$WINNOW" cat --stream good.jsonl > out2 2>err ); rc=$?
	size=$(stat -c %s out2)
	test $rc = 1 && test "$size" -gt 0 && test "$size" -le 1024000 &&
	[ "$(tail -c 1 out2 | od -An -c | tr -d " ")" = "\n" ] &&
	head -c "$size" good.jsonl | cmp - out2
'
test_expect_success 'without --stream, a stdout file whose commit fails is left as it was' '
	echo keep > out3 &&
	( trap "" XFSZ; ulimit -f 1000; "$WINNOW" cat good.jsonl >> out3 2>err ); rc=$?
	test $rc = 1 && grep -q "^winnow cat: <stdout>: File too large$" err &&
	[ "$(cat out3)" = keep ]
'
test_done
