#!/usr/bin/env bash
# t1150 — the reader validates many lines at once (blocks, io/reader.c) and
# `cat` writes clean blocks as they lie; neither may change one byte of what
# comes out: records, the positioned error lines, the policy, the counts.
# The reference is Python's json module (strict: control characters in
# strings, invalid UTF-8, trailing commas and extra data rejected), line by
# line; WINNOW_READ_BLOCK sets the block size (0: line by line), so a bad
# line lands inside a block, first and last in one, and on every boundary.
. "$(dirname "$0")/lib.sh"

# gen.py OUT KIND: writes OUT (the input), OUT.exp (stdout under skip),
# OUT.q (the quarantine file), OUT.bad (the rejected line numbers)
cat > gen.py <<'EOF'
import json, random, sys
out, kind = sys.argv[1], sys.argv[2]
rnd = random.Random(22)
def obj(i, n):
    return json.dumps({"id": i, "text": "x" * n}, separators=(",", ":")).encode()
bad = [b'{"a":1,}', b'{"a":tru}', b'[1,2]', b'"str"', b'1', b'{"a":"x\ty"}', b'{"a":"\xff"}',
       b'{"a":1}{"b":2}', b'{"a":1} {"b":2}', b'{"a":', b'1}', b'{"a":"unclosed}', b'{', b'}',
       b'\x0c', b'{"a":1}\x0c', b'{"a":[1,2}', b'{"a":01}', b'{"a":1.}']
good = [b'  {"sp": "aces"}  ', b'{"u":"\xc3\xa9\xe6\x97\xa5"}', b'{"n":{"m":[1,{"o":null}]}}',
        b'{}', b'\t{"tab":true}\t', b'{"cr":1}\r', b'{"mid":"\\r"}\r ']
blank = [b'', b'   ', b'\t', b'\r', b' \r']
lines = []
if kind == "mixed":   # short lines of every kind, bad ones one in ~8
    lines = [obj(0, 10)]
    for i in range(1, 400):
        r = rnd.random()
        lines.append(rnd.choice(bad) if r < 0.12 else rnd.choice(good) if r < 0.25
                     else rnd.choice(blank) if r < 0.3 else obj(i, rnd.randrange(0, 120)))
elif kind == "inner":  # one bad line deep inside default-size blocks of good ones
    lines = [obj(i, rnd.randrange(20, 200)) for i in range(20000)]
    lines[12344] = b'{"a":1,}'
    lines[5000] = b'{"crlf":1}\r'
    lines[7000] = b''
elif kind == "long":   # records longer than a block, one of them bad
    lines = [obj(i, rnd.randrange(20, 200)) for i in range(3000)]
    lines[1000] = obj(1000, 300000)
    lines[2000] = obj(2000, 300000)[:-1] + b',}'
    lines[2001] = obj(2001, 262144)
elif kind == "edge":   # 128-byte lines: default blocks end exactly after lines 2049, 4097
    lines = [obj(i, 128 - len(obj(i, 0)) - 1) for i in range(6000)]
    for n in (2049, 2050, 4097, 4098):
        lines[n - 1] = b'{"b":' + b'1' * 120 + b',}'
data = b"\n".join(lines) + b"\n"
exp, q, badlines = [], [], []
for no, raw in enumerate(data.split(b"\n")[:-1], 1):
    s = raw[:-1] if raw.endswith(b"\r") else raw
    if s.strip(b" \t\r") == b"":
        continue
    try:
        ok = isinstance(json.loads(s.decode("utf-8")), dict)
    except ValueError:
        ok = False
    if ok:
        exp.append(s + b"\n")
    else:
        q.append(s + b"\n")
        badlines.append(no)
open(out, "wb").write(data)
open(out + ".exp", "wb").write(b"".join(exp))
open(out + ".q", "wb").write(b"".join(q))
open(out + ".bad", "w").write("".join("%d\n" % n for n in badlines))
EOF

