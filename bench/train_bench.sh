#!/usr/bin/env bash
# bench/train_bench.sh — proxy training (`winnow train`, MLP head, hidden
# 64, AdamW, batch 128, no dropout) against bench/train_peer.py doing the
# same loop in numpy and in PyTorch (CPU and CUDA, where torch is
# installed), on the same vectors (.npy) and labels, in the same run.
#
#   BENCH_CORPUS=debian (default): 63,666 Debian records, label section (58 classes)
#   BENCH_CORPUS=pypi: the 784,692 PyPI records, label mclass, made up by
#       `train_peer.py monthclass` ((12 year + month - 1) mod 40 of "month":
#       40 classes with little signal; PyPI has no class field)
#   BENCH_N=N (first N records), BENCH_EPOCHS=5, BENCH_DIM=384 (hashed embeddings)
#   BENCH_THREADS=T (default 2): the thread count of the CPU rows
#   BENCH_PIN2=1: the CPU rows again pinned to cores 0,1 (taskset -c 0,1) at 2 threads
#   BENCH_CUDA=0: no CUDA rows (default: when a GPU is usable, winnow --device cuda
#       and PyTorch CUDA)
#   BENCH_SCORES=0: no rows with the scores (train with every score, peers' --scores)
#   BENCH_NUMPY=0: no numpy rows
#   BENCH_ROW_LIMIT=S: every row bounded by S seconds (default 300); a row past it says so
#   BENCH_BERT=DIR: BERT embeddings (`winnow embed --model DIR`) instead of the hashed ones
#   BENCH_CURVES=DIR: also the prune curves of every score (`winnow eval --keep
#       high,low --repeats 3`, 20% held out) as DIR/<score>.{txt,json,svg}
#   BENCH_N=300 BENCH_EPOCHS=2   a tiny run that proves it works
#
# What the rows are. Every side reads the same vectors from X.npy (winnow
# through --npy, next to a JSONL of the labels only), so no row parses
# vectors out of JSON. "loop" is the training loop alone, timed inside the
# process: winnow eval's "model(s) trained in" line (--keep random --fracs
# 1 --repeats 1: the optimizer steps and a held-out accuracy of 0.01% of
# the records after each epoch), winnow train's "optimizer steps" figure,
# the peers' "seconds". "whole" is the whole command or process (reading,
# and for winnow train writing every record with its scores; for the peers
# Python's start and imports). winnow train's "dynamics" is its training
# with every score (steps, evaluations, VoG, PVI's null model, TracIn),
# "S2L" its k-means of the trajectories; "scores add" = (dynamics + S2L) /
# steps - 1, and whole train / whole eval - 1. The winnow CPU rows run with
# --device cpu; torch's rows run with OMP_NUM_THREADS and OPENBLAS_NUM_THREADS
# at the row's thread count (OpenBLAS keeps a spinning thread per core of
# its own otherwise). The figures mean something only on a quiet machine:
# the script prints them and judges nothing.
. "$(dirname "$0")/lib.sh"
CORPUS=${BENCH_CORPUS:-debian}
E=${BENCH_EPOCHS:-5}
DIM=${BENCH_DIM:-384}
T=${BENCH_THREADS:-2}
LIM=${BENCH_ROW_LIMIT:-300}
PY=${PY:-/usr/bin/python3}
PEER=$(cd "$(dirname "$0")" && pwd)/train_peer.py
WINNOW=${WINNOW:-$(cd "$(dirname "$0")/.." && pwd)/build/winnow}
WINNOW_SHARED=${WINNOW_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/winnow-train-bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# ---- data: in.jsonl (records), X.npy (vectors), lab.jsonl (labels only), y.npy ----
case $CORPUS in
debian) LABEL=section
	zcat "$WINNOW_SHARED/corpora/debian.jsonl.gz" | head -n "${BENCH_N:-63666}" > "$work/in.jsonl" || exit 1 ;;
pypi) LABEL=mclass
	zstdcat "$WINNOW_SHARED/corpora/pypi.jsonl.zst" | head -n "${BENCH_N:-784692}" > "$work/in.jsonl" || exit 1 ;;
