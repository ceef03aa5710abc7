#!/usr/bin/env bash
# tests/cli/t7000-recipe.sh — `winnow run recipe.yaml` (pipelines/): every
# recipe error is one positioned line and exit 2 before any work; a run is
# byte-identical to the equivalent shell pipeline that --dry-run prints (run
# here in bash, compared with cmp), at 1 and 2 threads and on a rerun; a
# failed run writes nothing; the example recipes in pipelines/ run.
. "$(dirname "$0")/lib.sh"

DEB=$(fixture debian-2000.jsonl)
EMB=$(fixture cluster/debian-500-emb.jsonl)
mkdir -p bin && ln -s "$WINNOW" bin/winnow
# the --dry-run shell line, run by bash with this build as `winnow`
run_shell() { # run_shell RECIPE [run options...]
	local r=$1; shift
	"$WINNOW" run --dry-run "$@" "$r" | sed -n 's/^shell: //p' > pipeline.sh &&
	test -s pipeline.sh && PATH="$TEST_DIR/bin:$PATH" bash -o pipefail pipeline.sh 2> shell.err
}
# A recipe in r.yaml must fail with exit 2, exactly this one line, and no output.
recipe_error() { # recipe_error 'MESSAGE'
	"$WINNOW" run r.yaml > out 2> err; rc=$?
	test $rc = 2 || { echo "exit $rc"; cat err; return 1; }
	printf 'winnow run: %s\n' "$1" > want && test_cmp want err && ! test -s out && ! test -e o.jsonl
}
# each case in its own directory under $TEST_DIR
fresh() { cd "$(mktemp -d "$TEST_DIR/case.XXXXXX")"; }
mk_input() { printf '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n' > in.jsonl; }

# ---- the catalogue of recipe errors: exit 2, one positioned line ----

test_expect_success 'unknown option: position of the key, did you mean (a short-only option by its letter)' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cat\n  - cluster kmeans:\n      kk: 10\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:6:7: unknown option '\''kk'\'' for cluster kmeans; did you mean '\''k'\''?"
'

test_expect_success 'unknown option in a flow mapping, no suggestion' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - select: {top: 3, by: x, zzzzzz: 1}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:29: unknown option '\''zzzzzz'\'' for select"
'

test_expect_success 'wrong type: the option parser'\''s message at the value' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cluster kmeans: {k: ten}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:25: cluster kmeans: option '\''k'\'' expects an integer (k/M/G suffixes allowed), got '\''ten'\''"
'

test_expect_success 'a boolean that is not true or false' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - select: {top: 3, by: x, asc: maybe}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:34: select: option '\''asc'\'' expects true or false, got '\''maybe'\''"
'

test_expect_success 'a callback option'\''s own message (select --min)' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - select: {min: [a=1, nonsense]}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml > out 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow run: r.yaml:4:25: select: option '\''min'\'': " err && test $(wc -l < err) = 1
'

test_expect_success 'unknown step with did you mean' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cat\n  - clustr kmeans: {k: 3}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:5:5: unknown step '\''clustr kmeans'\''; did you mean '\''cluster kmeans'\''?"
'

test_expect_success 'unknown step without a suggestion' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps: [frobnicate]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:3:9: unknown step '\''frobnicate'\''"
'

test_expect_success 'a step check fails: the step'\''s usage error at the step name' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cat\n  - select: {top: 5}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:5:5: select: --top needs --by PATH"
'

test_expect_success 'a missing input file' '
	fresh &&
	printf "winnow: 1\ninputs: [missing.jsonl]\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:2:10: input '\''missing.jsonl'\'': No such file or directory"
'

