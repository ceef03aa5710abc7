#!/usr/bin/env bash
# t5100 — `winnow select` on 2,000 real Debian records (fixtures/debian-2000.jsonl:
# unique ids, a `section` and an `installed_kb` per record). Every answer is
# recomputed independently with jq/awk: top-N and per-group picks exactly,
# samples by their invariants (distinct input lines, input order, sizes,
# determinism for a seed, weighting visible in the result), RS2 epochs,
# temperature quotas within one of N x p_group, and the balanced sample's
# water-filling shares over a real hierarchical k-means.
. "$(dirname "$0")/lib.sh"
F=$(fixture debian-2000.jsonl)
E=$(fixture cluster/debian-500-emb.jsonl)

# every line of $2 is a line of $1 (records pass byte-identical) and the
# lines of $2 keep their order in $1 (output in input order)
# (with repeats allowed: an upsampled record's copies sit together)
in_input_order() { # input output [repeats]
	awk -v rep="${3:-0}" 'NR == FNR { pos[$0] = FNR; next }
	     !($0 in pos) { print "not an input line: " substr($0, 1, 80); bad = 1; exit }
	     pos[$0] < last || (pos[$0] == last && !rep) { print "out of input order at output line " FNR; bad = 1; exit }
	     { last = pos[$0] }
	     END { exit bad }' "$1" "$2"
}

test_expect_success 'top 100 by installed_kb = jq sort (stable), back in input order' '
	"$WINNOW" select -q --top 100 --by installed_kb "$F" > out &&
	[ "$(wc -l < out)" -eq 100 ] && in_input_order "$F" out &&
	jq -s -r "to_entries | sort_by(-.value.installed_kb, .key) | .[:100] | sort_by(.key) | .[].value.id" "$F" > want &&
	jq -r .id out | test_cmp want -
'

test_expect_success '--asc --frac 0.05 keeps the 100 smallest' '
	"$WINNOW" select -q --frac 0.05 --by installed_kb --asc "$F" > out &&
	jq -s -r "to_entries | sort_by(.value.installed_kb, .key) | .[:100] | sort_by(.key) | .[].value.id" "$F" > want &&
	jq -r .id out | test_cmp want -
'

test_expect_success '--min/--max keep exactly the records in range' '
	"$WINNOW" select -q --min installed_kb=1000 --max installed_kb=5000 "$F" > out &&
	jq -c "select(.installed_kb >= 1000 and .installed_kb <= 5000) | .id" "$F" > want &&
	jq -c .id out | test_cmp want - && in_input_order "$F" out
'

test_expect_success '--per section --cap 3 keeps the first 3 of each of the 54 sections' '
	"$WINNOW" select -q --per section --cap 3 "$F" > out &&
	jq -s -r "to_entries | group_by(.value.section) | map(.[:3]) | add | sort_by(.key) | .[].value.id" "$F" > want &&
	jq -r .id out | test_cmp want -
'

test_expect_success '--per section --top 2 --by installed_kb keeps the 2 largest of each section' '
	"$WINNOW" select -q --per section --top 2 --by installed_kb "$F" > out &&
	jq -s -r "to_entries | group_by(.value.section) | map(sort_by(-.value.installed_kb, .key) | .[:2]) | add | sort_by(.key) | .[].value.id" "$F" > want &&
	jq -r .id out | test_cmp want -
'

test_expect_success '--sample 300: distinct input lines in input order, reproducible for a seed' '
	"$WINNOW" select -q --sample 300 --seed 11 "$F" > a &&
	"$WINNOW" select -q --sample 300 --seed 11 "$F" > b &&
	"$WINNOW" select -q --sample 300 --seed 12 "$F" > c &&
	[ "$(wc -l < a)" -eq 300 ] && [ "$(sort -u a | wc -l)" -eq 300 ] &&
	in_input_order "$F" a && test_cmp a b && ! cmp -s a c
'

test_expect_success 'the same selection from gzip input and from stdin' '
	gzip -c "$F" > in.jsonl.gz &&
	"$WINNOW" select -q --sample 300 --seed 11 "$F" > a &&
	"$WINNOW" select -q --sample 300 --seed 11 in.jsonl.gz > b &&
	"$WINNOW" select -q --sample 300 --seed 11 < "$F" > c &&
	test_cmp a b && test_cmp a c
'

test_expect_success '--weights installed_kb favours large packages' '
	"$WINNOW" select -q --sample 200 --weights installed_kb --seed 3 "$F" > w &&
	"$WINNOW" select -q --sample 200 --seed 3 "$F" > u &&
	[ "$(wc -l < w)" -eq 200 ] && in_input_order "$F" w &&
	mw=$(jq -s "map(.installed_kb) | sort | .[100]" w) &&
	mu=$(jq -s "map(.installed_kb) | sort | .[100]" u) &&
	echo "median kb weighted $mw uniform $mu" && [ "$mw" -gt $((3 * mu)) ]
'

