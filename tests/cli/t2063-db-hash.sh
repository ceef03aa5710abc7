#!/usr/bin/env bash
# t2063 — `winnow db hash DB [--table T]`: the hash as store/dbhash.h
# defines it, computed independently (python3's sqlite3 builds the byte
# stream from the definition; a 10-line C program hashes it with
# XXH3-128, printed high 64 bits first); equal for equal contents reached
# by different histories (rowid gaps, column order, another run sequence),
# different when one value, its type or the row order changes; errors.
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"
q() { sqlite3 "$1" "$2"; }

cat > xxh128.c <<'CSRC'
#include <stdio.h>
#include <xxhash.h>
int main(void)
{
	static char buf[1 << 16];
	size_t n;
	XXH3_state_t *s = XXH3_createState();
	XXH3_128bits_reset(s);
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		XXH3_128bits_update(s, buf, n);
	XXH128_hash_t h = XXH3_128bits_digest(s);
	printf("%016llx%016llx\n", (unsigned long long)h.high64, (unsigned long long)h.low64);
	return 0;
}
CSRC
cat > stream.py <<'PEER'
# The byte stream of store/dbhash.h's definition, from python3's sqlite3.
import sqlite3, struct, sys
db, table = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
cols = sorted((r[1].encode() for r in c.execute("SELECT * FROM pragma_table_info(?)", (table,))))
out = bytearray()
for n in cols:
    out += struct.pack("<Q", len(n)) + n
ident = lambda n: '"' + n.decode().replace('"', '""') + '"'
sel = ", ".join("typeof(%s), CAST(%s AS BLOB), %s" % (ident(n), ident(n), ident(n)) for n in cols)
for row in c.execute("SELECT %s FROM %s ORDER BY rowid" % (sel, ident(table.encode()))):
    for i in range(0, len(row), 3):
        t, raw, v = row[i:i + 3]
        if t == "null": out += b"n"
        elif t == "integer": out += b"i" + struct.pack("<q", v)
        elif t == "real": out += b"r" + struct.pack("<d", v)
        else: out += (b"t" if t == "text" else b"b") + struct.pack("<Q", len(raw)) + bytes(raw)
sys.stdout.buffer.write(out)
PEER

test_expect_success 'setup: the reference hasher, a database of two tables' '
	cc -o xxh128 xxh128.c -lxxhash &&
	sed -n 1,40p "$D" > a.jsonl &&
	"$WINNOW" embed -q --dim 8 --threads 1 a.jsonl | "$WINNOW" cluster kmeans -q -k 3 --seed 1 --threads 1 |
		"$WINNOW" store -q one.db --table sel &&
	"$WINNOW" store -q one.db --table other --seed 5 a.jsonl
'
test_expect_success 'each table: the hash of the stream the definition gives (python3 + XXH3-128)' '
	"$WINNOW" db hash one.db > got &&
	{ for t in other sel; do printf "%s  %s\n" "$(python3 stream.py one.db $t | ./xxh128)" $t; done; } > want &&
	cmp want got &&
	"$WINNOW" db hash one.db --table runs > r && grep -q "^[0-9a-f]\{32\}  runs$" r && ! grep -q runs got
'
test_expect_success 'equal contents by another history: replace vs append in two parts, other run ids' '
	"$WINNOW" store -q two.db --table other --seed 5 a.jsonl &&
	sed -n 1,15p a.jsonl > a1.jsonl && sed -n 16,40p a.jsonl > a2.jsonl &&
	"$WINNOW" store -q three.db --table other --mode append a1.jsonl &&
	"$WINNOW" store -q three.db --table other --mode append a2.jsonl &&
	"$WINNOW" db hash one.db -t other > h1 && "$WINNOW" db hash two.db -t other > h2 &&
	"$WINNOW" db hash three.db -t other > h3 && cmp h1 h2 && cmp h1 h3 &&
	"$WINNOW" db hash one.db -t runs > r1 && "$WINNOW" db hash two.db -t runs > r2 && ! cmp -s r1 r2
'
test_expect_success 'column order and rowid gaps do not matter; a value, its type, the row order do' '
	q c1.db "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, '\''x'\''), (2.5, NULL), (NULL, x'\''00ff'\'');" &&
	q c2.db "CREATE TABLE t(b, a); INSERT INTO t(a, b) VALUES (9, 9); DELETE FROM t;
		 INSERT INTO t(a, b) VALUES (1, '\''x'\''), (2.5, NULL), (NULL, x'\''00ff'\'');" &&
	q c3.db "CREATE TABLE t(a, b); INSERT INTO t VALUES ('\''1'\'', '\''x'\''), (2.5, NULL), (NULL, x'\''00ff'\'');" &&
	q c4.db "CREATE TABLE t(a, b); INSERT INTO t VALUES (2.5, NULL), (1, '\''x'\''), (NULL, x'\''00ff'\'');" &&
	for i in 1 2 3 4; do "$WINNOW" db hash c$i.db > c$i || exit 1; done &&
	cmp c1 c2 && ! cmp -s c1 c3 && ! cmp -s c1 c4 &&
	printf "%s  t\n" "$(python3 stream.py c1.db t | ./xxh128)" > want1 && cmp want1 c1
'
test_expect_success 'errors: usage (exit 2), a missing database or table (exit 1, one line)' '
	"$WINNOW" db hash > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow db hash: missing the database path" err &&
	"$WINNOW" db hash one.db extra > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow db hash: unexpected argument '\''extra'\''" err &&
	"$WINNOW" db hash none.db > out 2> err; rc=$?
	test $rc = 1 && [ $(wc -l < err) = 1 ] && grep -q "^winnow db hash: none.db: unable to open database file" err &&
	[ ! -e none.db ] &&
	"$WINNOW" db hash one.db -t nope > out 2> err; rc=$?
	test $rc = 1 && grep -qx "winnow db hash: one.db: no such table: nope" err
'
test_done
