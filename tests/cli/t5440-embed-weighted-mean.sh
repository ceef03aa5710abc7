#!/usr/bin/env bash
# t5440 — position-weighted mean pooling (RDS+; sentence-transformers'
# pooling_mode_weightedmean_tokens) in `winnow embed --model DIR`: with the
# bert-tiny fixture's 1_Pooling/config.json switched to weighted mean, the
# vectors of cases of every length (2 tokens .. the 64-token cap), in one
# padded batch, equal Σ_t 2t/(L(L+1)) h_t over the real tokens, normalised,
# computed by hand from the token embeddings of a plain-Python forward pass
# (tests/peers/bert_tiny_peer.py, which reproduces the reference's mean
# pooling to 1e-6 first); a config with two pooling modes is refused.
. "$(dirname "$0")/lib.sh"
M="$WINNOW_ROOT/fixtures/models/bert-tiny-uncased"
X="$M/expected.json"
PEER="$WINNOW_ROOT/tests/peers/bert_tiny_peer.py"
CASES="0 2 5 50 59 63 68"

test_expect_success 'setup: a copy of bert-tiny pooling by weighted mean' '
	cp -r "$M" wm && printf "%s" "{\"word_embedding_dimension\": 64, \"pooling_mode_mean_tokens\": false, \"pooling_mode_cls_token\": false, \"pooling_mode_weightedmean_tokens\": true}" > wm/1_Pooling/config.json &&
	python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))[\"cases\"]
for i in sys.argv[2:]:
    print(json.dumps({\"text\": c[int(i)][\"text\"]}))
" "$X" $CASES > cases.jsonl && [ "$(wc -l < cases.jsonl)" -eq 7 ]
'

test_expect_success 'weighted mean = sum of 2t/(L(L+1)) h_t over real tokens (by hand), one batch of mixed lengths' '
	python3 "$PEER" "$M" "$X" $CASES > want &&
	"$WINNOW" embed -q --model wm --device cpu --batch 32 cases.jsonl > out.jsonl &&
	python3 -c "
import base64, json, struct, sys
want = [l.split() for l in open(\"want\")]
got = [json.loads(l)[\"winnow\"][\"emb\"] for l in open(\"out.jsonl\")]
assert len(got) == len(want) == 7
for w, g in zip(want, got):
    assert float(w[0]) < 1e-6, w[0]          # the peer reproduces the reference mean pooling
    v = struct.unpack(\"<64f\", base64.b64decode(g[\"b64\"]))
    d = max(abs(a - float(b)) for a, b in zip(v, w[1:]))
    assert d < 1e-5, d
"
'

test_expect_success 'the weighted mean differs from the mean (the weights matter)' '
	"$WINNOW" embed -q --model "$M" --device cpu cases.jsonl > mean.jsonl &&
	! cmp -s mean.jsonl out.jsonl
'

test_expect_success 'two pooling modes in 1_Pooling: exit 1 naming the file' '
	cp -r wm both && printf "%s" "{\"word_embedding_dimension\": 64, \"pooling_mode_mean_tokens\": true, \"pooling_mode_weightedmean_tokens\": true}" > both/1_Pooling/config.json &&
	"$WINNOW" embed --model both --device cpu cases.jsonl > out 2> err; rc=$?
	test $rc = 1 && grep -q "^winnow embed: both/1_Pooling/config.json: exactly one of pooling_mode_mean_tokens, pooling_mode_weightedmean_tokens and pooling_mode_cls_token must be true" err
'

test_expect_success '--pooling weighted-mean on the mean-pooling model gives the same bytes as the config route' '
	"$WINNOW" embed -q --model "$M" --pooling weighted-mean --device cpu --batch 32 cases.jsonl > flag.jsonl &&
	cmp flag.jsonl out.jsonl
'

test_expect_success '--pooling with another word: exit 2 naming the three modes' '
	"$WINNOW" embed --model "$M" --pooling max cases.jsonl > out 2> err; rc=$?
	test $rc = 2 && grep -q "pooling .max.: expected mean, cls or weighted-mean" err && [ ! -s out ]
'

test_done
