#!/usr/bin/env bash
# bench/embed_precision.sh — issue 22's BERT-on-tensor-cores figures, for the
# GPU machine in one call (bench/device_run.sh step `embedprec`, inside 6
# minutes): the CUDA tests of --precision and of the fused epilogues (twins
# test_gemm*, test_row_ops; test_bert on CUDA), then whole-process `winnow embed`
# texts/s on N (50,000) Debian texts with the MiniLM-L6-shaped model of
# tools/gpu-peers.py make-model at fp32, tf32, bf16 and fp16 (and the
# default once more with the tokenizer overlap off, WINNOW_EMBED_OVERLAP=0),
# beside sentence-transformers fp32 and fp16 (encode() only, after a
# warm-up) in the same run, and each precision's cosine to winnow's fp32
# vectors over all N texts (min, mean, texts below 0.9999) and to the fp32
# peer (first 1,000).
# Env: W (winnow), G (the .gpu bundle: bin/test_*, shared/), N, BATCH, PY
# (a python3 with numpy, torch and sentence-transformers), WORK.
# Usage: W=.gpu/bin/winnow G=.gpu bash bench/embed_precision.sh
set -u
cd "$(dirname "$0")/.." || exit 2
. bench/lib.sh
G=${G:-$PWD/.gpu}
W=${W:-$G/bin/winnow}
N=${N:-50000}
BATCH=${BATCH:-256}
PY=${PY:-python3}
work=${WORK:-/tmp/winnow-embed-prec}
model=$work/minilm
mkdir -p "$work"
export WINNOW_SHARED=${WINNOW_SHARED:-$G/shared}

echo "== CUDA tests of --precision"
WINNOW_TEST_CUDA=1 WINNOW_MODEL_DIR=$G/shared/models/bert-tiny-uncased \
	WINNOW_TEST_ONLY=precision,test_cuda timeout 60 "$G/bin/test_bert"
WINNOW_TEST_ONLY=test_describe,test_gemm,test_row_ops timeout 120 "$G/bin/test_cuda_twins"

echo "== model and texts"
[ -s "$model/model.safetensors" ] || "$PY" "$WINNOW_SHARED/tools/gpu-peers.py" make-model "$model" > /dev/null || exit 1
debian_texts "$WINNOW_SHARED" "$N" "$work/texts.jsonl" "$PY" || exit 1
head -n 256 "$work/texts.jsonl" > "$work/warm.jsonl"

# run LABEL ARGS...: one whole-process winnow embed of the N texts, texts/s
run() {
	local label=$1 t0 t1 s
	shift
	"$W" embed -q --model "$model" --device cuda --batch "$BATCH" --no-annotate \
		--npy "$work/warm.npy" "$@" "$work/warm.jsonl" > /dev/null || { echo "winnow $label: FAILED"; return 1; }
	t0=$(date +%s.%N)
	"$W" embed -q --model "$model" --device cuda --batch "$BATCH" --no-annotate \
		--npy "$work/$label.npy" "$@" "$work/texts.jsonl" > /dev/null || { echo "winnow $label: FAILED"; return 1; }
	t1=$(date +%s.%N)
	s=$(awk "BEGIN {print $t1 - $t0}")
	printf 'winnow %-16s %7d texts in %6.2f s: %6.0f texts/s (whole process)\n' "$label" "$N" "$s" \
		"$(awk "BEGIN {print $N / $s}")"
}

echo "== winnow embed --device cuda, batch $BATCH"
for p in fp32 tf32 bf16 fp16; do run "$p" --precision "$p"; done
run default
WINNOW_EMBED_OVERLAP=0 run default-no-overlap
run fp32-again --precision fp32

echo "== sentence-transformers (same texts, same batch; encode() only, after a warm-up)"
"$PY" - "$model" "$work/texts.jsonl" "$BATCH" "$work" <<'PYEOF'
import json, sys, time
import numpy as np, torch
from sentence_transformers import SentenceTransformer
d, path, batch, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
x = [json.loads(l)['text'] for l in open(path)]
for name in ('fp32', 'fp16'):
    st = SentenceTransformer(d, device='cuda')
    if name == 'fp16':
        st = st.half()
    st.encode(x[:2000], batch_size=batch)
    torch.cuda.synchronize(); t = time.perf_counter()
    st.encode(x, batch_size=batch, normalize_embeddings=True)
    torch.cuda.synchronize(); s = time.perf_counter() - t
    e = st.encode(x[:1000], batch_size=batch, normalize_embeddings=True)
    np.save(f'{work}/peer-{name}.npy', np.asarray(e, dtype=np.float32))
    print(f'sentence-transformers {name} batch {batch}: {len(x)} texts in {s:.2f} s, {len(x) / s:.0f} texts/s')
    del st; torch.cuda.empty_cache()
PYEOF

echo "== cosine to winnow fp32 (all texts) and to the fp32 peer (first 1,000)"
"$PY" - "$work" <<'PYEOF'
import os, sys
import numpy as np
w = sys.argv[1]
def cos(a, b):
    a = a.astype(np.float64); b = b.astype(np.float64)
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
ref = np.load(f'{w}/fp32.npy')
peer = np.load(f'{w}/peer-fp32.npy') if os.path.exists(f'{w}/peer-fp32.npy') else ref
for name in ('fp32-again', 'tf32', 'bf16', 'fp16', 'default', 'default-no-overlap', 'peer-fp16'):
    p = f'{w}/{name}.npy'
    if not os.path.exists(p):
        print(f'{name}: missing'); continue
    v = np.load(p)
    k = min(len(v), len(ref))
    c = cos(v[:k], ref[:k])
    cp = cos(v[:1000], peer[:1000])
    same = 'identical' if v.shape == ref.shape and np.array_equal(v, ref) else 'differs'
    print(f'{name:20s} vs winnow fp32 over {k}: min 1 - {1 - c.min():.2e}  mean 1 - {1 - c.mean():.2e}  below 0.9999: {(c < 0.9999).sum()}'
          f'  ({same});  vs peer fp32 (1000): min 1 - {1 - cp.min():.2e}')
c = cos(ref[:1000], peer[:1000])
print(f'winnow fp32 vs peer fp32 (1000): min {c.min():.8f}, max |diff| {np.abs(ref[:1000] - peer[:1000]).max():.2e}'
      if peer is not ref else 'no peer vectors (the peer failed): the peer columns above compare with winnow fp32')
PYEOF
