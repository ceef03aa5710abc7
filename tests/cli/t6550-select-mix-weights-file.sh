#!/usr/bin/env bash
# t6550 — `winnow select --mix section --mix-weights @FILE` (issue 21: the
# mixture `sources plan --json` chose, applied in a pipeline). On the 2,000
# Debian records of fixtures/debian-2000.jsonl (libs 201, python 137, doc
# 149, devel 108): the text form (NAME WEIGHT lines) and the JSON form
# (`sources plan --json`'s "sources", by "name" or by the file name of
# "path") draw the same bytes as the inline NAME=W list with the same seed,
# the per-section counts are the largest-remainder quotas of N x w by hand,
# a real plan's "samples" are what select draws from its sources, and a bad
# file is a usage error (exit 2) naming FILE:LINE with nothing written.
. "$(dirname "$0")/lib.sh"
F=$(fixture debian-2000.jsonl)

counts() { jq -r .section "$1" | sort | uniq -c | awk '{ print $2, $1 }' | sort; }

test_expect_success 'text file: NAME WEIGHT lines (comments, blanks, tab or comma) draw what the inline list draws' '
	printf "# the plan\nlibs 0.4\ndevel\t0.3\n\npython,0.2\n  doc 0.1  \n" > w.txt &&
	"$WINNOW" select -q --mix section --mix-weights @w.txt --sample 1000 --seed 3 "$F" > file.out &&
	"$WINNOW" select -q --mix section --mix-weights libs=0.4,devel=0.3,python=0.2,doc=0.1 --sample 1000 --seed 3 "$F" > inline.out &&
	cmp file.out inline.out &&
	printf "devel 300\ndoc 100\nlibs 400\npython 200\n" > want &&
	counts file.out | test_cmp want -
'

test_expect_success 'JSON file: sources by "name", else the file name of "path" (folder, .jsonl, .gz dropped)' '
	cat > plan.json <<-EOF &&
	{"size": 1001, "sources": [{"name": "libs", "path": "/elsewhere/x.jsonl", "p": 0.4, "samples": 400},
	  {"path": "/tmp/pools/devel.jsonl.gz", "p": 0.3},
	  {"path": "python.jsonl", "p": 0.2}, {"path": "doc", "p": 0.1}], "p": [0.4, 0.3, 0.2, 0.1]}
	EOF
	"$WINNOW" select -q --mix section --mix-weights @plan.json --sample 1001 --seed 5 "$F" > json.out &&
	"$WINNOW" select -q --mix section --mix-weights libs=0.4,devel=0.3,python=0.2,doc=0.1 --sample 1001 --seed 5 "$F" > inline.out &&
	cmp json.out inline.out &&
	printf "devel 300\ndoc 100\nlibs 401\npython 200\n" > want &&
	counts json.out | test_cmp want -
'

test_expect_success 'a weight 0 and an unnamed group both draw nothing' '
	printf "libs 1\ndoc 0\n" > one.txt &&
	"$WINNOW" select -q --mix section --mix-weights @one.txt --sample 50 "$F" > one.out &&
	[ "$(jq -r .section one.out | sort -u)" = libs ] && [ "$(wc -l < one.out)" -eq 50 ]
'

test_expect_success 'sources plan --json | select --mix-weights @plan: the plan'"'"'s samples per source, drawn' '
	for s in libs doc; do
		"$WINNOW" embed -q --dim 16 "$WINNOW_ROOT/fixtures/sources/debian_$s.jsonl" > $s.jsonl || return 1
	done &&
	"$WINNOW" embed -q --dim 16 "$WINNOW_ROOT/fixtures/sources/debian_target.jsonl" > target.jsonl &&
	python3 -c "
for N in (100, 200):
    for i in range(11):
        print(N, i / 10, 1 - i / 10, 50 + 3 * i - (2 * i - 7) ** 2 / 10)
