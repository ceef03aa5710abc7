#!/usr/bin/env bash
# t6110 — `winnow cluster hkmeans` resampling-clustering (Vo et al. 2024):
# the per-level sample size S defaults to half the mean cluster size,
# rounded ((npts + k) / 2k, computed here by hand), --stats records the
# steps run, the result is the same bytes at 1 and 2 threads for both
# strategies, resampling and the seed change the clustering, and bad
# options are usage errors with their message.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"

test_expect_success 'default S per level is half the mean cluster size (by hand: 6, 3, 2)' '
	"$WINNOW" cluster hkmeans -q --levels 40,8,2 --seed 1 --stats s.json "$F" > /dev/null &&
	jq -e ".init == \"kmeans++\" and .resamples == 10 and .strategy == \"closest\" and .niter == 50
	       and ([.levels[].sample_size] == [6, 3, 2])
	       and .levels[0].resamples == 10 and .levels[1].resamples == 10
	       and ([.levels[] | .sizes | add] == [500, 500, 500])" s.json
'

test_expect_success '--sample-size: one value for every level, or one per level' '
	"$WINNOW" cluster hkmeans -q --levels 40,8 --sample-size 4 --resamples 2 --stats a.json "$F" > /dev/null &&
	jq -e "[.levels[].sample_size] == [4, 4] and [.levels[].resamples] == [2, 2]" a.json &&
	"$WINNOW" cluster hkmeans -q --levels 40,8 --sample-size 5,1 --resamples 2 --stats b.json "$F" > /dev/null &&
	jq -e "[.levels[].sample_size] == [5, 0] and [.levels[].resamples] == [2, 0]" b.json
'

test_expect_success 'same bytes at --threads 1 and 2 (closest and random)' '
	"$WINNOW" cluster hkmeans -q --levels 40,8,2 --seed 5 --threads 1 "$F" > a &&
	"$WINNOW" cluster hkmeans -q --levels 40,8,2 --seed 5 --threads 2 "$F" > b && cmp a b &&
	"$WINNOW" cluster hkmeans -q --levels 40,8,2 --seed 5 --strategy random --threads 1 "$F" > c &&
	"$WINNOW" cluster hkmeans -q --levels 40,8,2 --seed 5 --strategy random --threads 2 "$F" > d && cmp c d &&
	! cmp -s a c
'

test_expect_success 'resampling and the seed change the level-1 clustering' '
	"$WINNOW" cluster hkmeans -q --levels 40 --seed 5 "$F" | jq -r ".winnow.hcluster[0]" > rs &&
	"$WINNOW" cluster hkmeans -q --levels 40 --seed 5 --resamples 0 "$F" | jq -r ".winnow.hcluster[0]" > plain &&
	"$WINNOW" cluster hkmeans -q --levels 40 --seed 6 "$F" | jq -r ".winnow.hcluster[0]" > rs6 &&
	! cmp -s rs plain && ! cmp -s rs rs6 &&
	[ "$(sort -u rs | wc -l)" -le 40 ] && [ "$(wc -l < rs)" -eq 500 ]
'

test_expect_success 'bad --strategy: exit 2 with the message' '
	"$WINNOW" cluster hkmeans --levels 4 --strategy far "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "unknown --strategy .far. (closest or random)" err && [ ! -s out ]
'
test_expect_success 'bad --init: exit 2 with the message' '
	"$WINNOW" cluster hkmeans --levels 4 --init pp "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "unknown --init .pp. (kmeans++ or random)" err
'
test_expect_success '--sample-size of the wrong length: exit 2 with the message' '
	"$WINNOW" cluster hkmeans --levels 8,4,2 --sample-size 3,2 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "sample-size has 2 values for 3 levels" err
'
test_expect_success 'negative --resamples: exit 2 with the message' '
	"$WINNOW" cluster hkmeans --levels 8 --resamples -1 "$F" > out 2> err; rc=$?
	test $rc = 2 && grep -q "resamples must not be negative" err
'
test_done