# check_skip IN NAME [env...]: skip mode on NAME (a path or - for stdin) gives
# IN.exp, one error line per IN.bad line in that order, and the counts
check_skip() {
	local in=$1 name=$2; shift 2
	if [ "$name" = - ]; then env "$@" "$WINNOW" cat --on-error skip < "$in" > out 2> err
	else env "$@" "$WINNOW" cat --on-error skip "$name" > out 2> err; fi || { cat err; return 1; }
	test_cmp "$in.exp" out || return 1
	local shown=$name; [ "$name" = - ] && shown="<stdin>"
	grep "^winnow cat: $shown:[0-9]*: " err | sed "s/^winnow cat: [^:]*:\([0-9]*\): .*/\1/" > got.bad
	test_cmp "$in.bad" got.bad || return 1
	local n_in=$(( $(wc -l < "$in.exp") + $(wc -l < "$in.bad") ))
	grep -qx "winnow cat: in $n_in, out $(wc -l < "$in.exp"), rejected $(wc -l < "$in.bad")" err
}

test_expect_success 'the reference: line by line, Python agrees on every line' '
	python3 gen.py m.jsonl mixed && [ "$(wc -l < m.jsonl.bad)" -gt 30 ] &&
	check_skip m.jsonl m.jsonl WINNOW_READ_BLOCK=0 && cp err ref.err &&
	WINNOW_READ_BLOCK=0 "$WINNOW" cat --quarantine q.jsonl m.jsonl > out 2> /dev/null &&
	test_cmp m.jsonl.q q.jsonl
'
test_expect_success 'every block size from 16 to 700 bytes: same output, errors and quarantine' '
	python3 gen.py m.jsonl mixed && WINNOW_READ_BLOCK=0 "$WINNOW" cat --on-error skip m.jsonl > /dev/null 2> ref.err &&
	for b in $(seq 16 5 700) 4096 65536; do
		check_skip m.jsonl m.jsonl WINNOW_READ_BLOCK=$b || { echo "block $b"; exit 1; }
		test_cmp ref.err err || { echo "block $b"; exit 1; }
		WINNOW_READ_BLOCK=$b "$WINNOW" cat -q --quarantine q.jsonl m.jsonl > out &&
		test_cmp m.jsonl.q q.jsonl && test_cmp m.jsonl.exp out || { echo "block $b"; exit 1; }
	done
'
test_expect_success 'the same from a pipe, gzip and zstd (the buffered path)' '
	python3 gen.py m.jsonl mixed && gzip -c m.jsonl > m.gz && zstd -q -c m.jsonl > m.zst &&
	for b in $(seq 16 37 700) 0; do
		check_skip m.jsonl - WINNOW_READ_BLOCK=$b || { echo "pipe, block $b"; exit 1; }
		for z in m.gz m.zst; do
			WINNOW_READ_BLOCK=$b "$WINNOW" cat --on-error skip $z > out 2> err &&
			test_cmp m.jsonl.exp out && sed "s/^winnow cat: m.jsonl:/winnow cat: $z:/" ref.err | cmp - err ||
			{ echo "$z, block $b"; exit 1; }
		done
	done
'
test_expect_success 'fail mode stops at the first bad line, whatever the block' '
	python3 gen.py m.jsonl mixed && first=$(head -1 m.jsonl.bad) &&
	WINNOW_READ_BLOCK=0 "$WINNOW" cat --on-error skip m.jsonl > /dev/null 2> ref.err &&
	for b in 0 16 100 333 4096; do
		WINNOW_READ_BLOCK=$b "$WINNOW" cat m.jsonl > out 2> err; rc=$?
		test $rc = 1 && [ ! -s out ] && [ "$(wc -l < err)" -eq 2 ] &&
		head -1 err | grep -q "^winnow cat: m.jsonl:$first: " &&
		grep "^winnow cat: m.jsonl:$first: " ref.err | head -1 | cmp - <(head -1 err) ||
		{ echo "block $b"; cat err; exit 1; }
	done
