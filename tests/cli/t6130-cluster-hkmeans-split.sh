#!/usr/bin/env bash
# t6130 — `winnow cluster hkmeans --split N` (the reference's n_splits,
# scripts/split_clusters.py): each level-1 cluster re-clustered into up to
# N, so level 1 has at most K1 x N clusters and level 2 may be larger than
# K1; every record keeps one id per level; same bytes at 1 and 2 threads;
# --levels beyond K1 x N and a negative --split are usage errors.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"

test_expect_success '--levels 10,30,5 --split 4: level 1 has 11..40 clusters, level 2 (30) above K1' '
	"$WINNOW" cluster hkmeans -q --levels 10,30,5 --split 4 --seed 3 --stats s.json "$F" > out.jsonl &&
	jq -e ".split == 4 and (.levels[0].k | . > 10 and . <= 40) and .levels[1].k == 30 and .levels[2].k == 5
	       and ([.levels[] | .sizes | add] == [500, 500, 500]) and all(.levels[0].sizes[]; . >= 1)" s.json &&
	k1=$(jq ".levels[0].k" s.json) &&
	jq -e --argjson k1 "$k1" "(.winnow.hcluster | length) == 3 and .winnow.hcluster[0] < \$k1" out.jsonl > /dev/null &&
	[ "$(jq -r ".winnow.hcluster[0]" out.jsonl | sort -u | wc -l)" -eq "$k1" ]
'

test_expect_success 'the split refines level 1: without it, 10 clusters; with --split 1, the same bytes as none' '
	"$WINNOW" cluster hkmeans -q --levels 10,5 --seed 3 --stats n.json "$F" > none.jsonl &&
	"$WINNOW" cluster hkmeans -q --levels 10,5 --seed 3 --split 1 "$F" > one.jsonl &&
	jq -e ".levels[0].k == 10" n.json && cmp none.jsonl one.jsonl
'

test_expect_success 'same bytes at --threads 1 and 2' '
	"$WINNOW" cluster hkmeans -q --levels 10,30,5 --split 4 --seed 3 --threads 1 "$F" > a &&
	"$WINNOW" cluster hkmeans -q --levels 10,30,5 --split 4 --seed 3 --threads 2 "$F" > b &&
	cmp a b && cmp a out.jsonl
'

test_expect_success 'level 2 above K1 x N: exit 2 with the message, nothing written' '
	"$WINNOW" cluster hkmeans --levels 10,41 --split 4 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "level 2 has 41 clusters, more than level 1.s 40 after --split" err && [ ! -s out ]
'

test_expect_success 'negative --split: exit 2 with the message' '
	"$WINNOW" cluster hkmeans --levels 10 --split -2 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "split must not be negative" err
'

test_done
