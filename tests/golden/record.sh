#!/usr/bin/env bash
# tests/golden/record.sh — (re)record fixtures/golden/ from the current build.
#
# Owns: writing the expected outputs that tests/cli/t0500-golden.sh compares
# against. Borrows: the cases and the machinery in tests/golden/golden.sh.
# Why a separate, guarded script: the goldens are the safety net of a refactor;
# re-recording them is a deliberate act, so the script refuses to run without
# --force, runs every case twice and refuses outputs that differ between the
# runs, refuses a case that wrote nothing or (outside -q and --help) no count
# line, and refuses to leave more than 2 MB under fixtures/golden/.
# Usage: tests/golden/record.sh --force [NAME...]   (default: every case)
#        WINNOW=path/to/winnow to record another binary (default build/winnow)
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ "${1:-}" != --force ]; then
	echo "usage: tests/golden/record.sh --force [NAME...]" >&2
	echo "record.sh: refusing to overwrite fixtures/golden/ without --force (the outputs are the refactor's reference)" >&2
	exit 2
fi
shift
export WINNOW_ROOT=$PWD
export WINNOW=${WINNOW:-$PWD/build/winnow}
[ -x "$WINNOW" ] || { echo "record.sh: $WINNOW: not built (make -j2 all)" >&2; exit 1; }
. tests/golden/golden.sh || exit 1
golden_pin_env
names=("$@"); [ ${#names[@]} -eq 0 ] && names=("${golden_names[@]}")
for n in "${names[@]}"; do
	[ -n "${golden_cmd[$n]+x}" ] || { echo "record.sh: no case '$n'" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/winnow-golden.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
golden_inputs "$tmp/in" || { echo "record.sh: could not make the inputs" >&2; exit 1; }
bad=0
for n in "${names[@]}"; do
	if ! golden_run "$n" "$tmp/in" "$tmp/a/$n" || ! golden_run "$n" "$tmp/in" "$tmp/b/$n"; then
		bad=1; continue
	fi
	if ! diff -r "$tmp/a/$n" "$tmp/b/$n" > /dev/null; then
		echo "record.sh: $n: two runs gave different outputs:" >&2; diff -rq "$tmp/a/$n" "$tmp/b/$n" >&2; bad=1; continue
	fi
	if [ "${golden_code[$n]}" = 0 ]; then
		if [ ! -s "$tmp/a/$n/$n.count" ] && ! printf '%s\n' "${golden_cmd[$n]}" | grep -qE -- '(^| )(-q|--quiet|--help)([ ;]|$)'; then
			echo "record.sh: $n: no count line on stderr" >&2; bad=1; continue
		fi
		nonempty=0
		for f in "$tmp/a/$n"/*; do [ "$f" != "$tmp/a/$n/$n.count" ] && [ -s "$f" ] && nonempty=1; done
		[ $nonempty = 1 ] || { echo "record.sh: $n: wrote nothing" >&2; bad=1; continue; }
	elif [ ! -s "$tmp/a/$n/$n.stderr" ]; then
		echo "record.sh: $n: failed without a message" >&2; bad=1; continue
	fi
done
[ $bad = 0 ] || { echo "record.sh: nothing recorded" >&2; exit 1; }

mkdir -p "$GOLDEN_DIR"
if [ $# -eq 0 ]; then # a full recording drops what no case produces any more
	find "$GOLDEN_DIR" -maxdepth 1 -type f ! -name README -delete
fi
for n in "${names[@]}"; do
	rm -f "$GOLDEN_DIR/$n".*
	for f in "$tmp/a/$n"/*; do golden_store "$f" "$GOLDEN_DIR" || exit 1; done
done
kb=$(du -sk --apparent-size "$GOLDEN_DIR" | cut -f1)
echo "record.sh: recorded ${#names[@]} cases; fixtures/golden holds $(find "$GOLDEN_DIR" -type f | wc -l) files, ${kb} KB"
[ "$kb" -le 2048 ] || { echo "record.sh: fixtures/golden is over 2 MB; make the large outputs hashed or the inputs smaller" >&2; exit 1; }
