// The 16-lane vector layer for AVX-512 (F, DQ, BW, VL): one __m512 per vector.
// Included once, by isa/kernels_avx512.c, before the op bodies. Semantics of every
// operation are documented in isa_scalar.h, the reference emulation.
#include <immintrin.h>

#define FK_SFX avx512
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)

#define FK_V16_INLINE static inline __attribute__((always_inline))

typedef __m512 v16;
typedef __mmask16 v16m;

FK_V16_INLINE v16 v16_zero(void) { return _mm512_setzero_ps(); }
FK_V16_INLINE v16 v16_set1(float a) { return _mm512_set1_ps(a); }
FK_V16_INLINE v16 v16_load(const float *p) { return _mm512_loadu_ps(p); }
FK_V16_INLINE void v16_store(float *p, v16 v) { _mm512_storeu_ps(p, v); }

FK_V16_INLINE v16m v16m_range(ptrdiff_t lo, ptrdiff_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    unsigned bits = ((1u << hi) - 1u) & ~((1u << lo) - 1u);
    return (v16m)bits;
}
FK_V16_INLINE v16m v16m_first(ptrdiff_t n) { return v16m_range(0, n); }
FK_V16_INLINE v16 v16_load_m(const float *p, v16m m) { return _mm512_maskz_loadu_ps(m, p); }
FK_V16_INLINE void v16_store_m(float *p, v16 v, v16m m) { _mm512_mask_storeu_ps(p, m, v); }

FK_V16_INLINE v16 v16_fma(v16 a, v16 b, v16 c) { return _mm512_fmadd_ps(a, b, c); }
FK_V16_INLINE v16 v16_add(v16 a, v16 b) { return _mm512_add_ps(a, b); }
FK_V16_INLINE v16 v16_sub(v16 a, v16 b) { return _mm512_sub_ps(a, b); }
FK_V16_INLINE v16 v16_mul(v16 a, v16 b) { return _mm512_mul_ps(a, b); }
FK_V16_INLINE v16 v16_div(v16 a, v16 b) { return _mm512_div_ps(a, b); }
FK_V16_INLINE v16 v16_max(v16 a, v16 b) { return _mm512_max_ps(a, b); }
FK_V16_INLINE v16 v16_min(v16 a, v16 b) { return _mm512_min_ps(a, b); }
FK_V16_INLINE v16 v16_abs(v16 a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
FK_V16_INLINE v16 v16_round(v16 a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
FK_V16_INLINE v16 v16_floor(v16 a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
FK_V16_INLINE v16 v16_pow2i(v16 n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}
FK_V16_INLINE v16m v16_lt(v16 a, v16 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
FK_V16_INLINE v16m v16_isnan(v16 a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
FK_V16_INLINE v16 v16_select(v16m m, v16 a, v16 b) { return _mm512_mask_blend_ps(m, b, a); }

FK_V16_INLINE float v16_hsum(v16 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 a = _mm256_add_ps(lo, hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(d);
}
FK_V16_INLINE float v16_hmax(v16 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 a = _mm256_max_ps(lo, hi);
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_max_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_max_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(d);
}

/// Transposes 16 vectors in place: afterwards r[k] lane c = old r[c] lane k.
FK_V16_INLINE void v16_transpose16(v16 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // u[4i + m], 128-bit lane L, holds column 4L + m of rows 4i..4i+3.
    for (int m = 0; m < 4; m++) {
        __m512 s0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x44);
        __m512 s1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xEE);
        __m512 s2 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x44);
        __m512 s3 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xEE);
        r[m] = _mm512_shuffle_f32x4(s0, s2, 0x88);
        r[4 + m] = _mm512_shuffle_f32x4(s0, s2, 0xDD);
        r[8 + m] = _mm512_shuffle_f32x4(s1, s3, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(s1, s3, 0xDD);
    }
}

// Register tiles (per-ISA; they never change results, only speed).
#define FK_GEMM_MR 6      // rows per GEMM tile
#define FK_GEMM_NV 4      // 16-column vectors per GEMM tile
#define FK_SCORES_ROWS 3  // tokens per scores tile
#define FK_SCORES_HEADS 8 // heads per scores tile
#define FK_WSUM_HEADS 8   // heads per weighted-sum tile
#define FK_WSUM_NV 3      // 16-column vectors per weighted-sum tile
#define FK_UNPACKED_ROWS 4   // rows per unpacked-GEMM pass
#define FK_UNPACKED_PANELS 1 // 16-column panels per unpacked-GEMM pass
#define FK_IO_ROWS 4         // rows per fk_gemm_io pass
#define FK_IO_PANELS 4       // 16-column panels per fk_gemm_io pass
