#!/usr/bin/env bash
# tests/cli/t7100-recipe-cache.sh — nightly runs of `winnow run`: exit codes
# for cron (0 done, 1 failed with nothing written, 2 usage, 3 nothing new),
# the per-step record cache (a cached run is byte-identical to an uncached
# run and to the shell pipeline, at 1 and 2 threads and any batch size),
# the two-night scenario (night 2 = night 1 + 10% new records: exactly the
# new records are computed, and the result equals a from-scratch run), and
# resume after kill -9 at many moments (the result equals an uninterrupted
# run, and the rerun computes exactly the records the cache did not hold).
. "$(dirname "$0")/lib.sh"

N1=$(fixture recipes/night1.jsonl)
NEW=$(fixture recipes/new.jsonl)
TARGET=$(fixture zipfit/target.jsonl)
mkdir -p bin && ln -s "$WINNOW" bin/winnow
fresh() { cd "$(mktemp -d "$TEST_DIR/case.XXXXXX")"; }
# night 2: night 1 with the 30 new records, half in the middle, half at the end
night2() { head -150 "$N1"; head -15 "$NEW"; tail -n +151 "$N1"; tail -n +16 "$NEW"; }
# the nightly recipe: embed and score (cached), top 40 by score (whole stream)
mk_recipe() { # mk_recipe OUTPUT-LINE
	cat > r.yaml <<-EOF
	winnow: 1
	seed: 5
	cache: state
	inputs: [in.jsonl]
	steps:
	  - embed: {dim: 64}
	  - score zipfit: {target: $TARGET}
	  - select: {top: 40, by: winnow.zipfit}
	$1
	EOF
}
# how many records step STEP of the cache holds (sqlite3 reads the cache directly)
# (0 when a kill came before the tables existed)
cached_count() {
	if [ "$(sqlite3 state/cache.db "SELECT count(*) FROM sqlite_master WHERE name = 'annot'")" = 0 ]; then echo 0; return; fi
	sqlite3 state/cache.db "SELECT count(*) FROM annot WHERE step = (SELECT step FROM steps WHERE name = '$1')"
}

# ---- exit codes ----

test_expect_success 'exit 0, then 3 with one line ("nothing new to do"), -q silent, --force runs' '
	fresh && cp "$N1" in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	"$WINNOW" run r.yaml 2> err1 && test $(wc -l < o.jsonl) = 40 &&
	tail -1 err1 | grep -q "^winnow run: r.yaml: 3 steps, in 300, out 40, rejected 0, " &&
	"$WINNOW" run r.yaml > out 2> err; rc=$?
	test $rc = 3 && test $(wc -l < err) = 1 && ! test -s out &&
	grep -qx "winnow run: r.yaml: nothing new to do: inputs and recipe unchanged since the last run; o.jsonl is up to date" err &&
	"$WINNOW" run -q r.yaml > out 2> err; rc=$?
	test $rc = 3 && ! test -s err &&
	cp o.jsonl before.jsonl && "$WINNOW" run --force r.yaml 2> err && cmp before.jsonl o.jsonl &&
	grep -qx "winnow embed: cache: reused 300, computed 0" err
'

test_expect_success 'a changed input, a changed recipe, a touched output: the run runs again (exit 0)' '
	fresh && cp "$N1" in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	"$WINNOW" run -q r.yaml && night2 > in.jsonl &&
	"$WINNOW" run -q r.yaml && "$WINNOW" run -q r.yaml; rc=$?
	test $rc = 3 &&
	sed -i "s/top: 40/top: 41/" r.yaml && "$WINNOW" run -q r.yaml && test $(wc -l < o.jsonl) = 41 &&
	"$WINNOW" run -q r.yaml; rc=$?
	test $rc = 3 &&
	echo >> o.jsonl && "$WINNOW" run -q r.yaml && test $(wc -l < o.jsonl) = 41 &&
	rm o.jsonl && "$WINNOW" run -q r.yaml && test -s o.jsonl
'

