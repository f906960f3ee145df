#ifndef FK_ATTENTION_H
#define FK_ATTENTION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Largest number of heads the attention kernels accept (one 16-lane vector).
#define FK_ATTN_MAX_HEADS 16

/// Attention scores of several heads against a tall, skinny token matrix:
/// s (T × H) = I (T × dim) · Uᵀ, for tokens t in [t_begin, t_end).
///
/// - `img`: token t at img + t·ldi, `dim` floats each (ldi ≥ dim); rows may come
///   straight from a memory-mapped .npy (its data is 64-byte aligned in the file).
/// - `u`: head h's vector at u + h·ldu, `dim` floats (ldu ≥ dim); 1 ≤ heads ≤ 16.
///   Fold the 1/√dh scale into `u`.
/// - `s`: s[t·lds + h] (lds ≥ heads); only rows [t_begin, t_end) are written.
///
/// Formula (fixed order, the same for every t whatever the range): sixteen lane
/// sums, lane l = fma chain over j ≡ l (mod 16) in increasing j starting at +0
/// (the masked tail contributes fma(0, 0, ·)), then the fixed tree
/// ((l_i + l_{i+8}) → + 4 → + 2 → + 1). One pass over I; memory-bound.
void fk_attn_scores(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                    ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads,
                    float *s, ptrdiff_t lds);

/// Attention-weighted sum of tokens: z (H × dim) = Pᵀ (H × T) · I (T × dim)
/// over tokens [t_begin, t_end), for columns j in [j_begin, j_end).
///
/// - `p`: weight of token t for head h at p[t·ldp + h] (ldp ≥ heads).
/// - `z`: z[h·ldz + j] (ldz ≥ dim); only columns [j_begin, j_end) written.
///
/// Formula: z[h][j] = fma chain over t = t_begin, t_begin+1, …, t_end−1 of
/// p[t][h]·img[t][j], starting at +0 (t_begin = t_end gives +0). Vectorised
/// across j only: bit-identical whatever [j_begin, j_end) split the caller uses.
/// Split j across threads for one sample.
void fk_attn_weighted_sum(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                          ptrdiff_t dim, const float *p, ptrdiff_t ldp, ptrdiff_t heads,
                          float *z, ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end);

/// One chunk of fused attention (tokens [t_begin, t_end), t_end > t_begin), reading
/// each token row from memory once: scores, chunk-local softmax numerators and
/// the unnormalised weighted sum.
///
/// Outputs, for each head h:
/// - p[t·ldp + h] = exp(s[t][h] − m[h]) with s as `fk_attn_scores` computes it;
/// - m[h] = max over the chunk of s[t][h];
/// - l[h] = sum of p[t][h], a sequential chain in increasing t starting at +0;
/// - z[h·ldz + j] for all j < dim: as `fk_attn_weighted_sum` with these p.
///
/// A caller cuts the valid tokens of a sample into chunks at fixed positions
/// (e.g. every 64 tokens from token 0, never depending on thread count or padding),
/// runs chunks in parallel and combines them with `fk_attn_merge_scales` and
/// `fk_attn_merge_sum` (`fk_attend` in fk_parallel.h does all of this).
/// While it sums, the kernel prefetches the rows of the next t_end − t_begin tokens
/// into L2 (prefetches never fault, even past a mapping's end), so a thread should
/// run consecutive chunks of a sample in order. The chunk's rows should fit in L2
/// with room to spare: 64 tokens of 2048 floats (512 KiB) suit a 1 MiB L2.
void fk_attn_chunk(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                   ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads,
                   float *p, ptrdiff_t ldp, float *m, float *l,
                   float *z, ptrdiff_t ldz);

/// `fk_attn_chunk` for attention whose K and V are formed: each head scores its own
/// columns of the key rows and sums its own columns of the value rows.
///
/// - head h's keys: token t at keys + t·ldk + h·khs (`dim` floats, e.g. dim = d/H and
///   khs = d/H for the head-major columns of K = X·Wkᵀ); values likewise with ldv, vhs.
/// - s[t][h] = keys_h,t · u_h as `fk_attn_scores` computes it for one head; p, m, l as
///   `fk_attn_chunk` (one exp per token for all heads together); z[h·ldz + j] = the fma
///   chain over t of p[t][h]·values_h,t[j], as `fk_attn_weighted_sum`.
/// With khs = vhs = 0 and keys = values this gives `fk_attn_chunk`'s bits (each head's
/// chain is its own), reading every row once per head instead of once.
void fk_attn_chunk_kv(const float *keys, ptrdiff_t ldk, ptrdiff_t khs, const float *values, ptrdiff_t ldv,
                      ptrdiff_t vhs, ptrdiff_t t_begin, ptrdiff_t t_end, ptrdiff_t dim, const float *u,
                      ptrdiff_t ldu, ptrdiff_t heads, float *p, ptrdiff_t ldp, float *m, float *l,
                      float *z, ptrdiff_t ldz);

/// Softmax scales that combine `chunks` results of `fk_attn_chunk` (step 1 of 2).
///
/// - `m`, `l`: chunk c, head h at m[c·heads + h], l[c·heads + h].
/// - `scale`: chunks·heads floats, scale[c·heads + h] = w[c][h] / L[h], where
///   M[h] = max_c m[c][h], w[c][h] = exp(m[c][h] − M[h]) and L[h] is the fma chain
///   over c = 0, 1, … of w[c][h]·l[c][h] from +0. The attention weight of token t
///   (in chunk c) is then p[t][h]·scale[c][h]. With one chunk, scale = 1/l.
///
/// Cheap (chunks·heads exps): compute once per sample, then split step 2.
void fk_attn_merge_scales(ptrdiff_t chunks, ptrdiff_t heads, const float *m, const float *l,
                          float *scale);

/// The softmax-weighted sum z (H × dim) from the chunks' unnormalised sums (step 2 of 2),
/// for columns [j_begin, j_end).
///
/// - `scale`: from `fk_attn_merge_scales`.
/// - `zc`: chunk c's z at zc + c·chunk_stride (≥ heads·ldzc when chunks > 1),
///   head h's row at + h·ldzc (ldzc ≥ dim).
/// - `z`: z[h·ldz + j]; only columns [j_begin, j_end) are written.
///
/// Formula: z[h][j] = fma chain over c = 0, 1, … of scale[c][h]·zc[c][h][j] from +0.
/// Vectorised across j only: any column split (e.g. across threads) gives identical bits.
void fk_attn_merge_sum(ptrdiff_t chunks, ptrdiff_t heads, ptrdiff_t dim, const float *scale,
                       const float *zc, ptrdiff_t chunk_stride, ptrdiff_t ldzc,
                       float *z, ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end);

#ifdef __cplusplus
}
#endif

#endif
