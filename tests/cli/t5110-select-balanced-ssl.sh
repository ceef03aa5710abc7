#!/usr/bin/env bash
# t5110 — `winnow select --balanced` with the Vo et al. reference's rules
# (facebookresearch/ssl-data-curation, hierarchical_sampling): the
# issue's worked example through the CLI (child sizes 10,3,50,7 under one
# top cluster, 21 records -> 6,3,6,6 exactly; 20 -> 3 from the small one,
# 5 or 6 from the others), --multiplier repeating a small cluster and
# --strategy c taking the closest by --by, all computed by hand.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	for c in 0 1 2 3; do
		case $c in 0) k=10;; 1) k=3;; 2) k=50;; 3) k=7;; esac
		for i in $(seq 1 $k); do
			printf "{\"id\":\"%s-%s\",\"winnow\":{\"hcluster\":[%s,0]}}\n" $c $i $c
		done
	done > worked.jsonl &&
	[ "$(wc -l < worked.jsonl)" -eq 70 ] &&
	cat > small.jsonl <<-\IN
	{"id":"a","d":0.5,"winnow":{"hcluster":[0]}}
	{"id":"b1","d":0.9,"winnow":{"hcluster":[1]}}
	{"id":"b2","d":0.1,"winnow":{"hcluster":[1]}}
	{"id":"b3","d":0.4,"winnow":{"hcluster":[1]}}
	{"id":"b4","d":0.4,"winnow":{"hcluster":[1]}}
	{"id":"b5","d":0.3,"winnow":{"hcluster":[1]}}
	IN
'

test_expect_success 'worked example, 21 of [10,3,50,7]: exactly 6,3,6,6' '
	"$WINNOW" select -q --balanced --cap 21 --seed 3 worked.jsonl |
		jq -r ".winnow.hcluster[0]" | sort | uniq -c | awk "{print \$2, \$1}" > got &&
	printf "0 6\n1 3\n2 6\n3 6\n" > want && test_cmp want got
'

test_expect_success 'worked example, 20: cut 5, the small cluster 3, two of {0,2,3} one more' '
	for seed in 1 2 3 4 5 6; do
		"$WINNOW" select -q --balanced --cap 20 --seed $seed worked.jsonl |
			jq -r ".winnow.hcluster[0]" | sort | uniq -c | awk "{print \$2, \$1}" > got &&
		[ "$(awk "\$1 == 1 {print \$2}" got)" = 3 ] &&
		[ "$(awk "\$1 != 1 && (\$2 == 5 || \$2 == 6) {n++} END {print n}" got)" = 3 ] &&
		[ "$(awk "\$2 == 6 {n++} END {print n}" got)" = 2 ] || return 1
	done
'

test_expect_success '--multiplier 3 --strategy c: the lone record 3 times, then the 3 closest (tie: earlier)' '
	"$WINNOW" select -q --balanced --cap 6 --multiplier 3 --strategy c --by d small.jsonl |
		jq -r .id > got &&
	printf "a\na\na\nb2\nb3\nb5\n" > want && test_cmp want got &&
	"$WINNOW" select -q --balanced --cap 7 --multiplier 3 --strategy c --by d small.jsonl |
		jq -r .id > got &&
	printf "a\na\na\nb2\nb3\nb4\nb5\n" > want && test_cmp want got
'

test_expect_success 'multiplier 1: one copy at most (4 of [1,5] -> 1 and the 3 closest)' '
	"$WINNOW" select -q --balanced --cap 4 --strategy c --by d small.jsonl | jq -r .id > got &&
	printf "a\nb2\nb3\nb5\n" > want && test_cmp want got
'

test_expect_success '--strategy c without --by: exit 2 with the message' '
	"$WINNOW" select --balanced --cap 3 --strategy c small.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "strategy c needs --by PATH" err && [ ! -s out ]
'
test_expect_success 'bad --strategy: exit 2 with the message' '
	"$WINNOW" select --balanced --cap 3 --strategy x small.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "unknown --strategy .x." err
'
test_expect_success '--multiplier 0: exit 2 with the message' '
	"$WINNOW" select --balanced --cap 3 --multiplier 0 small.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "multiplier must be at least 1" err
'
test_expect_success '--multiplier without --balanced: exit 2 with the message' '
	"$WINNOW" select --sample 3 --multiplier 2 small.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "need --balanced" err
'
test_done