test_expect_success 'output db without a cache: exit 3 from the runs table; another table or recipe runs' '
	fresh && cp "$N1" in.jsonl &&
	printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - select: {per: section, cap: 3}\noutput: {db: o.db, table: t}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml && "$WINNOW" run r.yaml 2> err; rc=$?
	test $rc = 3 && test $(wc -l < err) = 1 &&
	grep -q "^winnow run: r.yaml: nothing new to do: inputs and recipe unchanged since run 1 (.*) of o.db table t$" err &&
	test "$(sqlite3 o.db "SELECT count(*) FROM runs")" = 1 &&
	"$WINNOW" store -q o.db --table t in.jsonl && "$WINNOW" run -q r.yaml &&
	test "$(sqlite3 o.db "SELECT count(*) FROM runs")" = 3 &&
	sed "s/table: t/table: u/" r.yaml > r2.yaml && "$WINNOW" run -q r2.yaml &&
	echo "{\"id\":\"x\",\"text\":\"x\",\"section\":\"new\"}" >> in.jsonl && "$WINNOW" run -q r.yaml &&
	test "$(sqlite3 o.db "SELECT count(*) FROM runs")" = 5
'

test_expect_success 'a failed run: exit 1, the last line says so, nothing written, no run remembered' '
	fresh && cp "$N1" in.jsonl && echo "{oops" >> in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	"$WINNOW" run -q r.yaml 2> err; rc=$?
	test $rc = 1 && ! test -e o.jsonl &&
	tail -1 err | grep -qx "winnow run: r.yaml: step 1 (embed) failed; nothing written" &&
	grep -q "in.jsonl:301: invalid JSON" err &&
	test "$(sqlite3 state/cache.db "SELECT count(*) FROM runs")" = 0 &&
	"$WINNOW" run -q r.yaml 2> err; rc=$?
	test $rc = 1
'

test_expect_success 'usage errors: exit 2, one line, before any work' '
	fresh && cp "$N1" in.jsonl &&
	printf "winnow: 1\ninputs: in.jsonl\ncahce: s\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml > out 2> err; rc=$?
	test $rc = 2 && echo "winnow run: r.yaml:3:1: unknown key '\''cahce'\'' in the recipe; did you mean '\''cache'\''?" > want &&
	test_cmp want err &&
	printf "winnow: 1\ninputs: in.jsonl\ncache: \"\"\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow run: r.yaml:3:8: cache: the directory name is empty" err &&
	"$WINNOW" run --cache 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow run: option .--cache. " err &&
	! test -e o.jsonl && ! test -e s
'

test_expect_success 'a cache that cannot be made: exit 1, one line naming it' '
	fresh && cp "$N1" in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" && echo x > state &&
	"$WINNOW" run -q r.yaml 2> err; rc=$?
	test $rc = 1 && grep -qx "winnow run: r.yaml: cache '\''state'\'': not a directory" err && ! test -e o.jsonl
'

test_expect_success '--dry-run and --explain say which steps are cached; --cache replaces cache:, runs nothing' '
	fresh && cp "$N1" in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	"$WINNOW" run --dry-run --cache other r.yaml > plan &&
	grep -qx "cache: other (per record: 1. embed, 2. score zipfit; the other steps run over the whole stream every time)" plan &&
	"$WINNOW" run --explain r.yaml > explain &&
	test "$(grep -c "; cached per record in state (computes only records it has not seen)$" explain)" = 2 &&
	grep -q "^3. select: .*; not cached (runs every time)$" explain &&
	! test -e state && ! test -e other && ! test -e o.jsonl
'

# ---- byte identity ----

test_expect_success 'cached = uncached = the shell pipeline, at 1 and 2 threads, batches of 1, 7 and 1024' '
	fresh && night2 > in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	sed "/^cache:/d" r.yaml > plain.yaml && "$WINNOW" run -q -o plain.jsonl plain.yaml &&
	"$WINNOW" run --dry-run -o shell.jsonl plain.yaml | sed -n "s/^shell: //p" > p.sh &&
	PATH="$TEST_DIR/bin:$PATH" bash -o pipefail p.sh 2> /dev/null && cmp plain.jsonl shell.jsonl &&
	for b in 1 7 1024; do for t in 1 2; do
		rm -rf state && WINNOW_CACHE_BATCH=$b "$WINNOW" run -q --threads $t -o b$b-t$t.jsonl r.yaml &&
		cmp plain.jsonl b$b-t$t.jsonl || return 1
	done; done &&
	WINNOW_CACHE_BATCH=5 "$WINNOW" run -q --threads 2 -o warm.jsonl r.yaml && cmp plain.jsonl warm.jsonl
'

