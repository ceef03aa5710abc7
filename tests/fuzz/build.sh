#!/usr/bin/env bash
# tests/fuzz/build.sh — `make fuzz`: builds every tests/fuzz/fuzz_*.c as a
# libFuzzer binary in build-fuzz/ (clang, -fsanitize=fuzzer,address,undefined)
# against the library sources, and runs each for FUZZ_SECONDS (default 20)
# over its seed corpus.
set -eu
cd "$(dirname "$0")/../.."
out=build-fuzz; mkdir -p $out
CC=${FUZZ_CC:-clang}; CXX=${FUZZ_CXX:-clang++}
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -I. -D_GNU_SOURCE -fopenmp"
objs=()
for f in io/*.c core/*.c embed/*.c cluster/*.c selectors/*.c store/*.c; do
	[ -f "$f" ] || continue
	o=$out/$(echo "$f" | tr / _).o
	[ "$o" -nt "$f" ] || $CC $flags -std=c11 -c "$f" -o "$o"
	objs+=("$o")
done
for f in io/*.cc cluster/*.cc; do
	[ -f "$f" ] || continue
	o=$out/$(echo "$f" | tr / _).o
	[ "$o" -nt "$f" ] || $CXX $flags -std=c++17 -c "$f" -o "$o"
	objs+=("$o")
done
libs="-lsimdjson -lfaiss -llapack -lopenblas -lsqlite3 -lz -lzstd -llz4 -lcsv -lnettle -lcjson -lxxhash -lutf8proc -lyaml -lm -ldl -lpthread"
for h in tests/fuzz/fuzz_*.c; do
	n=$(basename "$h" .c)
	$CC $flags -std=c11 -c "$h" -o $out/$n.o
	$CXX $flags -fsanitize=fuzzer $out/$n.o "${objs[@]}" -o $out/$n $libs -fopenmp
	seeds=$out/seeds-$n; mkdir -p "$seeds"
	case $n in
	fuzz_jsonl) cp fixtures/JSONTestSuite/test_parsing/*.json "$seeds"/ ; head -50 fixtures/debian-2000.jsonl | split -l 1 - "$seeds"/deb- ;;
	fuzz_csv) cp fixtures/bad/*.csv "$seeds"/ ;;
	fuzz_safetensors) cp fixtures/models/bert-tiny-uncased/model.safetensors "$seeds"/ ;;
	fuzz_tokenizer_json) cp fixtures/models/bert-tiny-uncased/tokenizer.json "$seeds"/ ;;
	fuzz_recipe) cp pipelines/*.yaml "$seeds"/ ;;
	esac
	if [ -d fixtures/fuzz/$n ]; then cp fixtures/fuzz/$n/* "$seeds"/; fi
	echo "== $n"
	$out/$n -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=4096 "$seeds" 2>&1 | tail -3
done
