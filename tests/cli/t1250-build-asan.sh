#!/usr/bin/env bash
# t1250 — `make check-asan` builds the sanitizer binary in build-asan/ and
# never writes the release ./winnow (it used to copy build-asan/winnow over
# it, and a later `make` then said ./winnow was up to date).
# Checked on make's dry run (-n) with every target out of date (-B): the
# commands make would run, recursive make included, are listed and none may
# name ./winnow as a word. The second case shows the check sees a copy to
# ./winnow when there is one (plain `make all` does copy it).
. "$(dirname "$0")/lib.sh"

# dry_run TARGET > FILE: make's command list from the repository root, with
# the jobserver and level of an enclosing `make test` cleared
dry_run() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$WINNOW_ROOT" --no-print-directory -n -B "$1"
}
# writes_release FILE: prints the commands naming ./winnow, fails if none
writes_release() {
	awk -v root="$WINNOW_ROOT" '{
		for (i = 1; i <= NF; i++) {
			f = $i; sub(/^(>+|-o)/, "", f)
			if (f == "winnow" || f == "./winnow" || f == root "/winnow") { print; found = 1; next }
		}
	} END { exit !found }' "$1"
}

test_expect_success 'check-asan links build-asan/winnow and never writes ./winnow' '
	dry_run check-asan > dry 2>&1 || { cat dry; exit 1; }
	grep -q -- "-o build-asan/winnow " dry || { echo "no link of build-asan/winnow:"; head dry; exit 1; }
	if writes_release dry; then echo "commands above touch ./winnow"; exit 1; fi
'
test_expect_success 'the check sees the copy to ./winnow that make all does' '
	dry_run all > dry 2>&1 || { cat dry; exit 1; }
	writes_release dry | grep -qx "cp build/winnow winnow"
'
test_done
