#!/usr/bin/env bash
# bench/device_run.sh — everything winnow needs measured or tested on the GPU
# machine, in one call (the device time is scarce): CUDA twin tests, the BERT
# encoder on CUDA against expected.json, CPU vs CUDA Sinkhorn and the OTDD
# timing of Debian sections (bench/sources_bench.sh), GEMM and k-means benchmarks, BERT
# throughput against sentence-transformers, GPU k-means quality against FAISS;
# not in the default set (each near the 10-minute limit of one call): the
# issue 19 figures on all 784,692 PyPI records in parts sens-leverage,
# sens-lewis1, sens-lewis3, sens-fl (same work folder, one call each), and the
# issue 20 selectors (selectors: embeddings and clusters made once, then reused);
# sens-gpu: the four parts' winnow rows only (CPU and CUDA, no numpy), in one call;
# embedprec: issue 22's embed --precision figures (bench/embed_precision.sh);
# kmeans: issue 22's whole k-means command on 1M x 256 with its timing breakdown (about 2 minutes).
# Prepared by bench/device_bundle.sh; logs go to $OUT (or ./device_out).
# Usage: bash bench/device_run.sh [steps...]  (default: all)
set -u
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/device_out}; mkdir -p "$out"
G=$PWD/.gpu
mkdir -p /tmp/wlib && tar -C /tmp/wlib -xJf "$G/lib.tar.xz"
export LD_LIBRARY_PATH=/tmp/wlib/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export WINNOW_CUDA_LIB=$G/bin/libwinnow_cuda.so WINNOW_SHARED=$G/shared
export PATH=$G/bin:$PATH  # jq, bc, zstd bundled with their libraries (the machine's own jq 1.7 finds the bundled libjq 1.6 first and fails)
W=$G/bin/winnow
steps=${*:-"env twins sinkhorn bert bench embed cluster core sources"}
for step in $steps; do
	echo "=== $step"
	case $step in
	env) { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc;
	       "$W" --version; "$W" device --device cuda; } 2>&1 | tee "$out/env.txt" ;;
	twins) timeout 240 "$G/bin/test_cuda_twins" 2>&1 | tee "$out/twins.txt" ;;
	solve) timeout 120 "$G/bin/test_core_solve" 2>&1 | tee "$out/solve.txt" ;; # resident rows: CPU vs CUDA
	proto) # issue 20: prototypes, DBP and their numpy peer at full size
		WINNOW=$W SEL_WORK=/tmp/wsel ONLY=proto RUN_LIMIT=120 timeout 200 bash bench/selectors_bench.sh full 2>&1 |
			tee "$out/proto.txt" ;;
	train) # issue 18: proxy training, 63,666 Debian records (5 epochs) then 784,692 PyPI records
		# (2 epochs, no numpy rows): winnow and PyTorch at 16 threads, both again pinned to cores
		# 0,1 at 2 threads, winnow --device cuda and PyTorch CUDA; every row bounded, the two
		# parts by 200 + 330 s (inside one 10-minute call). The machine's python3 has numpy
		# and torch; its /usr/bin/python3 has neither.
		command -v taskset > /dev/null || echo "train: no taskset here, the pinned rows will fail"
		: > "$out/train.txt"
		# TRAIN_PARTS=debian or =pypi runs one part
		for part in "debian 5 40 200 1" "pypi 2 60 330 0"; do # corpus, epochs, row and part limits, numpy rows
			case " ${TRAIN_PARTS:-debian pypi} " in *" ${part%% *} "*) ;; *) continue ;; esac
			read -r corpus ep rowlim partlim numpy <<< "$part"
			PY=$(command -v python3) WINNOW=$W BENCH_CORPUS=$corpus BENCH_EPOCHS=$ep BENCH_ROW_LIMIT=$rowlim \
				BENCH_NUMPY=$numpy BENCH_THREADS=${BENCH_THREADS:-16} BENCH_PIN2=1 \
				timeout "$partlim" bash bench/train_bench.sh 2>&1 | tee -a "$out/train.txt"
		done ;;
	bert) WINNOW_TEST_CUDA=1 timeout 120 "$G/bin/test_bert" 2>&1 | tee "$out/bert.txt" ;;
	bench) timeout 240 "$G/bin/cuda_bench" 2>&1 | tee "$out/cuda_bench.txt" ;;
	embedprec) # issue 22: --precision CUDA tests, texts/s per precision beside sentence-transformers fp32/fp16, cosine to fp32
		PY=$(command -v python3) W=$W G=$G N=${N:-50000} timeout 360 bash bench/embed_precision.sh 2>&1 |
			tee "$out/embedprec.txt" ;;
	embed) WINNOW_BIN=$W N=${N:-20000} N_CPU=${N_CPU:-500} timeout 300 bash bench/gpu_embed.sh 2>&1 | tee "$out/embed.txt" ;;
	cluster)
		t=/tmp/wdeb; mkdir -p $t
		"$W" embed -q --device cpu "$G/shared/corpora/debian.jsonl.gz" > $t/emb.jsonl
		for dev in cpu cuda; do
			/usr/bin/time -f "$dev wall %e s" "$W" cluster kmeans -q -k 200 --niter 20 --seed 1 --device $dev \
				--stats $t/$dev.json $t/emb.jsonl > $t/$dev.out
			echo "$dev: $(cat $t/$dev.json)" | head -c 600; echo
		done 2>&1 | tee "$out/cluster.txt" ;;
	sinkhorn) timeout 120 "$G/bin/test_sinkhorn" 2>&1 | tee "$out/sinkhorn.txt" ;; # CPU vs CUDA Sinkhorn
	sources) # issue 21: OTDD of Debian sections, CPU vs CUDA vs numpy, paired
		WINNOW=$W PLAN=0 OUT=/tmp/winnow-sources-bench timeout 580 bash bench/sources_bench.sh 2>&1 |
			tee "$out/sources_bench.txt" ;;
	sens-leverage|sens-lewis1|sens-lewis3|sens-fl) # 2 pinned cores for CPU rows, plus --device cuda rows
		WINNOW=$W OUT=/tmp/wsens ONLY=${step#sens-} RUN_LIMIT=560 timeout 590 bash bench/sensitivity_bench.sh full 2>&1 |
			tee "$out/$step.txt" ;;
	sens-gpu) # all four parts in one call: winnow's CPU rows (2 pinned cores) and --device cuda rows, no numpy rows
		WINNOW=$W OUT=/tmp/wsens PEERS=0 RUN_LIMIT=240 timeout 590 bash bench/sensitivity_bench.sh full 2>&1 |
			tee "$out/$step.txt" ;;
	sens-cuda) # the --device cuda rows alone, compared with numpy's outputs of a run here (.gpu/ref)
		WINNOW=$W OUT=/tmp/wsens PEERS=0 CPU_ROWS=0 REF=$G/ref RUN_LIMIT=240 timeout 590 bash bench/sensitivity_bench.sh full 2>&1 |
			tee "$out/$step.txt" ;;
	selectors)
		WINNOW=$W SEL_WORK=/tmp/wsel RUN_LIMIT=${RUN_LIMIT:-420} timeout 590 bash bench/selectors_bench.sh full 2>&1 | tee "$out/selectors.txt" ;;
	core) timeout 120 "$G/bin/core_bench" --reps 5 2>&1 | tee "$out/core_bench.txt" ;;
	kmeans) # issue 22: the whole `cluster kmeans -k 20000 --niter 25 --device cuda --npy` command, 1M x 256,
		# its fixed cost, where the time goes (WINNOW_TIMING=1), the .npy mapping modes, fastkmeans and PyTorch
		# first the cluster-level CUDA cases (train + assign through kmeans_fit, within 1% of FAISS)
		{ WINNOW_TEST_CUDA=1 timeout 60 "$G/bin/test_cluster_kmeans" 2>&1 | grep -E '^(PASS|FAIL|SKIP)|cuda';
		  timeout 230 bash bench/kmeans_whole.sh 1000000 20000 2>&1; } | tee "$out/kmeans.txt" ;;
	batches) # winnow's GPU throughput at larger batches (model from the embed step)
		m=/tmp/winnow-gpu-embed/minilm; t=/tmp/winnow-gpu-embed/texts.jsonl
		for b in 128 512 1024; do
			s0=$(date +%s.%N); "$W" embed -q --model $m --device cuda --batch $b --no-annotate --npy /tmp/b.npy $t > /dev/null
			s1=$(date +%s.%N); echo "batch $b: $(wc -l < $t) texts in $(awk "BEGIN {print $s1 - $s0}") s"
		done 2>&1 | tee "$out/batches.txt" ;;
	embedcpu) # winnow on the CPU against sentence-transformers on the CPU, same cores, same texts
		m=/tmp/winnow-gpu-embed/minilm; n=${N_CPU:-1000}
		head -n $n /tmp/winnow-gpu-embed/texts.jsonl > /tmp/cpu-texts.jsonl
		for ct in "" Haswell; do
			s0=$(date +%s.%N); OPENBLAS_CORETYPE=$ct "$W" embed -q --model $m --device cpu --threads 16 --batch 32 \
				--no-annotate --npy /tmp/c.npy /tmp/cpu-texts.jsonl > /dev/null
			s1=$(date +%s.%N); echo "winnow cpu (OPENBLAS_CORETYPE=${ct:-auto}) 16 threads: $n texts in $(awk "BEGIN {print $s1 - $s0}") s"
		done
		python3 - $m /tmp/cpu-texts.jsonl <<'PY'
import json, sys, time, torch
from sentence_transformers import SentenceTransformer
torch.set_num_threads(16)
st = SentenceTransformer(sys.argv[1], device='cpu')
x = [json.loads(l)['text'] for l in open(sys.argv[2])]
st.encode(x[:64], batch_size=32)
t = time.perf_counter(); st.encode(x, batch_size=32, normalize_embeddings=True); s = time.perf_counter() - t
print(f'sentence-transformers cpu 16 threads: {len(x)} texts in {s:.2f} s, {len(x)/s:.0f} texts/s')
PY
		;;
	esac
done