test_expect_success 'weighted and per-group samples do not depend on the thread count' '
	OMP_NUM_THREADS=1 "$WINNOW" select -q --sample 200 --weights installed_kb --seed 3 "$F" > a &&
	OMP_NUM_THREADS=2 "$WINNOW" select -q --sample 200 --weights installed_kb --seed 3 "$F" > b &&
	OMP_NUM_THREADS=7 "$WINNOW" select -q --per section --sample 2 --seed 3 "$F" > c &&
	OMP_NUM_THREADS=1 "$WINNOW" select -q --per section --sample 2 --seed 3 "$F" > d &&
	test_cmp a b && test_cmp c d && [ "$(wc -l < c)" -gt 54 ]
'

test_expect_success '--log-weights on log(kb) draws the same set as --weights kb' '
	jq -c "select(.installed_kb > 0) | . + {lw: (.installed_kb | log)}" "$F" > lw.jsonl &&
	"$WINNOW" select -q --sample 150 --weights installed_kb --seed 9 lw.jsonl | jq -r .id > a &&
	"$WINNOW" select -q --sample 150 --weights lw --log-weights --seed 9 lw.jsonl | jq -r .id > b &&
	[ "$(wc -l < a)" -eq 150 ] && test_cmp a b
'

test_expect_success '--epochs 3 --frac 0.1: three different subsets of 200, tagged 0..2' '
	"$WINNOW" select -q --epochs 3 --frac 0.1 --seed 7 "$F" > out &&
	[ "$(wc -l < out)" -eq 600 ] &&
	for e in 0 1 2; do
		sed -n "s/,\"winnow\":{\"epoch\":$e}}\$/}/p" out > ep$e &&
		[ "$(wc -l < ep$e)" -eq 200 ] && [ "$(sort -u ep$e | wc -l)" -eq 200 ] || return 1
	done &&
	in_input_order "$F" ep0 && in_input_order "$F" ep1 && in_input_order "$F" ep2 &&
	! cmp -s ep0 ep1 && ! cmp -s ep1 ep2 &&
	jq -r .winnow.epoch out | uniq | tr "\n" " " | grep -qx "0 1 2 "
'

test_expect_success 'epoch e does not depend on how many epochs were asked for' '
	"$WINNOW" select -q --epochs 3 --frac 0.1 --seed 7 "$F" | head -200 > a &&
	"$WINNOW" select -q --epochs 1 --frac 0.1 --seed 7 "$F" > b && test_cmp a b
'

