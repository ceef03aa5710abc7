#!/usr/bin/env bash
# t4210 — `winnow embed --precision`: fp32 is today's output byte for byte;
# a reduced precision is a GPU feature, so asking for one on the CPU (by
# --device cpu, WINNOW_DEVICE=cpu, or auto without a usable GPU) is a usage
# error with one line that says why; a name that is no precision and a
# precision with --model hash are usage errors too. And the tokenizer
# overlap (the next window tokenized while the current one runs; on CUDA by
# default, forced here on the CPU) leaves the output byte for byte. (The CUDA runs are in
# tests/unit/test_cuda_twins.c, on the device machine.)
. "$(dirname "$0")/lib.sh"
M="$WINNOW_ROOT/fixtures/models/bert-tiny-uncased"
jq -c '.cases[] | {text}' "$M/expected.json" > "$TEST_DIR/cases.jsonl"

test_expect_success '--precision fp32 on the CPU is the default output, byte for byte' '
	"$WINNOW" embed -q --model "$M" --device cpu cases.jsonl > plain &&
	"$WINNOW" embed -q --model "$M" --device cpu --precision fp32 cases.jsonl > fp32 &&
	test_cmp plain fp32
'
# expect_usage WANT CMD...: exit 2, nothing on stdout, stderr exactly WANT and
# the usual pointer to --help
expect_usage() {
	local want=$1 rc; shift
	"$@" cases.jsonl > out 2> err; rc=$?
	[ $rc -eq 2 ] || { echo "exit $rc"; cat err; return 1; }
	[ ! -s out ] || { echo "stdout not empty"; return 1; }
	printf "%s\nTry 'winnow embed --help' for more.\n" "$want" > want && test_cmp want err
}
test_expect_success '--precision bf16 --device cpu: exit 2 and the reason' '
	expect_usage "winnow embed: --precision bf16 needs --device cuda (the CPU computes in fp32)" \
		"$WINNOW" embed --model "$M" --device cpu --precision bf16
'
test_expect_success 'WINNOW_DEVICE=cpu counts as --device cpu' '
	WINNOW_DEVICE=cpu expect_usage \
		"winnow embed: --precision fp16 needs --device cuda (the CPU computes in fp32)" \
		"$WINNOW" embed --model "$M" --precision fp16
'
test_expect_success 'auto without a usable GPU: exit 2, names why CUDA is out' '
	WINNOW_CUDA_LIB=/nonexistent.so "$WINNOW" embed --model "$M" --device auto --precision tf32 \
		cases.jsonl > out 2> err; rc=$?
	[ $rc -eq 2 ] && [ ! -s out ] && [ "$(wc -l < err)" -eq 2 ] &&
	head -1 err | grep -q "^winnow embed: --precision tf32 needs a GPU, and --device auto would run on the CPU (.*nonexistent.so.*)$"
'
test_expect_success 'an unknown precision: exit 2 and the names it takes' '
	expect_usage "winnow embed: --precision '"'"'half'"'"': expected fp32, tf32, bf16 or fp16" \
		"$WINNOW" embed --model "$M" --device cpu --precision half
'
test_expect_success '--precision with --model hash: exit 2' '
	expect_usage "winnow embed: --pooling, --normalize, --batch and --precision apply to a model directory, not --model hash" \
		"$WINNOW" embed --precision fp16
'
test_expect_success 'tokenizing the next window meanwhile: same bytes at 1 and 2 threads' '
	head -n 700 "$WINNOW_ROOT/fixtures/debian-2000.jsonl" > deb.jsonl &&
	WINNOW_EMBED_OVERLAP=0 "$WINNOW" embed -q --model "$M" --device cpu --batch 4 deb.jsonl > seq &&
	WINNOW_EMBED_OVERLAP=1 "$WINNOW" embed -q --model "$M" --device cpu --batch 4 deb.jsonl > ov2 &&
	WINNOW_EMBED_OVERLAP=1 "$WINNOW" embed -q --model "$M" --device cpu --batch 4 --threads 1 \
		deb.jsonl > ov1 &&
	test_cmp seq ov2 && test_cmp seq ov1 && [ "$(wc -l < seq)" -eq 700 ]
'
test_done
