#!/usr/bin/env bash
# bench/train_bench.sh — proxy training (`winnow train`, MLP head, hidden
# 64) on debian -> section: epochs/s of winnow with every score, of winnow
# training only (`winnow eval --keep random --fracs 1 --repeats 1`, which
# runs the same loop without the scores), and of bench/train_peer.py doing
# the same loop in numpy (and in PyTorch, CPU and CUDA, where torch is
# installed: the issue's comparison, run by the lead on the GPU machine).
#
#   BENCH_N=63666 BENCH_EPOCHS=5 BENCH_DIM=384 bash bench/train_bench.sh
#   BENCH_BERT=DIR ...   BERT embeddings (`winnow embed --model DIR`: the model's
#                        own pooling and width; shared/models/bert-tiny-uncased:
#                        mean, normalised, 64-d) instead of the hashed ones
#   BENCH_N=300 BENCH_EPOCHS=2 BENCH_REPS=1   a tiny run that proves it works
#   BENCH_CURVES=DIR ...  also the prune curves of every score (`winnow eval
#                        --keep high,low --repeats 3`, 20% held out) as
#                        DIR/<score>.{txt,json,svg}, for bench/RESULTS.md
# Threads: $BENCH_THREADS (default 2). The winnow rows run with --device cpu
# (under auto `winnow eval` would load, and on a GPU machine use, the CUDA
# backend); the --device cuda row, where a GPU is usable, is bounded by
# $BENCH_CUDA_LIMIT seconds (default 300). The figures mean something only
# on a quiet machine; this script prints them and judges nothing.
. "$(dirname "$0")/lib.sh"
N=${BENCH_N:-63666}
E=${BENCH_EPOCHS:-5}
DIM=${BENCH_DIM:-384}
T=${BENCH_THREADS:-2}
PY=${PY:-/usr/bin/python3}
PEER=$(cd "$(dirname "$0")" && pwd)/train_peer.py
WINNOW=${WINNOW:-$(cd "$(dirname "$0")/.." && pwd)/build/winnow}
WINNOW_SHARED=${WINNOW_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/winnow-train-bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

zcat "$WINNOW_SHARED/corpora/debian.jsonl.gz" | head -n "$N" > "$work/in.jsonl" || exit 1
if [ -n "${BENCH_BERT:-}" ]; then
	"$WINNOW" embed -q --model "$BENCH_BERT" --threads "$T" "$work/in.jsonl" > "$work/emb.jsonl" || exit 1
	how="BERT ($BENCH_BERT)"
else
	"$WINNOW" embed -q --dim "$DIM" --threads "$T" "$work/in.jsonl" > "$work/emb.jsonl" || exit 1
	how="hashed, dim $DIM"
fi
"$WINNOW" vectors export -q --npy "$work/X.npy" "$work/emb.jsonl" > /dev/null || exit 1
$PY "$PEER" labels "$work/emb.jsonl" section "$work/y.npy" || exit 1
n=$(wc -l < "$work/in.jsonl")
echo "train bench: $n debian records, $how, label section, mlp hidden 64, $E epochs, $T threads"

tw=$(secs "$WINNOW" train -q --label section --epochs "$E" --threads "$T" --device cpu "$work/emb.jsonl")
to=$(secs "$WINNOW" eval -q --label section --keep random --fracs 1 --repeats 1 --holdout 0.0001 \
	--epochs "$E" --threads "$T" --device cpu "$work/emb.jsonl")
echo "winnow times are of the whole command (JSONL in, records out); the peer's JSON line times its loop, and 'whole' its whole process"
printf 'winnow train (every score): %.3f s, %.2f epochs/s\n' "$tw" "$(awk "BEGIN { print $E / $tw }")"
printf 'winnow training only:       %.3f s, %.2f epochs/s (scores add %.0f%%)\n' "$to" \
	"$(awk "BEGIN { print $E / $to }")" "$(awk "BEGIN { print ($tw / $to - 1) * 100 }")"
export OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T
for mode in "" --scores; do
	$PY "$PEER" numpy "$work/X.npy" "$work/y.npy" "$E" $mode || exit 1
	printf 'numpy %s whole: %.3f s\n' "${mode:-(training only)}" \
		"$(secs $PY "$PEER" numpy "$work/X.npy" "$work/y.npy" "$E" $mode)"
done
if $PY -c "import torch" 2> /dev/null; then
	$PY "$PEER" torch "$work/X.npy" "$work/y.npy" "$E"
	$PY "$PEER" torch "$work/X.npy" "$work/y.npy" "$E" --scores
	if $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
		$PY "$PEER" torch "$work/X.npy" "$work/y.npy" "$E" --device cuda
	fi
else
	echo "torch: not installed here (the PyTorch rows are the lead's, on the GPU machine)"
fi
# `winnow device -q` (a usage error) guarded this row before: it never ran
if "$WINNOW" device --device cuda > /dev/null 2>&1; then
	lim=${BENCH_CUDA_LIMIT:-300}
	tc=$(BENCH_REPS=1 secs timeout "$lim" "$WINNOW" train -q --label section --epochs "$E" \
		--device cuda "$work/emb.jsonl")
	case $tc in
	nan) echo "winnow train --device cuda: failed or did not finish in $lim s" ;;
	*) printf 'winnow train --device cuda: %.3f s\n' "$tc" ;;
	esac
fi

# ---- prune curves (BENCH_CURVES=DIR) ----
if [ -n "${BENCH_CURVES:-}" ]; then
	mkdir -p "$BENCH_CURVES" || exit 1
	"$WINNOW" train -q --label section --holdout 0.2 --epochs "$E" --threads "$T" \
		"$work/emb.jsonl" > "$work/scored.jsonl" || exit 1
	for sc in el2n grand forgetting aum vog pvi tracin; do
		"$WINNOW" eval -q --label section --by "winnow.$sc" --keep high,low --repeats 3 \
			--epochs "$E" --threads "$T" --json "$BENCH_CURVES/$sc.json" --svg "$BENCH_CURVES/$sc.svg" \
			"$work/scored.jsonl" > "$BENCH_CURVES/$sc.txt" || exit 1
		echo "curves: $BENCH_CURVES/$sc.{txt,json,svg}"
	done
fi