test_expect_success 'cluster kmeans with saved centroids is cached; ids are those of the saved centroids' '
	fresh && cp "$N1" in.jsonl &&
	"$WINNOW" embed -q --dim 64 in.jsonl | "$WINNOW" cluster kmeans -q -k 6 --seed 1 --centroids-out c.npy > /dev/null &&
	printf "winnow: 1\nseed: 2\ncache: state\ninputs: in.jsonl\nsteps:\n  - embed: {dim: 64}\n  - cluster kmeans: {centroids: c.npy}\n  - select: {sample: 50}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	WINNOW_CACHE_BATCH=9 "$WINNOW" run -q r.yaml && night2 > in.jsonl &&
	WINNOW_CACHE_BATCH=9 "$WINNOW" run r.yaml 2> err &&
	grep -qx "winnow cluster kmeans: cache: reused 300, computed 30" err &&
	"$WINNOW" embed -q --dim 64 in.jsonl | "$WINNOW" cluster kmeans -q --centroids c.npy | "$WINNOW" select -q --sample 50 --seed 2 > want.jsonl &&
	cmp want.jsonl o.jsonl
'

test_expect_success 'a changed target file is a new key: everything after embed is computed again' '
	fresh && cp "$N1" in.jsonl && head -5 "$TARGET" > t.jsonl &&
	printf "winnow: 1\ncache: state\ninputs: in.jsonl\nsteps:\n  - embed: {dim: 32}\n  - score zipfit: {target: t.jsonl}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml && head -6 "$TARGET" > t.jsonl && "$WINNOW" run r.yaml 2> err &&
	grep -qx "winnow embed: cache: reused 300, computed 0" err &&
	grep -qx "winnow score zipfit: cache: reused 0, computed 300" err &&
	"$WINNOW" embed -q --dim 32 in.jsonl | "$WINNOW" score zipfit -q --target t.jsonl > want.jsonl && cmp want.jsonl o.jsonl
'

test_expect_success 'on-error skip through a cache: the same lines, counts and bytes; a rejected record is computed again' '
	fresh && { head -5 "$N1"; echo "{bad"; sed -n 6,10p "$N1"; echo "{\"id\":\"no text\"}"; } > bad.jsonl &&
	printf "winnow: 1\ninputs: bad.jsonl\ncache: st\nsteps:\n  - embed: {dim: 8, on-error: skip}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run --no-cache -o plain.jsonl r.yaml 2> plain.err && "$WINNOW" run r.yaml 2> err &&
	cmp plain.jsonl o.jsonl && grep -v "cache: " err | sed "\$d" > got && sed "\$d" plain.err > want && test_cmp want got &&
	grep -qx "winnow embed: in 12, out 10, rejected 2" err &&
	grep -qx "winnow embed: cache: reused 0, computed 11" err &&
	"$WINNOW" run --force r.yaml 2> err && cmp plain.jsonl o.jsonl &&
	grep -qx "winnow embed: cache: reused 10, computed 1" err
'

# ---- two nights ----

test_expect_success 'two nights: night 2 computes exactly the 30 new records and equals a from-scratch run' '
	fresh && cp "$N1" in.jsonl && mk_recipe "output: {db: out.db, table: nightly}" &&
	"$WINNOW" run r.yaml 2> night1.err &&
	grep -qx "winnow embed: cache: reused 0, computed 300" night1.err &&
	night2 > in.jsonl && test $(wc -l < in.jsonl) = 330 &&
	"$WINNOW" run r.yaml 2> night2.err &&
	grep -qx "winnow embed: in 330, out 330, rejected 0" night2.err &&
	grep -qx "winnow embed: cache: reused 300, computed 30" night2.err &&
	grep -qx "winnow score zipfit: cache: reused 300, computed 30" night2.err &&
	test "$(sqlite3 out.db "SELECT json_extract(extra, '\''$.cache.steps'\'') FROM runs ORDER BY run_id DESC LIMIT 1")" = \
		"[{\"step\":\"embed\",\"reused\":300,\"computed\":30},{\"step\":\"score zipfit\",\"reused\":300,\"computed\":30}]" &&
	mkdir scratch && cp in.jsonl scratch/ && cp r.yaml scratch/ && (cd scratch && "$WINNOW" run -q r.yaml) &&
	"$WINNOW" export -q out.db --table nightly > night2.jsonl &&
	"$WINNOW" export -q scratch/out.db --table nightly > scratch.jsonl &&
	test $(wc -l < night2.jsonl) = 40 && cmp night2.jsonl scratch.jsonl &&
	sed "/^cache:/d; s/{db: out.db, table: nightly}/{jsonl: plain.jsonl}/" r.yaml > plain.yaml &&
	"$WINNOW" run -q plain.yaml && "$WINNOW" run -q --cache state -o cached.jsonl plain.yaml &&
	cmp plain.jsonl cached.jsonl &&
	"$WINNOW" run r.yaml 2> err; rc=$?
	test $rc = 3
