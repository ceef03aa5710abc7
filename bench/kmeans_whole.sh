#!/usr/bin/env bash
# bench/kmeans_whole.sh — k-means as a user runs it, on the GPU machine: the
# whole command `winnow cluster kmeans -k K --niter 25 --device cuda --npy
# x.npy --stream records.jsonl` on an N x 256 float32 .npy (a seeded mixture
# of 2,000 Gaussian blobs), its fixed cost (-k 1 --niter 1), and beside it in
# the same run the PyTorch k-means peer (../shared/tools/gpu-peers.py) and
# fastkmeans when installed, on the same matrix. Each winnow run prints its
# WINNOW_TIMING=1 breakdown; the .npy mapping modes (WINNOW_NPY_MAP) and the
# GPU phases (WINNOW_CUDA_KMEANS_PROFILE=1) get one run each. About 2 minutes.
# Usage: bash bench/kmeans_whole.sh [N] [K]   (default 1000000 20000); .gpu/ from device_bundle.sh
set -u
cd "$(dirname "$0")/.."
G=$PWD/.gpu; N=${1:-1000000}; K=${2:-20000}; t=/tmp/wkm; mkdir -p $t
[ -d /tmp/wlib/lib ] || { mkdir -p /tmp/wlib && tar -C /tmp/wlib -xJf "$G/lib.tar.xz"; }
export LD_LIBRARY_PATH=/tmp/wlib/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export WINNOW_CUDA_LIB=$G/bin/libwinnow_cuda.so
W=$G/bin/winnow
python3 - $N $t <<'PY'
import sys, numpy as np
n, d = int(sys.argv[1]), 256
r = np.random.default_rng(1)
c = r.standard_normal((2000, d)).astype(np.float32)
x = c[r.integers(0, 2000, n)] + 0.3 * r.standard_normal((n, d)).astype(np.float32)
np.save(sys.argv[2] + "/x.npy", x)
with open(sys.argv[2] + "/rec.jsonl", "w") as f:
    f.writelines('{"id":%d}\n' % i for i in range(n))
PY
echo "# $(uname -r); /tmp/wkm on $(df -T $t | awk 'NR==2 {print $2}'); THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null); $(nproc) cores"
echo "# WINNOW_TIMING=1: one line per phase (wall, and the process's user/sys CPU meanwhile); the"
echo "# whole process (/usr/bin/time) minus their sum is process start and exit (CUDA context teardown)"
fixed() { # fixed LABEL [env...]
	local label=$1; shift
	env WINNOW_TIMING=1 "$@" /usr/bin/time -f "winnow -k 1 --niter 1 (fixed cost$label): wall %e s, user %U s, sys %S s, RSS %M KB" \
		"$W" cluster kmeans -q -k 1 --niter 1 --device cuda --npy $t/x.npy --stream $t/rec.jsonl > /dev/null
}
full() { # full LABEL [env...]
	local label=$1; shift
	env WINNOW_TIMING=1 "$@" /usr/bin/time -f "winnow -k $K --niter 25$label: wall %e s, user %U s, sys %S s, RSS %M KB" \
		"$W" cluster kmeans -q -k $K --niter 25 --seed 1 --device cuda --npy $t/x.npy --stream $t/rec.jsonl \
		--stats $t/st.json > $t/out.jsonl
	python3 -c "import json; s=json.load(open('$t/st.json')); print('winnow inertia', s.get('inertia'), 'train_seconds', s.get('train_seconds'), 'assign_seconds', s.get('assign_seconds'))"
	echo "output md5 $(md5sum < $t/out.jsonl | cut -c1-32) (the same in every run)"
}
for rep in 1 2; do
	echo "--- run $rep (default: .npy mapped with MAP_POPULATE)"
	fixed ""
	full ""
done
# how the mapping's page tables fill (embed/npy.c): first touch by the parallel check, or with huge pages
for m in fault huge; do
	echo "--- WINNOW_NPY_MAP=$m"
	fixed ", WINNOW_NPY_MAP=$m" WINNOW_NPY_MAP=$m
	full ", WINNOW_NPY_MAP=$m" WINNOW_NPY_MAP=$m
done
echo "--- GPU phases of the full command (WINNOW_CUDA_KMEANS_PROFILE=1: each phase ends in a sync, a little slower)"
full ", profiled" WINNOW_CUDA_KMEANS_PROFILE=1
python3 - $t $K <<'PY'
import sys, time, numpy as np
t, k = sys.argv[1], int(sys.argv[2])
try:
    from fastkmeans import FastKMeans
except Exception as e:
    print("fastkmeans not installed:", e); sys.exit(0)
for dtype in ("fp32", "fp16"):
    s = time.perf_counter(); x = np.load(t + "/x.npy")
    km = FastKMeans(d=x.shape[1], k=k, niter=25, gpu=True, seed=1, use_triton=True)
    km.train(x) if dtype == "fp32" else km.train(x.astype(np.float16))
    print(f"fastkmeans {dtype} load+train: {time.perf_counter() - s:.2f} s")
PY
python3 "$G/shared/tools/gpu-peers.py" kmeans $N 256 $K 25 2>&1 | tail -4
