#!/usr/bin/env bash
# bench/device_bundle.sh — prepares .gpu/ (git-ignored) for one device-machine
# call: the binaries built here, the shared libraries they need (the device
# has no Debian -dev packages), and the slice of ../shared the GPU peers read.
# Then: device run with carry [".gpu"] and command `bash bench/device_run.sh`.
# Usage: bench/device_bundle.sh [all|bench|embed]   all (default, about 64 MiB
# of the 64 a call carries): everything; bench: only winnow, its CUDA library, the
# tools and the PyPI and Debian corpora, for the sens-*, selectors, train and
# kmeans steps (about 27 MiB); embed: winnow, its CUDA library, test_bert and
# test_cuda_twins, the GPU peers, the Debian corpus and bert-tiny, for the
# embed* and bert steps (no PyPI).
set -eu
WHAT=${1:-all}
cd "$(dirname "$0")/.."
make -j2 all build/cuda_bench build/bench/core_bench >/dev/null
rm -rf .gpu && mkdir -p .gpu/bin .gpu/lib .gpu/shared/tools .gpu/shared/corpora .gpu/shared/models
cp build/winnow build/libwinnow_cuda.so .gpu/bin/
case $WHAT in
bench) ;;
embed) cp build/tests/test_bert build/tests/test_cuda_twins .gpu/bin/ ;;
*) cp build/tests/test_* build/cuda_bench build/bench/core_bench .gpu/bin/ ;;
esac
# the tools bench/sensitivity_bench.sh and selectors_bench.sh call (the device may lack them)
for t in jq bc zstd; do cp -L "$(command -v $t)" .gpu/bin/; done
for b in .gpu/bin/*; do ldd "$b" 2>/dev/null; done | awk '$3 ~ /^\// {print $3}' | sort -u |
	grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
	grep -vE 'libcu|libnv' | while read -r l; do cp -L "$l" .gpu/lib/; done
strip .gpu/bin/* 2>/dev/null || true  # debug info would not fit the 64 MiB the device call carries
tar -C .gpu -cJf .gpu/lib.tar.xz lib && rm -rf .gpu/lib
S=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
[ "$WHAT" = embed ] || cp "$S/corpora/pypi.jsonl.zst" .gpu/shared/corpora/
cp "$S/corpora/debian.jsonl.gz" .gpu/shared/corpora/
if [ "$WHAT" != bench ]; then
	cp "$S/tools/gpu-peers.py" .gpu/shared/tools/
	cp -r "$S/models/bert-tiny-uncased" .gpu/shared/models/
fi
du -sh .gpu