*) echo "train_bench.sh: BENCH_CORPUS is debian or pypi, not $CORPUS" >&2; exit 2 ;;
esac
if [ -n "${BENCH_BERT:-}" ]; then
	"$WINNOW" embed -q --model "$BENCH_BERT" --threads "$T" --no-annotate --npy "$work/X.npy" \
		"$work/in.jsonl" > /dev/null || exit 1
	how="BERT ($BENCH_BERT)"
else
	"$WINNOW" embed -q --dim "$DIM" --threads "$T" --no-annotate --npy "$work/X.npy" \
		"$work/in.jsonl" > /dev/null || exit 1
	how="hashed, dim $DIM"
fi
if [ "$CORPUS" = pypi ]; then
	$PY "$PEER" monthclass "$work/in.jsonl" "$work/lab.jsonl" || exit 1
else
	$PY -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({"id": r.get("id"), "section": r["section"]}))' < "$work/in.jsonl" > "$work/lab.jsonl" || exit 1
fi
$PY "$PEER" labels "$work/lab.jsonl" "$LABEL" "$work/y.npy" || exit 1
n=$(wc -l < "$work/in.jsonl")
C=$($PY -c "import numpy as np, sys; print(int(np.load(sys.argv[1]).max()) + 1)" "$work/y.npy")
echo "train bench: $n $CORPUS records, $how, label $LABEL ($C classes), mlp hidden 64, batch 128, $E epochs"

# ---- rows ----
# wrow NAME PIN ARGS...: one winnow command (stderr kept), its wall seconds and
# the in-process figures of its report.
wrow() {
	local name=$1 pin=$2; shift 2
	local t0 t1 rc
	t0=$(date +%s.%N)
	$pin timeout "$LIM" "$WINNOW" "$@" > /dev/null 2> "$work/err"; rc=$?
	t1=$(date +%s.%N)
	if [ $rc -ne 0 ]; then
		echo "$name: failed or past $LIM s (exit $rc): $(grep -v '^Try ' "$work/err" | tail -n 1)"
		return
	fi
	local whole loop steps dyn s2l
	whole=$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")
	loop=$(sed -n 's/.*model(s) trained in \([0-9.]*\) s.*/\1/p' "$work/err")
	dyn=$(sed -n 's/.*evaluations; \([0-9.]*\) s (optimizer steps.*/\1/p' "$work/err")
	steps=$(sed -n 's/.*(optimizer steps \([0-9.]*\) s.*/\1/p' "$work/err")
	s2l=$(sed -n 's/.*S2L: .* clusters; \([0-9.]*\) s$/\1/p' "$work/err")
	if [ -n "$loop" ]; then
		printf '%s: loop %.3f s (%.3f epochs/s), whole %s s\n' "$name" "$loop" \
			"$(awk "BEGIN { print $E / $loop }")" "$whole"
		echo "$whole" > "$work/eval_whole"
	else
		printf '%s: steps %.3f s (%.3f epochs/s), dynamics %.3f s, S2L %s s, whole %s s; scores add %.0f%% (in process), %s (whole vs eval whole)\n' \
			"$name" "$steps" "$(awk "BEGIN { print $E / $steps }")" "$dyn" "${s2l:-0}" "$whole" \
			"$(awk "BEGIN { print (($dyn + ${s2l:-0}) / $steps - 1) * 100 }")" \
			"$( [ -s "$work/eval_whole" ] && awk "BEGIN { printf \"%.0f%%\", ($whole / $(cat "$work/eval_whole") - 1) * 100 }" || echo n/a)"
	fi
}

# prow NAME PIN ARGS...: one peer run; its JSON line and its whole-process wall time.
prow() {
	local name=$1 pin=$2; shift 2
	local t0 t1 line
	t0=$(date +%s.%N)
	line=$($pin timeout "$LIM" $PY "$PEER" "$@" 2> "$work/perr" | tail -n 1)
	t1=$(date +%s.%N)
	case $line in
	"{"*) echo "$name: $line, whole $(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }") s" ;;
	*) echo "$name: failed or past $LIM s: $(tail -n 1 "$work/perr")" ;;
	esac
}