test_expect_success 'a glob that matches nothing' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs:\n  - in.jsonl\n  - corpora/*.jsonl.zst\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:5: input pattern '\''corpora/*.jsonl.zst'\'' matches no file"
'

test_expect_success 'an input that is a directory' '
	fresh &&
	mkdir -p d && printf "winnow: 1\ninputs: d\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:2:9: input '\''d'\'': is a directory"
'

test_expect_success 'missing winnow: 1' '
	fresh &&
	mk_input && printf "inputs: in.jsonl\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:1:1: missing '\''winnow: 1'\'' (the recipe format'\''s version)"
'

test_expect_success 'a version this winnow does not read, before anything else' '
	fresh &&
	printf "winnow: 2\n" > r.yaml &&
	recipe_error "r.yaml:1:9: unsupported recipe version '\''2'\'' (this winnow reads '\''winnow: 1'\'')"
'

test_expect_success 'not a mapping' '
	fresh &&
	printf -- "- cat\n- select\n" > r.yaml &&
	recipe_error "r.yaml:1:1: a recipe is a mapping of winnow: 1, inputs:, steps: and output:"
'

test_expect_success 'a YAML syntax error at libyaml'\''s position' '
	fresh &&
	printf "winnow: 1\ninputs: in.jsonl\nsteps: [cat\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:7: YAML: did not find expected '\'','\'' or '\'']'\'' while parsing a flow sequence"
'

test_expect_success 'an unknown top-level key with did you mean' '
	fresh &&
	printf "winnow: 1\ninputz: in.jsonl\n" > r.yaml &&
	recipe_error "r.yaml:2:1: unknown key '\''inputz'\'' in the recipe; did you mean '\''inputs'\''?"
'

test_expect_success 'a duplicate option' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - select:\n      top: 1\n      top: 2\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:6:7: duplicate key '\''top'\''"
'

test_expect_success 'step options that are not a mapping' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - select: [top, 5]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:13: the options of select must be a mapping (option: value)"
'

test_expect_success 'a seed that is not an integer' '
	fresh &&
	mk_input && printf "winnow: 1\nseed: abc\ninputs: in.jsonl\nsteps: [cat]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:2:7: seed must be an integer, got '\''abc'\''"
'

test_expect_success 'output and stream belong to the recipe, not to a step' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cat: {output: x.jsonl}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:11: option '\''output'\'' is not set per step in a recipe (the recipe'\''s output: says where records go)"
'

test_expect_success 'output: neither jsonl nor db; table with jsonl; a missing directory' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps: [cat]\noutput: {table: t}\n" > r.yaml &&
	recipe_error "r.yaml:4:9: output needs one of jsonl: FILE or db: FILE" &&
	printf "winnow: 1\ninputs: in.jsonl\nsteps: [cat]\noutput: {jsonl: o.jsonl, table: t}\n" > r.yaml &&
	recipe_error "r.yaml:4:26: output: table and mode go with db, not jsonl" &&
	printf "winnow: 1\ninputs: in.jsonl\nsteps: [cat]\noutput: {jsonl: nodir/o.jsonl}\n" > r.yaml &&
	recipe_error "r.yaml:4:9: output '\''nodir/o.jsonl'\'': nodir: No such file or directory"
'

test_expect_success 'a recipe error starts no work: no side file, an old output untouched' '
	fresh &&
	cp "$EMB" in.jsonl && echo old > o.jsonl &&
	printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cluster kmeans: {k: 3, centroids-out: c.npy}\n  - select: {top: 5}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml > out 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow run: r.yaml:5:5: select: --top needs --by PATH" err &&
	! test -e c.npy && echo old > want && cmp want o.jsonl
'

test_expect_success 'usage errors of winnow run itself: exit 2' '
	fresh &&
	"$WINNOW" run 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow run: missing the recipe file" err &&
	"$WINNOW" run --threads x r.yaml 2> err; rc=$?
	test $rc = 2 && grep -q "^winnow run: option .--threads. expects an integer" err &&
	"$WINNOW" run nonexistent.yaml 2> err; rc=$?
	test $rc = 2 && grep -qx "winnow run: nonexistent.yaml: No such file or directory" err
'

# ---- runs: the same bytes as the shell pipeline ----

test_expect_success 'a recipe equals its --dry-run shell pipeline byte for byte (cat | select | select)' '
	fresh &&
	printf "winnow: 1\nseed: 5\ninputs: [%s]\nsteps:\n  - cat\n  - select: {min: installed_kb=16, max: installed_kb=20000}\n  - select: {per: section, sample: 3}\noutput: {jsonl: recipe.jsonl}\n" "$DEB" > r.yaml &&
	"$WINNOW" run r.yaml 2> err && test -s recipe.jsonl &&
	"$WINNOW" run -o shell.jsonl r.yaml 2> /dev/null && run_shell r.yaml -o shell2.jsonl &&
	test_cmp recipe.jsonl shell2.jsonl && test_cmp recipe.jsonl shell.jsonl &&
	grep -qx "winnow select: in 2000, out 1841, rejected 0" err &&
	grep -q "^winnow run: r.yaml: 3 steps, in 2000, out $(wc -l < recipe.jsonl), rejected 0, " err
'

test_expect_success 'the curation recipe keeps what python3 computes from the same rules' '
	fresh &&
	printf "winnow: 1\ninputs: [%s]\nsteps:\n  - cat\n  - select: {min: installed_kb=16, max: installed_kb=20000}\n  - select: {per: section, cap: 25}\noutput: {jsonl: o.jsonl}\n" "$DEB" > r.yaml &&
	"$WINNOW" run -q r.yaml &&
	python3 -c "
import json, sys, collections
n = collections.Counter()
for line in open(sys.argv[1], \"rb\"):
    r = json.loads(line)
    if 16 <= r[\"installed_kb\"] <= 20000 and n[r[\"section\"]] < 25:
        n[r[\"section\"]] += 1
        sys.stdout.buffer.write(line)
" "$DEB" > want && test_cmp want o.jsonl
'

test_expect_success 'clustering + balanced sampling: recipe = shell pipeline, at 1 and 2 threads, and on a rerun' '
	fresh &&
	printf "winnow: 1\nseed: 7\ninputs: [%s]\nsteps:\n  - cluster hkmeans: {levels: \"20,5\"}\n  - select: {balanced: true, cap: 60}\noutput: {jsonl: t1.jsonl}\n" "$EMB" > r.yaml &&
	"$WINNOW" run -q --threads 1 r.yaml && "$WINNOW" run -q --threads 2 -o t2.jsonl r.yaml &&
	"$WINNOW" run -q --threads 2 -o t3.jsonl r.yaml && run_shell r.yaml --threads 1 -o s1.jsonl &&
	test $(wc -l < t1.jsonl) = 60 && grep -q "\"hcluster\"" t1.jsonl &&
	test_cmp t1.jsonl t2.jsonl && test_cmp t2.jsonl t3.jsonl && test_cmp t1.jsonl s1.jsonl &&
	grep -q -- "--threads 1" pipeline.sh
'

test_expect_success 'k-means then top by distance: recipe = shell, the recipe seed reaches the step' '
	fresh &&
	printf "winnow: 1\nseed: 11\ninputs: [%s]\nsteps:\n  - cluster kmeans: {k: 8, max-train: 200}\n  - select: {top: 40, by: winnow.dist, asc: true}\noutput: {jsonl: r.jsonl}\n" "$EMB" > r.yaml &&
	"$WINNOW" run -q r.yaml && run_shell r.yaml -o s.jsonl && test_cmp r.jsonl s.jsonl &&
	grep -q "winnow cluster kmeans -k 8 --max-train 200 --seed 11 " pipeline.sh &&
	"$WINNOW" cluster kmeans -q -k 8 --max-train 200 --seed 11 "$EMB" | "$WINNOW" select -q --top 40 --by winnow.dist --asc > by-hand.jsonl &&
	test_cmp by-hand.jsonl r.jsonl &&
	sed "s/^seed: 11/seed: 12/" r.yaml > r12.yaml && "$WINNOW" run -q -o r12.jsonl r12.yaml && ! cmp -s r.jsonl r12.jsonl
'

test_expect_success 'inputs: globs expanded in byte order, patterns in the order written' '
	fresh &&
	printf "{\"text\":\"b\"}\n" > b.jsonl && printf "{\"text\":\"a\"}\n" > a.jsonl && printf "{\"text\":\"B\"}\n" > B.jsonl &&
	printf "{\"text\":\"z\"}\n" > z.json &&
	printf "winnow: 1\ninputs: [z.json, \"*.jsonl\"]\nsteps: [cat]\noutput: {jsonl: out.txt}\n" > r.yaml &&
	"$WINNOW" run -q r.yaml && cat z.json B.jsonl a.jsonl b.jsonl > want && test_cmp want out.txt &&
	"$WINNOW" run --dry-run r.yaml | grep -qx "shell: winnow cat -o out.txt z.json B.jsonl a.jsonl b.jsonl"
'

# ---- a failed run writes nothing ----

test_expect_success 'a bad line under fail: exit 1, the old output untouched, no temporary left' '
	fresh &&
	printf "{\"text\":\"a\"}\n{oops\n" > bad.jsonl && echo old > o.jsonl &&
	printf "winnow: 1\ninputs: bad.jsonl\nsteps: [cat, select: {sample: 1}]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml 2> err; rc=$?
	test $rc = 1 && grep -q "bad.jsonl:2: invalid JSON" err &&
	grep -qx "winnow run: r.yaml: step 1 (cat) failed; nothing written" err &&
	echo old > want && test_cmp want o.jsonl && test $(ls | grep -c "o.jsonl.tmp") = 0
'

test_expect_success 'the last step fails: exit 1, no output file at all' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps: [cat, cluster kmeans: {k: 2}]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml 2> err; rc=$?
	test $rc = 1 && grep -qx "winnow run: r.yaml: step 2 (cluster kmeans) failed; nothing written" err &&
	! test -e o.jsonl && test $(ls | grep -c "o.jsonl.tmp") = 0
'

test_expect_success 'on-error skip in a recipe: counted as in the shell' '
	fresh &&
	printf "{\"text\":\"a\"}\n{oops\n{\"text\":\"b\"}\n" > bad.jsonl &&
	printf "winnow: 1\ninputs: bad.jsonl\nsteps: [cat: {on-error: skip}]\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run r.yaml 2> err && grep -qx "winnow cat: in 3, out 2, rejected 1" err &&
	grep -q "^winnow run: r.yaml: 1 steps, in 3, out 2, rejected 1, " err
'

# ---- --dry-run and --explain ----

test_expect_success '--dry-run prints the plan (with the recipe'\''s sha256, as sha256sum says) and the shell line, runs nothing' '
	fresh &&
	mk_input && printf "winnow: 1\nseed: 3\ninputs: in.jsonl\nsteps:\n  - cat\n  - select:\n      top: 5\n      by: \"x y\"\n      asc: false\n      seed: 5\n  - cluster kmeans: {k: 2, spherical: true}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run --dry-run --threads 2 r.yaml > got 2> err &&
	cat > want <<-EOF &&
	recipe r.yaml: winnow 1, seed 3
	sha256 $(sha256sum < r.yaml | cut -c1-64)
	inputs (1):
	  in.jsonl
	steps (3):
	  1. cat
	  2. select --top 5 --by '"'"'x y'"'"' --no-asc --seed 5
	  3. cluster kmeans -k 2 --spherical --seed 3 --threads 2
	output: o.jsonl (written atomically when every step succeeded)
	shell: winnow cat in.jsonl | winnow select --top 5 --by '"'"'x y'"'"' --no-asc --seed 5 | winnow cluster kmeans -k 2 --spherical --seed 3 --threads 2 -o o.jsonl
	EOF
	test_cmp want got && ! test -s err && ! test -e o.jsonl
'

test_expect_success '--explain: one line per step, what it reads and writes' '
	fresh &&
	mk_input && printf "winnow: 1\ninputs: in.jsonl\nsteps:\n  - cat\n  - cluster kmeans: {k: 2, centroids-out: c.npy}\noutput: {jsonl: o.jsonl}\n" > r.yaml &&
	"$WINNOW" run --explain r.yaml > got &&
	cat > want <<-\EOF &&
	1. cat: reads 1 input file (in.jsonl); writes records to step 2 through a spool (memory, then an unlinked file)
	2. cluster kmeans: reads the records of step 1, the whole stream before it writes; writes records to o.jsonl, renamed into place when every step succeeded; files named: --centroids-out c.npy
	EOF
	test_cmp want got && ! test -e o.jsonl && ! test -e c.npy
'

# ---- the example recipes users copy ----

# a probe: every step $recipe names is in this build's table of steps
have_recipe_steps() { ! "$WINNOW" run --dry-run -o /dev/null "$recipe" 2>&1 >/dev/null | grep -q "unknown step"; }

for recipe in "$WINNOW_ROOT"/pipelines/*.yaml; do
	rname=$(basename "$recipe")
	test_expect_success "pipelines/$rname runs and equals its shell pipeline" '
		cd "$WINNOW_ROOT" &&
		have_recipe_steps || skip_case "a step it names is not a step in this build yet" &&
		"$WINNOW" run -q --cache "$TEST_DIR/$rname.cache" -o "$TEST_DIR/$rname.jsonl" "$recipe" && test -s "$TEST_DIR/$rname.jsonl" &&
		"$WINNOW" run --dry-run -o "$TEST_DIR/$rname.shell.jsonl" "$recipe" | sed -n "s/^shell: //p" > "$TEST_DIR/p.sh" &&
		PATH="$TEST_DIR/bin:$PATH" bash -o pipefail "$TEST_DIR/p.sh" 2> /dev/null &&
		test_cmp "$TEST_DIR/$rname.jsonl" "$TEST_DIR/$rname.shell.jsonl"
	'
done

test_done
