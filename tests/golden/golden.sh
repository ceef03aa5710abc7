# tests/golden/golden.sh — the golden-output machinery, sourced by
# tests/golden/record.sh (writes fixtures/golden/) and tests/cli/t0500-golden.sh
# (compares against it).
#
# Owns: the case registry (`golden`, `golden_fails`, called by cases.sh), the
# pinned environment, the inputs every case sees (made from fixtures/ with
# coreutils, gzip, zstd, jq and awk, never with winnow), running one case into
# a folder of artifacts, and storing/checking one artifact (whole file, or
# sha256 plus line count when it is over GOLDEN_WHOLE_MAX bytes).
# Borrows: the case list (tests/golden/cases.sh), fixtures/, sqlite3 for the
# table dumps (`dbdump`), and $WINNOW (the binary under test).
# Why: the refactor that moves each command's machinery out of cmd/ must not
# change one byte of what any documented example prints or writes; these
# outputs were recorded from the code before it.
#
# Artifacts of case NAME (the names under fixtures/golden/):
#   NAME.stdout        standard output
#   NAME.count         the closing count lines on stderr
#                      (`winnow X: in N, out N, rejected N`), sorted, so a
#                      pipeline's stages give one stable file
#   NAME.stderr        all of stderr (only for golden_fails cases: the messages)
#   NAME.FILE          each file FILE the case declares it writes
# Each is stored whole, or as NAME.X.sha256 (sha256sum format) + NAME.X.lines.

GOLDEN_ROOT=${WINNOW_ROOT:?WINNOW_ROOT must be set}
GOLDEN_DIR=$GOLDEN_ROOT/fixtures/golden
GOLDEN_WHOLE_MAX=$((64 * 1024))
GOLDEN_COUNT_RE='^winnow [a-z ]+: in [0-9]+, out [0-9]+, rejected [0-9]+$'
golden_names=()
declare -A golden_cmd=() golden_code=() golden_files=() golden_float_case=()

# --- the registry (cases.sh calls these) ---------------------------------------

