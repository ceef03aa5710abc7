#!/usr/bin/env bash
# tests/fuzz/build.sh — `make fuzz`: builds every tests/fuzz/fuzz_*.c as a
# libFuzzer binary in build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined)
# against the library sources, and runs each for FUZZ_SECONDS (default 20)
# over its seed corpus. Exits 1 when a harness crashes, leaks, times out or
# fails to build (the crashing input is kept as build-fuzz/crash-* etc.).
#
# The library folders and link libraries come from the Makefile (LIB_DIRS,
# LDLIBS, passed as WINNOW_LIB_DIRS / WINNOW_LDLIBS), so a new library
# folder is fuzzed without an edit here; run directly, this script goes
# through `make fuzz` to get them.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${WINNOW_LIB_DIRS:-}" ]; then
	exec make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
fi
out=build-fuzz; mkdir -p $out
CC=${FUZZ_CC:-clang}; CXX=${FUZZ_CXX:-clang++}
if ! command -v "$CC" >/dev/null || ! command -v "$CXX" >/dev/null; then
	echo "make fuzz: $CC not found (Debian: apt-get install clang libclang-rt-dev libomp-dev)" >&2
	exit 1
fi
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -I. -D_GNU_SOURCE -fopenmp -Wno-pass-failed"
# an object is stale when its source, any library header or this script is newer
newest=$(ls -t tests/fuzz/build.sh $(for d in $WINNOW_LIB_DIRS; do echo "$d"/*.h; done) 2>/dev/null | head -1)
objs=()
for d in $WINNOW_LIB_DIRS; do
	for f in "$d"/*.c "$d"/*.cc; do
		[ -f "$f" ] || continue
		o=$out/$(echo "$f" | tr / _).o
		if [ ! "$o" -nt "$f" ] || [ ! "$o" -nt "$newest" ]; then
			case $f in
			*.c) $CC $flags -std=c11 -c "$f" -o "$o" ;;
			*) $CXX $flags -std=c++17 -c "$f" -o "$o" ;;
			esac
		fi
		objs+=("$o")
	done
done
failed=0
for h in tests/fuzz/fuzz_*.c; do
	n=$(basename "$h" .c)
	$CC $flags -std=c11 -c "$h" -o $out/$n.o
	$CXX $flags -fsanitize=fuzzer $out/$n.o "${objs[@]}" -o $out/$n $WINNOW_LDLIBS -fopenmp
	seeds=$out/seeds-$n; mkdir -p "$seeds"
	case $n in
	fuzz_jsonl) cp fixtures/JSONTestSuite/test_parsing/*.json "$seeds"/ ; head -50 fixtures/debian-2000.jsonl | split -l 1 - "$seeds"/deb- ;;
	fuzz_csv) cp fixtures/bad/*.csv "$seeds"/ ;;
	fuzz_reader) # a first byte (block size, limit), then lines: each JSONTestSuite case
		# between Debian records, and the bad-input fixtures
		for f in fixtures/JSONTestSuite/test_parsing/*.json fixtures/bad/*.jsonl; do
			{ printf '\003{"id":1,"text":"one"}\n{"id":2,"text":"two, longer than one"}\n'
			  cat "$f"; printf '\n{"id":3}\n'; } > "$seeds"/$(basename "$f")
		done
		{ printf '\040'; head -20 fixtures/debian-2000.jsonl; } > "$seeds"/debian-20 ;;
	fuzz_safetensors) cp fixtures/models/bert-tiny-uncased/model.safetensors "$seeds"/ ;;
	fuzz_tokenizer_json) cp fixtures/models/bert-tiny-uncased/tokenizer.json "$seeds"/ ;;
	fuzz_recipe) cp pipelines/*.yaml "$seeds"/ ;;
	esac
	if [ -d fixtures/fuzz/$n ]; then cp fixtures/fuzz/$n/* "$seeds"/; fi
	echo "== $n"
	log=$out/$n.log
	# -timeout: an input that runs 10 s is a hang (an endless loop is a bug too)
	if "$out/$n" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix="$out/" "$seeds" > "$log" 2>&1; then
		tail -1 "$log"
	else
		echo "FAIL $n (exit $?; log $log):"
		grep -v '^#[0-9]' "$log" | tail -40
		failed=1
	fi
done
exit $failed
