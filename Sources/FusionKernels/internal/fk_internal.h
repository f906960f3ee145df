// Private declarations shared by the FusionKernels sources: contract checks and
// the per-instruction-set implementations behind each public function.
#ifndef FK_INTERNAL_H
#define FK_INTERNAL_H

// Every multiply-add that should be fused is written as one explicitly; the
// compiler must never fuse anything else, or paths and tiles would round differently.
#pragma STDC FP_CONTRACT OFF
#if defined(__FAST_MATH__)
#error "FusionKernels must not be built with -ffast-math: results would depend on the compiler's reassociation"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "../include/FusionKernels.h"

/// Asks for the cache line holding base + offset floats to be brought towards L2.
/// The address is computed as an integer: it may lie past the end of the caller's
/// array (a prefetch never faults), where pointer arithmetic would be undefined.
static inline __attribute__((always_inline)) void fk_prefetch(const float *base, ptrdiff_t offset) {
    __builtin_prefetch((const void *)((uintptr_t)base + (uintptr_t)(offset * (ptrdiff_t)sizeof(float))), 0, 2);
}

/// Prints "FusionKernels: <function>: <formatted message>" to stderr and aborts.
/// Used for broken caller contracts (the caller's bug, never bad input data).
__attribute__((noreturn, format(printf, 2, 3)))
void fk_fail(const char *function, const char *format, ...);

/// Fails unless `p` (called `name` in the message) is NULL or aligned for a float, as
/// every float pointer handed to a public function must be (see FusionKernels.h).
static inline void fk_check_aligned(const char *function, const char *name, const void *p) {
    if ((uintptr_t)p % _Alignof(float) != 0)
        fk_fail(function, "%s = %p is not %zu-byte aligned: every float pointer must be", name, p,
                _Alignof(float));
}

/// fk_check_aligned for a pointer argument, named as written.
#define FK_CHECK_ALIGNED(p) fk_check_aligned(__func__, #p, (const void *)(p))

/// The arguments of one `fk_gemm` or `fk_gemm_unpacked` call, already checked.
typedef struct fk_gemm_args {
    const float *x;
    ptrdiff_t ldx;
    const float *packed;     // fk_gemm: the packed weight
    const unsigned char *w;  // fk_gemm_unpacked: the (out × in) weight, at any byte address
    ptrdiff_t ldw;           // fk_gemm_unpacked: row stride of the weight, in floats
    ptrdiff_t in, out;
    const float *bias;
    fk_activation act;
    float *y;
    ptrdiff_t ldy;
    ptrdiff_t row_begin, row_end, col_begin, col_end;
} fk_gemm_args;

/// The arguments of one `fk_gemm_io` or `fk_gemm_inplace` call, already checked.
typedef struct fk_gemm_io_args {
    const float *x;
    ptrdiff_t ldx;
    // fk_gemm_io, and fk_gemm_inplace with `transposed`: (in × out), element (k, o) at float k·ldb + o;
    // fk_gemm_inplace without: an nn.Linear weight (out × in), element (o, k) at float o·ldb + k.
    // Any byte address.
    const unsigned char *b;
    ptrdiff_t ldb;
    int transposed;
    float scale;
    ptrdiff_t in, out;
    const float *bias;
    fk_activation act;
    float *y;
    ptrdiff_t ldy;
    ptrdiff_t row_begin, row_end, col_begin, col_end;
} fk_gemm_io_args;


/// Floats in a thread's GEMM block buffer: one k block of 16 packed panels (FK_GEMM_KC × 256).
#define FK_GEMM_BLOCK_FLOATS (256 * 16 * 16)

/// This thread's GEMM block buffer (FK_GEMM_BLOCK_FLOATS floats, 64-byte aligned), allocated on
/// the thread's first call, kept for the thread's life and freed when the thread ends.
float *fk_gemm_block_buffer(void);