_golden_add() { # _golden_add NAME CODE CMD FILE...
	local name=$1 code=$2 cmd=$3; shift 3
	if ! [[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || [ -n "${golden_cmd[$name]+x}" ]; then
		echo "golden: bad or duplicate case name '$name'" >&2; return 2
	fi
	golden_names+=("$name"); golden_cmd[$name]=$cmd; golden_code[$name]=$code
	golden_files[$name]="$*"
}
# golden NAME 'COMMAND' [FILE...]: COMMAND exits 0; stdout, count lines and FILEs are golden.
golden() { _golden_add "$1" 0 "$2" "${@:3}"; }
# golden_float NAME 'COMMAND' [FILE...]: as golden, for outputs whose last
# bits depend on how the compiler ordered float arithmetic (BERT vectors, the
# core's k-means): exact in the release build; under the sanitizer build
# (WINNOW_ASAN=1, -O1) the case still runs in full, but only exit code, count
# lines and line counts are compared.
golden_float() { golden_float_case[$1]=1; _golden_add "$1" 0 "$2" "${@:3}"; }
# golden_fails NAME CODE 'COMMAND': COMMAND exits CODE; stdout and all of stderr are golden.
golden_fails() { _golden_add "$1" "$2" "$3"; }

# --- what a case runs with ------------------------------------------------------

# One locale, one time zone, the CPU, two threads, passive waits; and one
# OpenBLAS kernel on every x86 with AVX2: measured here, the machine's own
# (SkylakeX) sgemm and the Haswell one differ in the last bits of the BERT
# vectors and of k-means inertia, so without the pin these goldens would hold
# for one CPU family only.
golden_pin_env() {
	export LC_ALL=C TZ=UTC WINNOW_DEVICE=cpu OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive
	if grep -qw avx2 /proc/cpuinfo 2> /dev/null; then export OPENBLAS_CORETYPE=Haswell; fi
}
winnow() { "$WINNOW" "$@"; }
# dbdump DB TABLE: TABLE's schema and rows, and the reproducible columns of the
# runs table (not the timestamps or the version), through sqlite3 (an outside reader)
dbdump() {
	sqlite3 -batch "$1" ".schema \"$2\"" ".schema runs" ".mode quote" \
		"SELECT * FROM \"$2\" ORDER BY rowid" \
		"SELECT run_id, command, inputs, n_in, n_out, n_rejected, seed, table_name, mode, rowid_first, rowid_last, extra FROM runs ORDER BY run_id"
}

# unclock FILE: FILE with the values of its "*_seconds" members replaced by "(clock)"
# (kmeans --stats times itself; every other byte is kept)
unclock() { sed -E 's/("[a-z_]*seconds"):[-+0-9.eE]+/\1:"(clock)"/g' "$1"; }

# golden_inputs DIR: every input a case may name, made from fixtures/ without winnow.
golden_inputs() (
	set -euo pipefail
	local fx=$GOLDEN_ROOT/fixtures
	mkdir -p "$1"; cd "$1"
	cp "$fx/debian-2000.jsonl" debian.jsonl
	gzip -n -c debian.jsonl > debian.jsonl.gz
	head -300 debian.jsonl > corpus.jsonl
	cp corpus.jsonl docs.jsonl
	gzip -n -c corpus.jsonl > corpus.jsonl.gz
	zstd -q -c corpus.jsonl > corpus.jsonl.zst
	sed -n 301,600p debian.jsonl | zstd -q -c > part2.jsonl.zst
	head -50 debian.jsonl > nightly.jsonl
	zstd -q -c nightly.jsonl > nightly.jsonl.zst
	head -500 debian.jsonl > docs500.jsonl
	: > empty.jsonl
	# CSV with a header, quoted multi-line texts, and one ragged row after the 10th record
	{ echo "id,text,section"
	  head -10 debian.jsonl | jq -r '[.id, .text, .section] | @csv'
	  echo '"ragged","one","two","three"'
	  sed -n 11,40p debian.jsonl | jq -r '[.id, .text, .section] | @csv'
	} > table.csv
	# good records around bad ones: malformed, not an object, no text, invalid UTF-8, no section
	{ head -5 debian.jsonl
	  echo '{"id": "broken", "text": "unterminated}'
	  echo '[1, 2, 3]'
	  echo '{"id": "no-text", "section": "misc"}'
	  printf '{"id": "latin1", "text": "caf\351"}\n'
	  echo '{"id": "no-section", "text": "a record without a section"}'
	  sed -n 6,10p debian.jsonl
	} > mixed.jsonl
	for f in "$fx"/bad/*.jsonl "$fx"/bad/*.gz "$fx"/bad/*.zst; do cp "$f" "bad-$(basename "$f")"; done
	# 500 records with 24-dim vectors in winnow.emb (fixtures/cluster), the same rows as .npy
	cp "$fx/cluster/debian-500-emb.jsonl" emb.jsonl
	zstd -q -c emb.jsonl > emb.jsonl.zst
	cp "$fx/cluster/debian-500.npy" vectors.npy
	sed 's/, "winnow": {"emb":\(.*\)}}$/, "vec": \1}/' emb.jsonl > emb-vec.jsonl
	{ head -3 emb.jsonl; sed -n 4p debian.jsonl; sed -n 5,500p emb.jsonl; } > emb-bad.jsonl
	# your own embeddings: 8 numbers per record at openai.embedding, from a formula
	head -100 debian.jsonl | awk '{ sub(/}$/, ""); printf "%s, \"openai\": {\"embedding\": [", $0
		for (j = 0; j < 8; j++) printf "%s%.6f", (j ? ", " : ""), sin(NR * 7 + j * 3) ; print "]}}" }' > docs-oai.jsonl
	{ head -4 docs-oai.jsonl; sed -n 5p debian.jsonl | sed 's/}$/, "openai": {"embedding": [1, 2]}}/'; sed -n 6,100p docs-oai.jsonl; } > oai-bad.jsonl
	# ZIP-FIT: targets, the pool, the pool with the reference scores in winnow.zipfit
	cp "$fx/zipfit/target.jsonl" evals.jsonl
	jq -c '{id, body: .text}' evals.jsonl > evals-body.jsonl
	cp "$fx/zipfit/source.jsonl" pool.jsonl
	zstd -q -c pool.jsonl > pool.jsonl.zst
	jq -r .zipfit "$fx/zipfit/expected-level9.jsonl" | paste -d '\t' pool.jsonl - |
		awk -F '\t' '{ sub(/}$/, "", $1); print $1 ", \"winnow\": {\"zipfit\": " $2 "}}" }' > scored-zipfit.jsonl
	# DSIR: the domain, the raw pool, a sample of it, the pool with the reference weights
	cp "$fx/dsir/target.jsonl" domain.jsonl
	jq -c '{id, body: .text}' domain.jsonl > domain-body.jsonl
	zcat "$fx/dsir/raw.jsonl.gz" > raw.jsonl
	zstd -q -c raw.jsonl > raw.jsonl.zst
	awk 'NR % 5 == 1' raw.jsonl > sample.jsonl
	jq -c '{id, body: .text}' sample.jsonl > sample-body.jsonl
	paste -d '\t' raw.jsonl "$fx/dsir/expected-weights.txt" |
		awk -F '\t' '{ sub(/}$/, "", $1); print $1 ", \"winnow\": {\"dsir\": " $2 "}}" }' | zstd -q -c > scored-dsir.jsonl.zst
	# a score with ties for select/store, and a two-level hierarchy for --balanced
	head -300 debian.jsonl | awk '{ sub(/}$/, ""); print $0 ", \"winnow\": {\"score\": " (NR * 37) % 101 "}}" }' > in.jsonl
	awk '{ sub(/}$/, ""); a = (NR * 7) % 20; print $0 ", \"winnow\": {\"hcluster\": [" a ", " a % 4 "]}}" }' debian.jsonl > clustered.jsonl
	# the nightly crawl parts are checked in: their compressed bytes reach the runs table
	cp "$GOLDEN_DIR"/inputs/crawl-*.jsonl.zst .
	mkdir models; cp -r "$fx/models/bert-tiny-uncased" models/bert-tiny
)

# --- running and checking one case ----------------------------------------------

# golden_run NAME INPUTS ARTDIR: run case NAME in a fresh folder ARTDIR.work that
# links every input, then leave its artifacts (and nothing else) in ARTDIR.
# Fails, saying why, when the exit code is not the case's or a declared file is missing.
golden_run() {
	local name=$1 in=$2 art=$3 work=$3.work rc f
	rm -rf "$art" "$work"; mkdir -p "$art" "$work" || return 1
	for f in "$in"/*; do ln -s "$f" "$work/" || return 1; done
	( cd "$work" && set -o pipefail && eval "${golden_cmd[$name]}" ) > "$art/$name.stdout" 2> "$work/.stderr"
	rc=$?
	if [ "$rc" != "${golden_code[$name]}" ]; then
		echo "golden $name: exit $rc, expected ${golden_code[$name]}: ${golden_cmd[$name]}"
		tail -5 "$work/.stderr"; return 1
	fi
	if [ "${golden_code[$name]}" = 0 ]; then
		grep -E "$GOLDEN_COUNT_RE" "$work/.stderr" | LC_ALL=C sort > "$art/$name.count"
	else
		cp "$work/.stderr" "$art/$name.stderr"
	fi
	for f in ${golden_files[$name]}; do
		[ -f "$work/$f" ] || { echo "golden $name: the case wrote no $f"; return 1; }
		cp "$work/$f" "$art/$name.$f" || return 1
	done
}

# golden_store FILE DIR: keep FILE in DIR whole, or as FILE.sha256 + FILE.lines when large.
golden_store() {
	local base; base=$(basename "$1")
	if [ "$(stat -c %s "$1")" -le "$GOLDEN_WHOLE_MAX" ]; then
		cp "$1" "$2/$base"
	else
		(cd "$(dirname "$1")" && sha256sum "$base") > "$2/$base.sha256" &&
		wc -l < "$1" | tr -d ' ' > "$2/$base.lines"
	fi
}

# golden_cmp FILE: compare one artifact with its expected twin in GOLDEN_DIR.
golden_cmp() {
	local base want got; base=$(basename "$1")
	if [ -n "${GOLDEN_LOOSE:-}" ] && [[ $base == *.npy ]]; then
		want=$(stat -c %s "$GOLDEN_DIR/$base" 2> /dev/null); got=$(stat -c %s "$1")
		[ "$want" = "$got" ] && return 0
		echo "$base: $got bytes, expected $want (sanitizer build: float bytes not compared)"; return 1
	fi
	if [ -n "${GOLDEN_LOOSE:-}" ] && [[ $base != *.count ]]; then
		[ -f "$GOLDEN_DIR/$base.lines" ] && want=$(cat "$GOLDEN_DIR/$base.lines") || want=$(wc -l < "$GOLDEN_DIR/$base" | tr -d ' ')
		got=$(wc -l < "$1" | tr -d ' ')
		[ "$want" = "$got" ] && return 0
		echo "$base: $got lines, expected $want (sanitizer build: float bytes not compared)"; return 1
	fi
	if [ -f "$GOLDEN_DIR/$base" ]; then
		cmp "$GOLDEN_DIR/$base" "$1" && return 0
		diff "$GOLDEN_DIR/$base" "$1" | head -20 | cut -c1-300; return 1
	elif [ -f "$GOLDEN_DIR/$base.sha256" ] && [ -f "$GOLDEN_DIR/$base.lines" ]; then
		want=$(cut -d ' ' -f1 "$GOLDEN_DIR/$base.sha256"); got=$(sha256sum < "$1" | cut -d ' ' -f1)
		[ "$want" = "$got" ] && [ "$(wc -l < "$1" | tr -d ' ')" = "$(cat "$GOLDEN_DIR/$base.lines")" ] && return 0
		echo "$base: sha256 $got, expected $want; lines $(wc -l < "$1" | tr -d ' '), expected $(cat "$GOLDEN_DIR/$base.lines")"
		return 1
	fi
	echo "$base: no expected output in fixtures/golden (record it with tests/golden/record.sh --force)"; return 1
}

# golden_expected NAME: the artifact names fixtures/golden holds for case NAME.
golden_expected() {
	local f
	for f in "$GOLDEN_DIR/$1".*; do
		[ -f "$f" ] || continue
		f=$(basename "$f"); f=${f%.sha256}; f=${f%.lines}; echo "$f"
	done | LC_ALL=C sort -u
}

# golden_check NAME INPUTS ARTDIR: run case NAME and compare every artifact both ways.
golden_check() {
	local name=$1 f bad=0 GOLDEN_LOOSE=
	[ "${WINNOW_ASAN:-}" = 1 ] && [ -n "${golden_float_case[$name]:-}" ] && GOLDEN_LOOSE=1
	golden_run "$@" || return 1
	for f in "$3"/*; do golden_cmp "$f" || bad=1; done
	diff <(golden_expected "$name") <(cd "$3" && ls | LC_ALL=C sort) > /dev/null ||
		{ echo "golden $name: artifacts differ from fixtures/golden:"; diff <(golden_expected "$name") <(cd "$3" && ls | LC_ALL=C sort); bad=1; }
	return $bad
}

. "$GOLDEN_ROOT/tests/golden/cases.sh"
