#!/usr/bin/env bash
# bench/device_checks.sh — CPU against CUDA for the steps that have a CUDA
# path, on the GPU machine, in one call (bench/device_bundle.sh prepares .gpu/):
# every unit test with the CUDA backend loaded (the twin tests and the CUDA
# cases of test_semdedup, test_core_solve), then each step on the same Debian
# hash embeddings with --device cpu and --device cuda, compared: byte for byte
# where the step is exact on both (DESIGN.md, "CPU and CUDA, per step"), else
# the largest difference of the scores and the overlap of what is selected.
# Usage: bash bench/device_checks.sh [N]   (N Debian records, default 20000)
set -u
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/device_out}; mkdir -p "$out"
G=$PWD/.gpu
[ -d /tmp/wlib/lib ] || { mkdir -p /tmp/wlib && tar -C /tmp/wlib -xJf "$G/lib.tar.xz"; }
export LD_LIBRARY_PATH=/tmp/wlib/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export WINNOW_CUDA_LIB=$G/bin/libwinnow_cuda.so WINNOW_SHARED=$G/shared WINNOW_BUILD=$G/bin
W=$G/bin/winnow; N=${1:-20000}; t=/tmp/wdc; mkdir -p $t
log=$out/checks.txt; : > "$log"
say() { echo "$*" | tee -a "$log"; }
say "== unit tests with CUDA"
for b in "$G"/bin/test_*; do
	r=$(WINNOW_TEST_CUDA=1 timeout 120 "$b" 2>&1); rc=$?
	say "$(basename "$b"): rc $rc, $(printf '%s\n' "$r" | grep -c '^PASS') pass, $(printf '%s\n' "$r" | grep -c '^FAIL') fail"
	printf '%s\n' "$r" | grep -E '^FAIL|note:|cuda' | head -8 | tee -a "$log"
done
say "== steps: cpu vs cuda on $N Debian records (hash embeddings, dim 256)"
zcat "$G/shared/corpora/debian.jsonl.gz" | head -n "$N" > $t/in.jsonl
"$W" embed -q --dim 256 $t/in.jsonl > $t/emb.jsonl
"$W" cluster kmeans -q --spherical -k 64 --seed 1 --device cpu $t/emb.jsonl > $t/cl.jsonl
maxdiff() { python3 - "$@" <<'PY'
import json, sys
def col(p, k):
    out = []
    for l in open(p):
        w = json.loads(l).get("winnow", {})
        for part in k.split("."):
            w = w.get(part) if isinstance(w, dict) else None
        out.append(w)
    return out
a, b = col(sys.argv[1], sys.argv[3]), col(sys.argv[2], sys.argv[3])
d = max(abs(x - y) / max(1e-30, abs(x)) for x, y in zip(a, b)) if a and len(a) == len(b) else float("nan")
print(f"{sys.argv[3]}: {len(a)} vs {len(b)} records, max relative difference {d:.3g}")
PY
}
same() { if cmp -s "$1" "$2"; then say "$3: identical ($(wc -l < "$1") records)"; else say "$3: DIFFERENT ($(wc -l < "$1") vs $(wc -l < "$2") records)"; fi; }
for dev in cpu cuda; do
	/usr/bin/time -f "semdedup $dev %e s" "$W" dedup semantic -q --eps 0.05,0.1,0.2 --device $dev $t/cl.jsonl > $t/sd.$dev 2>>"$log"
	/usr/bin/time -f "leverage $dev %e s" "$W" score leverage -q --device $dev $t/emb.jsonl > $t/lev.$dev 2>>"$log"
	/usr/bin/time -f "lewis $dev %e s" "$W" score lewis -q --p 1 --device $dev $t/emb.jsonl > $t/lew.$dev 2>>"$log"
	/usr/bin/time -f "train $dev %e s" "$W" train -q --label section --model mlp --epochs 3 --seed 1 --device $dev $t/emb.jsonl > $t/tr.$dev 2>>"$log"
	/usr/bin/time -f "facility $dev %e s" "$W" select facility-location -q --budget 500 --device $dev $t/emb.jsonl > $t/fl.$dev 2>>"$log"
	head -200 $t/emb.jsonl > $t/target.jsonl
	/usr/bin/time -f "rds $dev %e s" "$W" select rds -q --target $t/target.jsonl --budget 1000 --device $dev $t/emb.jsonl > $t/rds.$dev 2>>"$log"
	/usr/bin/time -f "graph knn 2100 $dev %e s" "$W" cluster graph -q --knn 2100 --threshold 0.9 --device $dev $t/emb.jsonl > $t/gr.$dev 2>>"$log"
	/usr/bin/time -f "kmeans $dev %e s" "$W" cluster kmeans -q -k 256 --niter 20 --seed 1 --device $dev --stats $t/km.$dev.json $t/emb.jsonl > $t/km.$dev 2>>"$log"
done
same $t/sd.cpu $t/sd.cuda "dedup semantic (3 eps)"
maxdiff $t/lev.cpu $t/lev.cuda leverage | tee -a "$log"
maxdiff $t/lew.cpu $t/lew.cuda lewis | tee -a "$log"
maxdiff $t/tr.cpu $t/tr.cuda el2n | tee -a "$log"
maxdiff $t/tr.cpu $t/tr.cuda grand | tee -a "$log"
same $t/fl.cpu $t/fl.cuda "select facility-location"
same $t/rds.cpu $t/rds.cuda "select rds"
overlap() { say "$3: $(python3 -c "import json,sys
key=lambda p: {json.dumps({k: v for k, v in json.loads(l).items() if k != 'winnow'}, sort_keys=True) for l in open(p)}
a, b = key(sys.argv[1]), key(sys.argv[2]); print(len(a & b), 'of', len(a), 'selected records in common')" "$1" "$2")"; }
overlap $t/fl.cpu $t/fl.cuda "select facility-location cpu/cuda"
overlap $t/rds.cpu $t/rds.cuda "select rds cpu/cuda"
same $t/gr.cpu $t/gr.cuda "cluster graph --knn 2100 (CUDA falls back to the CPU above k 2048)"
say "kmeans inertia cpu/cuda: $(python3 -c "import json,sys; print(json.load(open('$t/km.cpu.json')).get('inertia'), json.load(open('$t/km.cuda.json')).get('inertia'))" 2>&1)"