/// Declares the implementations of one instruction-set variant `sfx`.
#define FK_DECLARE_ISA(sfx)                                                            \
    void fk_gemm_##sfx(const fk_gemm_args *args);                                      \
    void fk_gemm_io_##sfx(const fk_gemm_io_args *args);                                \
    void fk_gemm_unpacked_##sfx(const fk_gemm_args *args);                             \
    void fk_gemm_inplace_##sfx(const fk_gemm_io_args *args);                           \
    void fk_pack_oi_panels_##sfx(const unsigned char *w, ptrdiff_t ldw, ptrdiff_t out, \
                                 ptrdiff_t in, float *packed, ptrdiff_t p_begin,       \
                                 ptrdiff_t p_end);                                     \
    void fk_activate_##sfx(fk_activation act, const float *x, float *y, ptrdiff_t n);  \
    void fk_exp_##sfx(const float *x, float *y, ptrdiff_t n);                          \
    void fk_erf_##sfx(const float *x, float *y, ptrdiff_t n);                          \
    void fk_layer_norm_##sfx(const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy,   \
                             ptrdiff_t rows, ptrdiff_t n, const float *gamma,          \
                             const float *beta, float eps);                            \
    void fk_softmax_##sfx(const float *x, float *y, ptrdiff_t n_valid, ptrdiff_t n);   \
    void fk_add_##sfx(const float *a, const float *b, float *y, ptrdiff_t n);          \
    ptrdiff_t fk_first_nonfinite_##sfx(const unsigned char *x, ptrdiff_t n);           \
    void fk_bias_add_##sfx(float *y, ptrdiff_t ldy, ptrdiff_t rows, ptrdiff_t n,       \
                           const float *bias);                                         \
    void fk_attn_scores_##sfx(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin,      \
                              ptrdiff_t t_end, ptrdiff_t dim, const float *u,          \
                              ptrdiff_t ldu, ptrdiff_t heads, float *s, ptrdiff_t lds);\
    void fk_attn_weighted_sum_##sfx(const float *img, ptrdiff_t ldi,                   \
                                    ptrdiff_t t_begin, ptrdiff_t t_end,                \
                                    const float *p, ptrdiff_t ldp, ptrdiff_t heads,    \
                                    float *z, ptrdiff_t ldz, ptrdiff_t j_begin,        \
                                    ptrdiff_t j_end);                                  \
    void fk_attn_chunk_##sfx(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin,       \
                             ptrdiff_t t_end, ptrdiff_t dim, const float *u,           \
                             ptrdiff_t ldu, ptrdiff_t heads, float *p, ptrdiff_t ldp,  \
                             float *m, float *l, float *z, ptrdiff_t ldz);             \
    void fk_attn_chunk_kv_##sfx(const float *keys, ptrdiff_t ldk, ptrdiff_t khs,       \
                                const float *values, ptrdiff_t ldv, ptrdiff_t vhs,     \
                                ptrdiff_t t_begin, ptrdiff_t t_end,                    \
                                ptrdiff_t dim, const float *u, ptrdiff_t ldu,          \
                                ptrdiff_t heads, float *p, ptrdiff_t ldp, float *m,    \
                                float *l, float *z, ptrdiff_t ldz);                    \
    void fk_attn_merge_scales_##sfx(ptrdiff_t chunks, ptrdiff_t heads, const float *m, \
                                    const float *l, float *scale);                     \
    void fk_attn_merge_sum_##sfx(ptrdiff_t chunks, ptrdiff_t heads,                    \
                                 const float *scale, const float *zc,                  \
                                 ptrdiff_t chunk_stride, ptrdiff_t ldzc, float *z,     \
                                 ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end);

FK_DECLARE_ISA(scalar)
FK_DECLARE_ISA(avx2)
FK_DECLARE_ISA(avx512)

/// Picks the variant of `name` for the current CPU level.
#define FK_DISPATCH(name)                                                  \
    (fk_cpu_level_current() == FK_CPU_AVX512 ? name##_avx512               \
     : fk_cpu_level_current() == FK_CPU_AVX2 ? name##_avx2 : name##_scalar)

#endif
