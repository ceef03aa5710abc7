#!/usr/bin/env bash
# bench/device_bundle.sh — prepares .gpu/ (git-ignored) for one device-machine
# call: the binaries built here, the shared libraries they need (the device
# has no Debian -dev packages), and the slice of ../shared the GPU peers read.
# Then: device run with carry [".gpu"] and command `bash bench/device_run.sh`.
set -eu
cd "$(dirname "$0")/.."
make -j2 all build/cuda_bench build/bench/core_bench >/dev/null
rm -rf .gpu && mkdir -p .gpu/bin .gpu/lib .gpu/shared/tools .gpu/shared/corpora .gpu/shared/models
cp build/winnow build/libwinnow_cuda.so build/tests/test_* \
   build/cuda_bench build/bench/core_bench .gpu/bin/
for b in .gpu/bin/*; do ldd "$b" 2>/dev/null; done | awk '$3 ~ /^\// {print $3}' | sort -u |
	grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
	grep -vE 'libcu|libnv' | while read -r l; do cp -L "$l" .gpu/lib/; done
strip .gpu/bin/* 2>/dev/null || true  # debug info would not fit the 64 MiB the device call carries
tar -C .gpu -cJf .gpu/lib.tar.xz lib && rm -rf .gpu/lib
S=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
cp "$S/tools/gpu-peers.py" .gpu/shared/tools/
cp "$S/corpora/debian.jsonl.gz" .gpu/shared/corpora/
cp -r "$S/models/bert-tiny-uncased" .gpu/shared/models/
du -sh .gpu
