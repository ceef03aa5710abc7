/*
 * embed/bert.h — BERT-family sentence encoders (`winnow embed --model DIR`).
 *
 * Owns: loading a model directory in the sentence-transformers layout
 * (config.json, model.safetensors, tokenizer.json and/or vocab.txt,
 * sentence_bert_config.json, modules.json, 1_Pooling/config.json), the
 * weights on the compute core's device, the encoder forward pass, pooling
 * (mean or CLS), optional L2 normalisation, and batching by similar length.
 *
 * Borrows: the compute core (core/core.h) for every numeric step, the
 * strict safetensors reader and the WordPiece tokenizer (embed/), cJSON for
 * the small config files, xxh3 for the model fingerprint.
 *
 * Why this shape: the forward pass is a few GEMMs per layer glued by the
 * core's transformer ops, so one code path serves CPU and GPU. Texts are
 * tokenized in parallel, sorted by token count inside a window and cut into
 * batches padded to the batch's longest text, which keeps padding (wasted
 * work) small; vectors come back in input order. A text's vector does not
 * depend on its batch neighbours beyond floating-point summation order in
 * the GEMMs (padding keys get probability exactly 0).
 */
#ifndef WN_EMBED_BERT_H
#define WN_EMBED_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "text/wordpiece.h"

enum wn_embed_pooling {
	WN_EMBED_POOL_AUTO = 0, /* as the model directory says (mean when it says nothing) */
	WN_EMBED_POOL_MEAN = 1,
	WN_EMBED_POOL_CLS = 2,
	WN_EMBED_POOL_WEIGHTED = 3, /* position-weighted mean: token t of L real ones weighs 2t/(L(L+1)) */
};

typedef struct wn_embed_bert_opts {
	int pooling;   /* enum wn_embed_pooling */
	int normalize; /* -1: Normalize module in modules.json or not; 0: off; 1: on */
	int batch;     /* sequences per forward pass; 0: 32 */
	int max_len;   /* tokens per text incl. [CLS]/[SEP]; 0: from the model directory */
	int64_t attn_floats; /* attention score buffer, floats; 0: 64 MiB (CPU), 1 GiB (GPU) */
	int precision; /* GEMM inputs, WN_PREC_* (core.h); -1: by device, fp32 on the CPU and
			* WN_EMBED_CUDA_PRECISION on CUDA. Any precision runs on the CPU too,
			* as the core's twin (rounded inputs, float32 GEMM): slower than fp32,
			* for tests and for seeing what a precision does without a GPU. */
} wn_embed_bert_opts;

/* The CUDA default, as measured on an H200 (bench/RESULTS.md, "Embedding
 * (issue #4)"): TF32 inputs on tensor cores with float32 accumulation, 2x
 * fp32's texts/s at cosine 1 - 1.6e-8 to it. cuBLAS 13.1 ran the bf16 and
 * fp16 compute types on float32 operands as TF32 (the same results and
 * speed), so naming tf32 says what runs. */
#define WN_EMBED_CUDA_PRECISION WN_PREC_TF32

typedef struct wn_embed_bert wn_embed_bert;

/* Defaults: pooling and normalisation from the model directory, batch 32,
 * precision by device. */
void wn_embed_bert_opts_init(wn_embed_bert_opts *o);

/*
 * Load DIR onto the core's device. The core is borrowed and must outlive
 * the model. NULL and one line in err ("DIR/config.json: ...") on failure:
 * missing or malformed files, unsupported architecture or pooling, tensor
 * shapes that disagree with config.json.
 */
wn_embed_bert *wn_embed_bert_open(wn_core *core, const char *dir, const wn_embed_bert_opts *o,
				  char *err, size_t errlen);
void wn_embed_bert_close(wn_embed_bert *m);

int wn_embed_bert_dim(const wn_embed_bert *m);
int wn_embed_bert_max_len(const wn_embed_bert *m);
int wn_embed_bert_pooling(const wn_embed_bert *m);   /* MEAN, WEIGHTED or CLS, after overrides */
int wn_embed_bert_normalize(const wn_embed_bert *m); /* 0 or 1, after overrides */
int wn_embed_bert_precision(const wn_embed_bert *m); /* WN_PREC_*, after the device default */
/* Texts sorted by length together (batch x 16): wn_embed_bert_encode cuts
 * its texts into windows of this many, from the first. */
size_t wn_embed_bert_window(const wn_embed_bert *m);
const wn_text_wp *wn_embed_bert_tokenizer(const wn_embed_bert *m);

/*
 * 32 hex digits: xxh3-128 over the bytes of every file that shapes the
 * output (weights, configs, tokenizer) and the effective pooling,
 * normalisation, max_len and (when not fp32) precision. Two runs with the same fingerprint produce the
 * same vectors; it keys the embedding cache.
 */
const char *wn_embed_bert_fingerprint(const wn_embed_bert *m);

/*
 * Embed n texts (texts[i], lens[i] bytes of UTF-8) into out (n x dim
 * floats, host memory), row i for text i. Returns 0, or -1 with a message.
 */
int wn_embed_bert_encode(wn_embed_bert *m, const char *const *texts, const size_t *lens,
			 size_t n, float *out, char *err, size_t errlen);

/* Tokens processed and padded positions computed so far (for reports). */
void wn_embed_bert_stats(const wn_embed_bert *m, uint64_t *tokens, uint64_t *padded);

#endif