WIN_IN="--label $LABEL --epochs $E --npy $work/X.npy $work/lab.jsonl"
SE=$(( E < 2 ? E : 2 )) # EL2N after epoch 2 (train's default), or the last one
have_torch=0
$PY -c "import torch" 2> /dev/null && have_torch=1
# cpu_rows THREADS PIN TAG: every CPU row at THREADS threads, each command behind PIN
cpu_rows() {
	local t=$1 pin=$2 tag=$3
	echo "-- CPU, $t threads${tag:+, $tag}"
	wrow "winnow training only ($t threads)" "$pin" eval --keep random --fracs 1 --repeats 1 \
		--holdout 0.0001 --threads "$t" --device cpu $WIN_IN
	[ "${BENCH_SCORES:-1}" = 1 ] &&
		wrow "winnow train, every score ($t threads)" "$pin" train --score-epoch "$SE" --threads "$t" --device cpu $WIN_IN
	if [ $have_torch = 1 ]; then # its BLAS (OpenBLAS in Debian's build) at t threads too
		OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t prow "torch cpu ($t threads)" "$pin" torch \
			"$work/X.npy" "$work/y.npy" "$E" --threads "$t"
		[ "${BENCH_SCORES:-1}" = 1 ] && OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t \
			prow "torch cpu --scores ($t threads)" "$pin" torch "$work/X.npy" "$work/y.npy" "$E" --threads "$t" --scores
	fi
	if [ "${BENCH_NUMPY:-1}" = 1 ]; then
		OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t prow "numpy ($t threads)" "$pin" numpy "$work/X.npy" "$work/y.npy" "$E"
	fi
}

rm -f "$work/eval_whole"
cpu_rows "$T" "" ""
[ $have_torch = 0 ] && echo "torch: not installed for $PY (no PyTorch rows)"

# ---- CUDA rows ----
if [ "${BENCH_CUDA:-1}" = 1 ] && "$WINNOW" device --device cuda > /dev/null 2>&1; then
	echo "-- CUDA"
	rm -f "$work/eval_whole"
	wrow "winnow training only (--device cuda)" "" eval --keep random --fracs 1 --repeats 1 \
		--holdout 0.0001 --device cuda $WIN_IN
	[ "${BENCH_SCORES:-1}" = 1 ] && wrow "winnow train, every score (--device cuda)" "" train --score-epoch "$SE" --device cuda $WIN_IN
	if [ $have_torch = 1 ] && $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
		prow "torch cuda" "" torch "$work/X.npy" "$work/y.npy" "$E" --device cuda
		[ "${BENCH_SCORES:-1}" = 1 ] && prow "torch cuda --scores" "" torch "$work/X.npy" "$work/y.npy" "$E" --device cuda --scores
	fi
fi

# ---- pinned rows, after the CUDA ones (a call cut short loses these first) ----
if [ "${BENCH_PIN2:-0}" = 1 ]; then
	rm -f "$work/eval_whole"
	cpu_rows 2 "taskset -c 0,1" "pinned to cores 0,1"
fi

# ---- prune curves (BENCH_CURVES=DIR) ----
if [ -n "${BENCH_CURVES:-}" ]; then
	mkdir -p "$BENCH_CURVES" || exit 1
	"$WINNOW" train -q --label "$LABEL" --holdout 0.2 --epochs "$E" --threads "$T" \
		--npy "$work/X.npy" "$work/lab.jsonl" > "$work/scored.jsonl" || exit 1
	for sc in el2n grand forgetting aum vog pvi tracin; do
		"$WINNOW" eval -q --label "$LABEL" --by "winnow.$sc" --keep high,low --repeats 3 \
			--epochs "$E" --threads "$T" --json "$BENCH_CURVES/$sc.json" --svg "$BENCH_CURVES/$sc.svg" \
			--npy "$work/X.npy" "$work/scored.jsonl" > "$BENCH_CURVES/$sc.txt" || exit 1
		echo "curves: $BENCH_CURVES/$sc.{txt,json,svg}"
	done
fi
