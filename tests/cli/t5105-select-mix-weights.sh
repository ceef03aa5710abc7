#!/usr/bin/env bash
# t5105 — `winnow select --mix section --mix-weights NAME=W,...` (issue 21: the
# mixture `sources plan` chooses, applied) on the 2,000 Debian records of
# fixtures/debian-2000.jsonl (libs 201, python 137, doc 149, devel 108 of
# them). Exact per-section counts are the largest-remainder quotas of
# N x w, computed by hand; records pass byte-identical; bad weights are
# usage errors (exit 2, one line), an unknown section a run error (exit 1).
. "$(dirname "$0")/lib.sh"
F=$(fixture debian-2000.jsonl)
W=libs=0.4,devel=0.3,python=0.2,doc=0.1

counts() { jq -r .section "$1" | sort | uniq -c | awk '{ print $2, $1 }' | sort; }

test_expect_success '--sample 1000: exactly 400 libs, 300 devel, 200 python, 100 doc' '
	"$WINNOW" select -q --mix section --mix-weights "$W" --sample 1000 --seed 3 "$F" > out &&
	printf "devel 300\ndoc 100\nlibs 400\npython 200\n" > want &&
	counts out | test_cmp want - &&
	awk "NR == FNR { in_[\$0] = 1; next } !(\$0 in in_) { exit 1 }" "$F" out
'

test_expect_success '--sample 1001: the one left over goes to the largest remainder (libs 400.4)' '
	"$WINNOW" select -q --mix section --mix-weights "$W" --sample 1001 --seed 3 "$F" > out &&
	printf "devel 300\ndoc 100\nlibs 401\npython 200\n" > want &&
	counts out | test_cmp want -
'

test_expect_success 'a section under its quota is drawn without repeats; one over it repeats each record at most twice' '
	"$WINNOW" select -q --mix section --mix-weights "$W" --sample 1000 --seed 3 "$F" > out &&
	[ "$(jq -r "select(.section == \"doc\") | .id" out | sort -u | wc -l)" -eq 100 ] &&
	[ "$(jq -r "select(.section == \"libs\") | .id" out | sort | uniq -c | awk "\$1 < 1 || \$1 > 2" | wc -l)" -eq 0 ] &&
	[ "$(jq -r "select(.section == \"libs\") | .id" out | sort -u | wc -l)" -eq 201 ]
'

test_expect_success 'same seed, same bytes; another seed, another doc subset' '
	"$WINNOW" select -q --mix section --mix-weights "$W" --sample 1000 --seed 3 "$F" > a &&
	"$WINNOW" select -q --mix section --mix-weights "$W" --sample 1000 --seed 3 "$F" > b &&
	cmp a b &&
	"$WINNOW" select -q --mix section --mix-weights "$W" --sample 1000 --seed 4 "$F" > c &&
	! cmp -s a c
'

test_expect_success 'weights not summing to 1: exit 2 with the sum' '
	"$WINNOW" select --mix section --mix-weights libs=0.5,doc=0.4 --sample 10 "$F" > out 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "the weights sum to 0.9, not 1" err && [ ! -s out ]
'

test_expect_success 'a negative weight: exit 2 naming it' '
	"$WINNOW" select --mix section --mix-weights libs=1.2,doc=-0.2 --sample 10 "$F" > out 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "weight of .doc. is negative" err && [ ! -s out ]
'

test_expect_success 'not NAME=WEIGHT, or without --mix: exit 2' '
	"$WINNOW" select --mix section --mix-weights libs --sample 10 "$F" 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "is not NAME=WEIGHT" err &&
	"$WINNOW" select --mix-weights libs=1 --sample 10 "$F" 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "needs --mix PATH" err
'

test_expect_success 'a section no record has: exit 1 naming it, nothing written' '
	"$WINNOW" select --mix section --mix-weights libs=0.5,nosuch=0.5 --sample 10 -o sel.jsonl "$F" 2> err; rc=$?
	[ $rc -eq 1 ] && grep -q "no record has section .nosuch." err && ! ls sel.jsonl* 2> /dev/null
'

test_done
