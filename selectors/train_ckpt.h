/*
 * selectors/train_ckpt.h — proxy-model checkpoints as safetensors files:
 * `winnow train --save-checkpoints DIR` writes one file per checkpoint,
 * `--from-checkpoints DIR` reads them back to recompute the scores without
 * training.
 *
 * Owns: the file names (DIR/run<R>-epoch<E>.safetensors, E = 0 for the
 * initial weights; DIR/run<R>-null.safetensors for PVI's null model), the
 * minimal writer (8-byte little-endian header length, a JSON header padded
 * with spaces to a multiple of 8, F32 tensors back to back) and the shape
 * check on reading.
 * Borrows: embed/safetensors.h (the strict reader), io/record.h's atomic
 * writer, cJSON for the header.
 *
 * Tensors, in core/train.h's parameter order: the MLP's W1 [d_in, hidden],
 * b1 [hidden], W2 [hidden, classes], b2 [classes]; the linear model's W
 * [d_in, classes], b [classes]. __metadata__ holds format "winnow-proxy",
 * d_in, hidden, classes and act, so a file from a model of another shape is
 * refused with both shapes named, and the class labels, so a model trained
 * on other classes is refused too.
 */
#ifndef WN_SELECTORS_TRAIN_CKPT_H
#define WN_SELECTORS_TRAIN_CKPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct wn_ckpt_shape {
	int64_t d_in, hidden, classes;
	int act;
	const char *labels; /* the class labels as a JSON array (optional): kept in
			     * __metadata__ "labels" and compared on reading */
} wn_ckpt_shape;

/* The file of run r at epoch e (e < 0: the null model) into buf. */
void wn_ckpt_path(char *buf, size_t n, const char *dir, int run, int epoch);

/* Create dir when missing (one level). 0, or -1 with err. */
int wn_ckpt_mkdir(const char *dir, char *err, size_t errlen);

/* Write P (the parameters of a model of shape sh) to path. 0 or -1 (err). */
int wn_ckpt_save(const char *path, const wn_ckpt_shape *sh, const float *P, char *err,
		 size_t errlen);

/* Read path into P, refusing a file of another shape. 0 or -1 (err). */
int wn_ckpt_load(const char *path, const wn_ckpt_shape *sh, float *P, char *err, size_t errlen);

#endif
