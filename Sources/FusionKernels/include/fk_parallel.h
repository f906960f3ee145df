#ifndef FK_PARALLEL_H
#define FK_PARALLEL_H

#include <stddef.h>
#include "fk_activation.h"
#include "fk_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/// `fk_gemm` over all rows [0, rows) and columns [0, out), split across `pool`.
///
/// The output is cut into blocks of 128 columns and, when there are fewer column
/// blocks than twice the thread count, into row blocks as well, so that both
/// cores stay busy even for one row (B = 1). Arguments as `fk_gemm`; `pool` may be
/// NULL (caller's thread only). Because every element of `fk_gemm` is the same
/// chain whatever the ranges, the result is bit-identical to a single
/// `fk_gemm` call for any pool size.
void fk_gemm_parallel(fk_pool *pool,
                      const float *x, ptrdiff_t ldx,
                      const float *packed, ptrdiff_t in, ptrdiff_t out,
                      const float *bias, fk_activation act,
                      float *y, ptrdiff_t ldy, ptrdiff_t rows);

/// `fk_gemm_unpacked` over all rows and columns, split across `pool` like
/// `fk_gemm_parallel`; bit-identical to fk_gemm_parallel on the packed weight.
void fk_gemm_unpacked_parallel(fk_pool *pool,
                               const float *x, ptrdiff_t ldx,
                               const float *w, ptrdiff_t ldw, ptrdiff_t in, ptrdiff_t out,
                               const float *bias, fk_activation act,
                               float *y, ptrdiff_t ldy, ptrdiff_t rows);

/// `fk_gemm_pack_oi` with the panels split across `pool` (NULL: the caller only);
/// the same bytes as the sequential call.
void fk_gemm_pack_oi_parallel(fk_pool *pool, const float *w, ptrdiff_t ldw, ptrdiff_t out,
                              ptrdiff_t in, float *packed);

/// `fk_gemm_pack_io` with the panels split across `pool`; the same bytes.
void fk_gemm_pack_io_parallel(fk_pool *pool, const float *b, ptrdiff_t ldb, ptrdiff_t in,
                              ptrdiff_t out, float *packed);

/// One sample of a batched attention call (see `fk_attend`).
typedef struct fk_attn_sample {
    /// Token 0 of the sample; token t at img + t·ldi (e.g. in a memory map).
    const float *img;
    /// Valid tokens, ≥ 1. Tokens at index ≥ tokens (padding) are never read.
    ptrdiff_t tokens;
    /// Head h's score vector at u + h·ldu (the 1/√dh scale folded in).
    const float *u;
    /// Output: head h's softmax-weighted token sum at z + h·ldz (dim floats).
    float *z;
    /// NULL, or output: the attention weight of token t for head h at
    /// weights[t·heads + h], for t < tokens.
    float *weights;
} fk_attn_sample;

/// Floats of scratch memory `fk_attend` needs for these samples.
ptrdiff_t fk_attend_scratch_count(const fk_attn_sample *samples, ptrdiff_t count,
                                  ptrdiff_t dim, ptrdiff_t heads, ptrdiff_t chunk);

/// Softmax attention of one query per head over each sample's valid tokens, on `pool`.
///
/// For every sample: the tokens are cut into chunks of `chunk` tokens at fixed
/// positions from token 0 (the last chunk may be shorter); `fk_attn_chunk` runs on
/// every chunk (runs of consecutive chunks per task, in parallel), then
/// `fk_attn_merge_scales` and `fk_attn_merge_sum` combine them (columns split across
/// threads). `chunk` must stay the same across calls whose results are compared:
/// with it fixed, a sample's z and weights are bit-identical whatever the pool size,
/// the other samples in the batch and any padding after its valid tokens.
///
/// - `dim`, `ldi`, `heads` (1..16), `ldu`, `ldz`: as in fk_attention.h, shared by all samples.
/// - `scratch`: fk_attend_scratch_count(...) floats, not shared with a concurrent call.
/// Traps on a broken contract (a sample without tokens, bad strides).
void fk_attend(fk_pool *pool, const fk_attn_sample *samples, ptrdiff_t count,
               ptrdiff_t dim, ptrdiff_t ldi, ptrdiff_t heads, ptrdiff_t ldu, ptrdiff_t ldz,
               ptrdiff_t chunk, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
