#!/usr/bin/env bash
# bench/gpu_embed.sh — BERT embedding throughput on the device machine:
# winnow on cuda and on cpu against sentence-transformers (fp32, cuda) with
# the same MiniLM-L6-shaped model directory and the same Debian texts.
#
# Run from the repository root on the GPU machine (it has torch and
# sentence-transformers), beside ../shared:
#   bash bench/gpu_embed.sh            # N=20000 texts on cuda, 2000 on cpu
#   N=50000 N_CPU=1000 BATCH=256 bash bench/gpu_embed.sh
# Steps: build winnow (with the CUDA backend when nvcc is found), make the
# model with gpu-peers.py make-model, write the first N texts of
# corpora/debian.jsonl.gz (repeated when N is larger, as the peer does),
# time `winnow embed` on cuda (N texts) and cpu (N_CPU texts), run the peer
# (gpu-peers.py encode), and compare winnow's first 1000 vectors with the
# peer's (max |difference| of the L2-normalised vectors). Prints texts/s for
# each. Figures include model loading and tokenization for winnow; the peer
# times encode() only, after a warm-up, so winnow's model-load time is also
# printed separately (a 256-text run).
set -u
cd "$(dirname "$0")/.." || exit 2
. bench/lib.sh
SHARED=${WINNOW_SHARED:-$(cd .. && pwd)/shared}
PEERS=$SHARED/tools/gpu-peers.py
N=${N:-20000}
N_CPU=${N_CPU:-2000}
BATCH=${BATCH:-256}
work=${TMPDIR:-/tmp}/winnow-gpu-embed
model=$work/minilm
mkdir -p "$work"

if [ -n "${WINNOW_BIN:-}" ]; then # a prebuilt binary (bench/device_run.sh)
	W=$WINNOW_BIN
else
	echo "== build"
	make -j"$(nproc)" winnow > "$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
	make -j"$(nproc)" > /dev/null 2>&1 # the CUDA backend, when nvcc is present
	W=$PWD/build/winnow
fi
"$W" --version
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

echo "== model"
[ -s "$model/model.safetensors" ] || python3 "$PEERS" make-model "$model" || exit 1

echo "== texts"
debian_texts "$SHARED" "$N" "$work/texts.jsonl" python3 || exit 1
head -n "$N_CPU" "$work/texts.jsonl" > "$work/texts-cpu.jsonl"
head -n 256 "$work/texts.jsonl" > "$work/texts-256.jsonl"

# run LABEL N ARGS...: time one winnow embed run, print texts/s
run() {
	local label=$1 n=$2 t0 t1 s
	shift 2
	t0=$(date +%s.%N)
	"$W" embed -q --model "$model" --no-annotate --npy "$work/$label.npy" "$@" > /dev/null || {
		echo "winnow $label: FAILED"; return 1; }
	t1=$(date +%s.%N)
	s=$(awk "BEGIN {print $t1 - $t0}")
	printf 'winnow %-10s %7d texts in %7.2f s: %6.0f texts/s\n' "$label" "$n" "$s" "$(awk "BEGIN {print $n / $s}")"
}

echo "== winnow"
run cuda-warm 256 --device cuda --batch "$BATCH" "$work/texts-256.jsonl"
run cuda "$N" --device cuda --batch "$BATCH" "$work/texts.jsonl"
run cpu "$N_CPU" --device cpu --batch 32 "$work/texts-cpu.jsonl"

echo "== sentence-transformers (peer)"
python3 "$PEERS" encode "$model" "$N" "$BATCH"

echo "== agreement (first 1000 texts, normalised vectors)"
python3 - "$work/cuda.npy" "$work/cpu.npy" "$model/peer-emb.npy" <<'EOF'
import sys
import numpy as np
cuda, cpu, peer = (np.load(p) for p in sys.argv[1:4])
k = min(1000, len(cuda), len(peer))
print(f'max |winnow cuda - peer| over {k} x {peer.shape[1]}: {np.abs(cuda[:k] - peer[:k]).max():.2e}')
k = min(1000, len(cpu), len(peer))
print(f'max |winnow cpu  - peer| over {k} x {peer.shape[1]}: {np.abs(cpu[:k] - peer[:k]).max():.2e}')
EOF