" > pil.txt &&
	"$WINNOW" sources plan -q --json --pilots pil.txt --size 90 --source libs.jsonl --source doc.jsonl \
		--target target.jsonl > real.json &&
	jq -r ".sources[] | \"\(.name) \(.samples)\"" real.json | sort > want &&
	jq -r ".sources[].path" real.json | grep -qx libs.jsonl &&
	[ "$(jq ".sources[0].samples" real.json)" -gt 0 ] && [ "$(jq ".sources[1].samples" real.json)" -gt 0 ] &&
	cat libs.jsonl doc.jsonl | "$WINNOW" select -q --mix section --mix-weights @real.json --sample 90 > drawn &&
	counts drawn | test_cmp want -
'

# bad FILE CONTENT MESSAGE-REGEX: exit 2, the message first (then the usage hint), nothing written
bad() {
	printf "$2" > "$1" &&
	"$WINNOW" select --mix section --mix-weights "@$1" --sample 10 -o sel.jsonl "$F" > out 2> err; rc=$?
	[ $rc -eq 2 ] && head -1 err | grep -q "$3" && [ ! -s out ] && ! ls sel.jsonl* 2> /dev/null
}

test_expect_success 'bad text file: not a number, too many fields, twice, negative: FILE:LINE, exit 2' '
	bad w1.txt "libs 0.5\ndoc x\n" "^winnow select: w1.txt:2: weight .x. is not a finite number$" &&
	bad w2.txt "# c\nlibs 0.5 0.1\n" "^winnow select: w2.txt:2: expected NAME WEIGHT, got 3 fields$" &&
	bad w3.txt "libs 0.5\n\nlibs 0.5\n" "^winnow select: w3.txt:3: .libs. given twice$" &&
	bad w4.txt "libs 1.2\ndoc -0.2\n" "^winnow select: w4.txt:2: weight of .doc. is negative (-0.2)$" &&
	bad w5.txt "libs=1\n" "^winnow select: w5.txt:1: expected NAME WEIGHT, got 1 field$"
'

test_expect_success 'bad sums and empty files name the file, exit 2' '
	bad s1.txt "libs 0.5\ndoc 0.4\n" "^winnow select: s1.txt: the weights sum to 0.9, not 1 (within 1e-06)$" &&
	bad s2.txt "# nothing\n\n" "^winnow select: s2.txt: no weights$"
'

test_expect_success 'bad JSON: the line of the syntax error, no "sources", an entry without "p" or a name' '
	bad j1.json "{\"sources\": [\n {\"name\": \"libs\", \"p\": 1},\n oops]}\n" "^winnow select: j1.json:3: not valid JSON (near .oops]}.)$" &&
	bad j2.json "{\"p\": [1]}\n" "^winnow select: j2.json:1: no \"sources\" array" &&
	bad j3.json "\n{\"sources\": [{\"name\": \"libs\", \"p\": 0.5}, {\"name\": \"doc\"}]}\n" "^winnow select: j3.json:2: sources\[1\] has no number \"p\"$" &&
	bad j4.json "{\"sources\": [{\"p\": 1}]}\n" "^winnow select: j4.json:1: sources\[0\] has no string \"name\" or \"path\"$"
'

test_expect_success 'a missing file, or @ alone: exit 2 naming it' '
	"$WINNOW" select --mix section --mix-weights @nope.txt --sample 10 "$F" > out 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "^winnow select: nope.txt: No such file or directory$" err && [ ! -s out ] &&
	"$WINNOW" select --mix section --mix-weights @ --sample 10 "$F" > out 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "no file name" err
'

test_expect_success 'a group the file names that no record has: exit 1 as for the inline form' '
	printf "libs 0.5\nnosuch 0.5\n" > ns.txt &&
	"$WINNOW" select --mix section --mix-weights @ns.txt --sample 10 -o sel.jsonl "$F" 2> err; rc=$?
	[ $rc -eq 1 ] && grep -q "no record has section .nosuch." err && ! ls sel.jsonl* 2> /dev/null
'

test_done
