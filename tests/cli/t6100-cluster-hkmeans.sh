#!/usr/bin/env bash
# t6100 — `winnow cluster hkmeans --levels` on 500 real records: one id per
# level in winnow.hcluster, levels consistent (records sharing a level-l id
# share every id above), sizes per level in --stats, deterministic reruns,
# and level lists that cannot work are usage errors.
. "$(dirname "$0")/lib.sh"
F="$WINNOW_ROOT/fixtures/cluster/debian-500-emb.jsonl"

test_expect_success 'one id per level, within each level'"'"'s k' '
	"$WINNOW" cluster hkmeans --levels 40,8,2 --seed 1 "$F" > out 2> err &&
	[ "$(wc -l < out)" -eq 500 ] &&
	jq "select((.winnow.hcluster | length) != 3 or .winnow.hcluster[0] >= 40
	              or .winnow.hcluster[1] >= 8 or .winnow.hcluster[2] >= 2
	              or (.winnow.hcluster | min) < 0)" out > bad && [ ! -s bad ] &&
	[ "$(jq -r ".winnow.hcluster[0]" out | sort -u | wc -l)" -eq 40 ] &&
	grep -q "level 3: k 2" err && grep -q "in 500, out 500, rejected 0" err
'

test_expect_success 'records that share a level-l cluster share every level above' '
	"$WINNOW" cluster hkmeans -q --levels 40,8,2 --seed 1 "$F" |
		jq -r ".winnow.hcluster | map(tostring) | join(\" \")" > ids &&
	[ "$(awk "{print \$1}" ids | sort -u | wc -l)" -eq "$(sort -u ids | wc -l)" ] &&
	[ "$(awk "{print \$2}" ids | sort -u | wc -l)" -eq "$(awk "{print \$2, \$3}" ids | sort -u | wc -l)" ]
'

test_expect_success 'the other bytes are untouched' '
	"$WINNOW" cluster hkmeans -q --levels 10,3 "$F" |
		sed "s/,\"hcluster\":\[[0-9]*,[0-9]*\]}}\$/}}/" | cmp - "$F"
'

test_expect_success 'level 1 is cluster kmeans with the same seed (--init random --niter 25 --resamples 0)' '
	"$WINNOW" cluster kmeans -q -k 12 --seed 3 "$F" | jq -c ".winnow.cluster" > a &&
	"$WINNOW" cluster hkmeans -q --levels 12,4 --seed 3 --init random --niter 25 --resamples 0 "$F" | jq -c ".winnow.hcluster[0]" > b &&
	cmp a b
'

test_expect_success '--stats: per level k, inertia and sizes summing to n; reruns identical' '
	"$WINNOW" cluster hkmeans -q --levels 30,6 --seed 2 --stats s.json "$F" > a &&
	"$WINNOW" cluster hkmeans -q --levels 30,6 --seed 2 --threads 1 "$F" > b && cmp a b &&
	jq -e "(.levels | length) == 2 and .levels[0].k == 30 and .levels[1].k == 6
	       and (.levels[0].sizes | add) == 500 and (.levels[1].sizes | add) == 500
	       and .levels[1].inertia < .levels[0].inertia" s.json
'

test_expect_failure_code 2 'a level larger than the one below' '"$WINNOW" cluster hkmeans --levels 5,20 "$F"'
test_expect_failure_code 2 'not a list of numbers' '"$WINNOW" cluster hkmeans --levels 5,x "$F"'
test_expect_failure_code 2 'missing --levels' '"$WINNOW" cluster hkmeans "$F"'
test_expect_success 'level 1 larger than the records: exit 1 with the message' '
	head -20 "$F" | "$WINNOW" cluster hkmeans --levels 30,3 2> err; rc=$?
	test $rc = 1 && grep -q "k (30) is larger than the number of vectors (20)" err
'
test_done
