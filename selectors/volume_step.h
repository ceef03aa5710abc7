/*
 * selectors/volume_step.h — `winnow select volume --sample M` (issue 19):
 * every record and its vector read (cluster/vectors.h), the top-M left
 * singular vectors U of the n×d matrix (float64 SVD), one draw of the
 * projection DPP with kernel U Uᵀ (selectors/volume.h; M = rank is volume
 * sampling), and the M records drawn written in input order with
 * winnow.dpp_p = π_i = ||U_i||² (the inclusion probability, the rank-M
 * leverage score), winnow.weight = 1/π_i and winnow.dpp_rank (draw order).
 *
 * The weights: Nouy & Michel ("Weighted least-squares approximation with
 * determinantal point processes and generalized volume sampling") weight a
 * point by w(x) = M / K(x,x), K the kernel of the DPP in the basis
 * orthonormal for the sampling measure; for the empirical measure of n
 * records K(x_i,x_i) = n π_i, so w = M / (n π_i) and the weighted loss
 * (1/M) Σ_S w(x_i) ℓ_i equals (1/n) Σ_S ℓ_i / π_i. winnow.weight is that
 * 1/π_i (= n w / M): Σ_S weight_i f_i estimates Σ_i f_i without bias
 * (Horvitz–Thompson), the convention of `winnow coreset`.
 *
 * Owns: U, the draw. Borrows: cluster/vectors, selectors/volume, cJSON.
 */
#ifndef WN_SELECTORS_VOLUME_STEP_H
#define WN_SELECTORS_VOLUME_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

typedef struct wn_vol_step_opts {
	wn_stream_opts io;
	int64_t sample;   /* M, required, <= rank */
	int64_t seed;
	const char *npy, *field_emb, *stats;
} wn_vol_step_opts;

void wn_vol_step_init(wn_vol_step_opts *o);
int wn_vol_step_check(wn_vol_step_opts *o, char *err, size_t errlen);
int wn_vol_step_run(const wn_vol_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		    size_t errlen);

#endif