'

# ---- kill -9 and resume ----

# ms TOTAL_MS: a random moment in [0, TOTAL_MS) as a sleep argument
rand_moment() {
	local d=$(( (RANDOM * 32768 + RANDOM) % $1 ))
	printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

test_expect_success 'kill -9 at 20 moments: the rerun ends with the uninterrupted bytes and computes only what was not committed' '
	fresh && night2 > in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	export WINNOW_CACHE_BATCH=8 &&
	t0=$(date +%s%N) && "$WINNOW" run -q -o want.jsonl r.yaml && t1=$(date +%s%N) &&
	span=$(( (t1 - t0) / 1000000 * 12 / 10 + 2 )) && mid=0 bad=0 &&
	for i in $(seq 20); do
		rm -rf state o.jsonl
		at=$(rand_moment $span)
		"$WINNOW" run -q r.yaml 2> /dev/null & pid=$!
		sleep "$at"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		e=0 s=0
		[ -e state/cache.db ] && e=$(cached_count embed) && s=$(cached_count "score zipfit")
		case $e in ""|*[!0-9]*) echo "kill $i at ${at}s: cache unreadable"; bad=1; break ;; esac
		if { [ "$e" -gt 0 ] && [ "$e" -lt 330 ]; } || { [ "${s:-0}" -gt 0 ] && [ "${s:-0}" -lt 330 ]; }; then
			mid=$((mid + 1))
		fi
		"$WINNOW" run r.yaml 2> err; rc=$?
		if [ $rc = 0 ]; then
			grep -qx "winnow embed: cache: reused $e, computed $((330 - e))" err &&
			grep -qx "winnow score zipfit: cache: reused $s, computed $((330 - s))" err ||
				{ echo "kill $i at ${at}s ($e, $s cached):"; cat err; bad=1; break; }
		elif [ $rc != 3 ]; then
			echo "kill $i at ${at}s: the rerun exited $rc"; cat err; bad=1; break
		fi
		cmp -s want.jsonl o.jsonl || { echo "kill $i at ${at}s: output differs"; bad=1; break; }
		[ "$(sqlite3 state/cache.db "PRAGMA integrity_check")" = ok ] || { echo "kill $i: integrity"; bad=1; break; }
	done
	echo "$mid of 20 kills landed with a cache partly filled (span ${span} ms)"
	[ $bad = 0 ] && [ $mid -gt 0 ]
'

test_expect_success 'two kills in a row, then a run: still the same bytes' '
	fresh && night2 > in.jsonl && mk_recipe "output: {jsonl: o.jsonl}" &&
	export WINNOW_CACHE_BATCH=4 &&
	sed "/^cache:/d" r.yaml > plain.yaml && "$WINNOW" run -q -o want.jsonl plain.yaml &&
	for k in 1 2; do
		"$WINNOW" run -q r.yaml 2> /dev/null & pid=$!
		sleep 0.$((RANDOM % 4 + 1)); kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	done
	"$WINNOW" run -q r.yaml; rc=$?
	{ test $rc = 0 || test $rc = 3; } && cmp want.jsonl o.jsonl
'

# ---- the example recipes: 1 vs 2 threads, reruns, with and without a cache ----
# (never the recipe's own cache: or output: each run names its own in $TEST_DIR)

for recipe in "$WINNOW_ROOT"/pipelines/*.yaml; do
	rname=$(basename "$recipe")
	test_expect_success "pipelines/$rname: the same bytes at 1 and 2 threads, on a rerun, and through a cache" '
		cd "$WINNOW_ROOT" && o="$TEST_DIR/ex-$rname" &&
		"$WINNOW" run -q --no-cache --threads 1 -o "$o.t1" "$recipe" &&
		"$WINNOW" run -q --no-cache --threads 2 -o "$o.t2" "$recipe" &&
		"$WINNOW" run -q --no-cache --threads 2 -o "$o.t2b" "$recipe" &&
		WINNOW_CACHE_BATCH=100 "$WINNOW" run -q --threads 2 --cache "$o.cache" -o "$o.c1" "$recipe" &&
		"$WINNOW" run -q --threads 1 --force --cache "$o.cache" -o "$o.c2" "$recipe" &&
		test -s "$o.t1" && cmp "$o.t1" "$o.t2" && cmp "$o.t2" "$o.t2b" && cmp "$o.t1" "$o.c1" && cmp "$o.t1" "$o.c2"
	'
done

test_done