# group counts of a --mix resample: within one of N x p_g, p_g ∝ n_g^(1/T)
mix_check() { # T N file
	jq -s -r --argjson T "$1" --argjson N "$2" --slurpfile sel "$3" '
		(group_by(.section) | map({key: .[0].section, value: ((length | log) / $T | exp)}) | from_entries) as $m |
		($m | add) as $S |
		($sel | group_by(.section) | map({key: .[0].section, value: length}) | from_entries) as $c |
		$m | to_entries[] | ((($c[.key] // 0) - $N * .value / $S) | fabs) |
		select(. >= 1) | "group off its quota by \(.)"' "$F" > off && [ ! -s off ] &&
	[ "$(wc -l < "$3")" -eq "$2" ]
}

test_expect_success '--mix section --temperature 3 --sample 1000: quotas by n^(1/3)' '
	"$WINNOW" select -q --mix section --temperature 3 --sample 1000 --seed 5 "$F" > out &&
	mix_check 3 1000 out && in_input_order "$F" out repeats
'

test_expect_success '--mix upsamples small sections by repeating records' '
	"$WINNOW" select -q --mix section --temperature 1000 --sample 5400 --seed 5 "$F" > out &&
	mix_check 1000 5400 out &&
	[ "$(sort out | uniq -d | wc -l)" -gt 0 ] &&
	sort -u out | sort > u && sort "$F" | comm -23 u - | wc -l | grep -qx 0
'

test_expect_success '--mix --upweight: all records, group weight sums N x p_g, one weight per group' '
	"$WINNOW" select -q --mix section --temperature 2 --upweight "$F" > out &&
	[ "$(wc -l < out)" -eq 2000 ] &&
	sed "s/,\"winnow\":{\"weight\":[-+0-9.e]*}}\$/}/" out | cmp - "$F" &&
	jq -s -r "(group_by(.section) | map({key: .[0].section, value: (length | sqrt)}) | from_entries) as \$m |
		(\$m | add) as \$S |
		group_by(.section)[] | {s: .[0].section, sum: (map(.winnow.weight) | add),
			n: (map(.winnow.weight) | unique | length)} |
		select(.n != 1 or (((.sum - 2000 * \$m[.s] / \$S) | fabs) > 1e-9)) | .s" out > bad &&
	[ ! -s bad ]
'

# water-filling: inside each parent, children not taken whole get counts
# m or m+1 (m the smallest such count) and children taken whole have <= m+1
water_filled() { # all-pairs selected-pairs ("parent child" per line)
	awk 'FNR == NR { size[$0]++; par[$0] = $1; next } { cnt[$0]++ }
	     END {
		for (k in size) if (cnt[k] + 0 < size[k]) { p = par[k]; if (!(p in mn) || cnt[k] + 0 < mn[p]) mn[p] = cnt[k] + 0 }
		for (k in size) { p = par[k]; c = cnt[k] + 0
			if (c < size[k] && c > mn[p] + 1) { print "uneven share: " k " got " c; bad = 1 }
			if (c == size[k] && (p in mn) && size[k] > mn[p] + 1) { print "whole but large: " k; bad = 1 } }
		exit bad }' "$1" "$2"
}

test_expect_success '--balanced --cap 120 over hkmeans 24,4: equal shares per level, reproducible' '
	"$WINNOW" cluster hkmeans -q --levels 24,4 --seed 2 "$E" > h &&
	"$WINNOW" select -q --balanced --cap 120 --seed 4 h > s1 &&
	"$WINNOW" select -q --balanced --cap 120 --seed 4 h > s2 &&
	[ "$(wc -l < s1)" -eq 120 ] && test_cmp s1 s2 && in_input_order h s1 &&
	jq -r "\"root \(.winnow.hcluster[1])\"" h > all1 && jq -r "\"root \(.winnow.hcluster[1])\"" s1 > sel1 &&
	water_filled all1 sel1 &&
	jq -r ".winnow.hcluster | \"\(.[1]) \(.[0])\"" h > all0 && jq -r ".winnow.hcluster | \"\(.[1]) \(.[0])\"" s1 > sel0 &&
	water_filled all0 sel0
'

test_expect_success '--balanced on 2 levels with --hier naming the path' '
	jq -c ". + {h: [(.id | length), (.section | length % 3)]}" "$F" > hp.jsonl &&
	"$WINNOW" select -q --balanced --cap 90 --hier h hp.jsonl > out &&
	[ "$(wc -l < out)" -eq 90 ] &&
	jq -r "\"root \(.h[1])\"" out | sort | uniq -c | awk "{print \$1}" | tr "\n" " " | grep -qx "30 30 30 "
'

test_expect_success 'a missing --by field under quarantine: the line kept verbatim, the rest selected' '
	{ head -5 "$F"; echo "{\"id\":\"odd\",\"text\":\"no size\"}"; tail -5 "$F"; } > in.jsonl &&
	"$WINNOW" select --top 3 --by installed_kb --quarantine q.jsonl in.jsonl > out 2> err &&
	grep -q "^winnow select: in.jsonl:6: missing .installed_kb. (--by)" err &&
	grep -q "in 11, out 3, rejected 1" err &&
	sed -n 6p in.jsonl | cmp - q.jsonl && [ "$(wc -l < out)" -eq 3 ]
'

test_expect_success 'an unusable TMPDIR for the spool is a clear error naming it, exit 1, no output' '
	WINNOW_SPOOL_MEM=0 TMPDIR=/nonexistent/dir "$WINNOW" select --top 3 --by installed_kb "$F" > out 2> err; rc=$?
	[ $rc -eq 1 ] && [ ! -s out ] &&
	grep -q "^winnow select: cannot create a spool in /nonexistent/dir: No such file or directory" err
'

test_expect_success 'a spool on disk gives the same selection as one in memory' '
	"$WINNOW" select -q --top 50 --by installed_kb "$F" > mem.jsonl &&
	WINNOW_SPOOL_MEM=0 "$WINNOW" select -q --top 50 --by installed_kb "$F" > disk.jsonl &&
	WINNOW_SPOOL_MEM=0 "$WINNOW" select -q --epochs 3 --frac 0.1 --seed 7 "$F" > e1.jsonl &&
	"$WINNOW" select -q --epochs 3 --frac 0.1 --seed 7 "$F" > e2.jsonl &&
	test_cmp mem.jsonl disk.jsonl && test_cmp e1.jsonl e2.jsonl && [ "$(wc -l < e1.jsonl)" -eq 600 ]
'

test_expect_success '--epochs 0 is a usage error, not a plain sample' '
	"$WINNOW" select --epochs 0 --frac 0.1 "$F" > out 2> err; rc=$?
	[ $rc -eq 2 ] && [ ! -s out ] && grep -q "epochs must be at least 1" err
'

test_expect_success 'a select usage error leaves no -o file behind' '
	"$WINNOW" select --top 3 -o sel.jsonl "$F" 2> err; rc=$?
	[ $rc -eq 2 ] && grep -q "needs --by PATH" err && ! ls sel.jsonl* 2>/dev/null
'

test_expect_success 'filters alone stream: no spool needed' '
	TMPDIR=/nonexistent/dir "$WINNOW" select -q --min installed_kb=100000 "$F" > out &&
	[ "$(wc -l < out)" -eq "$(jq -c "select(.installed_kb >= 100000)" "$F" | wc -l)" ]
'

test_expect_success '-o FILE writes the selection atomically' '
	"$WINNOW" select -q --top 10 --by installed_kb -o sel.jsonl "$F" &&
	"$WINNOW" select -q --top 10 --by installed_kb "$F" | cmp - sel.jsonl
'

test_done
