/*
 * selectors/volume.h — volume sampling as a projection DPP (issue 19).
 *
 * The marginal kernel is K = U_m U_mᵀ, U_m the top-m left singular vectors
 * of A (n×d, LAPACK dgesvd in float64): a sample has exactly m rows, row i
 * is in it with probability π_i = K_ii = ||U_m[i]||² (the rank-m leverage
 * score), and P(S) ∝ det(A_S A_Sᵀ restricted to the top-m space)² — for
 * m = rank(A), the volume sampling of Dereziński & Warmuth (2017),
 * P(S) ∝ det(A_S)², under which the least-squares solution A_S⁻¹ y_S is an
 * unbiased estimate of A⁺y.
 *
 * The sampler is the chain rule (Hough et al. 2006, Alg. 18; as in
 * Gillenwater's and DPPy's projection samplers): at step t, draw i with
 * probability ||U_i||² − Σ_{s<t} ⟨e_s, U_i⟩² over m − t, then add the
 * normalised residual of U_i to the orthonormal e_1..e_t. O(n m²) time,
 * O(n m) memory (U itself). Every draw comes from Philox keyed by (seed,
 * stream, t), the cumulative scan in row order: results do not depend on
 * the thread count.
 *
 * Owns: nothing between calls. Borrows: LAPACK (dgesvd), core/rng.h.
 */
#ifndef WN_SELECTORS_VOLUME_H
#define WN_SELECTORS_VOLUME_H

#include <stddef.h>
#include <stdint.h>

/*
 * The top-m left singular vectors of A (n×d, exactly one of A32, A64) into
 * *U (n×m, row-major, malloc'd: the caller frees it) and the singular values
 * into sv (min(n,d), may be NULL); *rank = singular values >
 * s_max·max(n,d)·eps. m <= min(n,d). Memory: a float64 copy of A and the
 * n×min(n,d) vectors while dgesvd runs, then U alone.
 * Returns 0, or -1 with err.
 */
int wn_vol_top_singular(const float *A32, const double *A64, int64_t n, int64_t d, int64_t m,
			double **U, double *sv, int64_t *rank, char *err, size_t errlen);

/*
 * One draw of the projection DPP with kernel U Uᵀ (U n×m, orthonormal
 * columns): m distinct rows into S, in the order drawn. work: n + m·m
 * doubles. Returns 0, or -1 when U is not orthonormal enough to finish.
 */
int wn_vol_dpp_sample(const double *U, int64_t n, int64_t m, uint64_t seed, uint64_t stream,
		      int64_t *S, double *work);

#endif