'
test_expect_success 'a bad line inside blocks of good ones (default block size)' '
	python3 gen.py i.jsonl inner && [ "$(cat i.jsonl.bad)" = 12345 ] &&
	check_skip i.jsonl i.jsonl && check_skip i.jsonl - &&
	"$WINNOW" cat -q --quarantine q.jsonl i.jsonl > out && test_cmp i.jsonl.q q.jsonl &&
	"$WINNOW" cat i.jsonl > out 2> err; rc=$?
	test $rc = 1 && [ ! -s out ] && grep -q "^winnow cat: i.jsonl:12345: invalid JSON" err
'
test_expect_success 'records longer than a block, one of them bad' '
	python3 gen.py l.jsonl long && [ "$(cat l.jsonl.bad)" = 2001 ] &&
	check_skip l.jsonl l.jsonl && check_skip l.jsonl - &&
	WINNOW_READ_BLOCK=4096 check_skip l.jsonl l.jsonl &&
	"$WINNOW" cat -q --quarantine q.jsonl l.jsonl > out && test_cmp l.jsonl.q q.jsonl
'
test_expect_success 'bad lines on both sides of block boundaries' '
	python3 gen.py e.jsonl edge && [ "$(tr "\n" " " < e.jsonl.bad)" = "2049 2050 4097 4098 " ] &&
	[ "$(head -c $((128 * 2049)) e.jsonl | tail -c 1 | od -An -c | tr -d " ")" = "\n" ] &&
	check_skip e.jsonl e.jsonl && check_skip e.jsonl - &&
	WINNOW_READ_BLOCK=1280 check_skip e.jsonl e.jsonl &&
	"$WINNOW" cat -q --quarantine q.jsonl e.jsonl > out && test_cmp e.jsonl.q q.jsonl
'
test_expect_success 'clean blocks pass byte for byte to --stream, -o and a pipe' '
	python3 gen.py i.jsonl inner && python3 gen.py e.jsonl edge &&
	grep -v "^$" e.jsonl | grep -v ",}$" > good.jsonl &&
	"$WINNOW" cat -q --stream good.jsonl > out1 && cmp good.jsonl out1 &&
	"$WINNOW" cat -q -o out2 good.jsonl && cmp good.jsonl out2 &&
	"$WINNOW" cat -q --stream good.jsonl | cat > out3 && cmp good.jsonl out3 &&
	"$WINNOW" cat -q good.jsonl good.jsonl > out4 && cat good.jsonl good.jsonl | cmp - out4 &&
	"$WINNOW" cat --stream --on-error skip i.jsonl > out5 2> /dev/null && cmp i.jsonl.exp out5
'
test_expect_success '--stream into a file that fills up keeps whole records, as line by line does' '
	python3 gen.py i.jsonl inner &&
	for b in 0 262144; do
		( trap "" XFSZ; ulimit -f 1000; WINNOW_READ_BLOCK=$b "$WINNOW" cat --stream --on-error skip i.jsonl > out.$b 2> err.$b ); rc=$?
		test $rc = 1 || exit 1
	done
	cmp out.0 out.262144 && size=$(stat -c %s out.0) && w=$(wc -l < out.0) &&
	test "$size" -gt 0 && test "$size" -le 1024000 && head -c "$size" i.jsonl.exp | cmp - out.0 &&
	for b in 0 262144; do
		grep -q "^winnow cat: <stdout>: File too large$" err.$b &&
		grep -qx "winnow cat: in [0-9]*, out $w, rejected 0 (failed: $w written)" err.$b || exit 1
	done
'
test_expect_success 'a BOM, CRLF and blank lines between blocks agree with line by line' '
	{ printf "\357\273\277{\"a\":1}\r\n"; for i in $(seq 1 300); do printf "{\"i\":%d}\n" $i
	  if [ $((i % 50)) = 0 ]; then printf "\357\273\277{\"bom\":%d}\n\r\n \n" $i; fi; done; } > b.jsonl &&
	WINNOW_READ_BLOCK=0 "$WINNOW" cat --on-error skip b.jsonl > ref.out 2> ref.err &&
	for b in 16 64 200 1000 262144; do
		WINNOW_READ_BLOCK=$b "$WINNOW" cat --on-error skip b.jsonl > out 2> err &&
		cmp ref.out out && cmp ref.err err || { echo "block $b"; exit 1; }
	done
'
test_done
