// The 16-lane vector layer for AVX2 + FMA3: two __m256 per vector (lanes 0-7 in
// `lo`, 8-15 in `hi`). Included once, by isa/kernels_avx2.c, before the op bodies.
// Semantics of every operation are documented in isa_scalar.h.
#include <immintrin.h>

#define FK_SFX avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define FK_V16_INLINE static inline __attribute__((always_inline))

typedef struct { __m256 lo, hi; } v16;
typedef struct { __m256 lo, hi; } v16m; // all-ones lanes where set

FK_V16_INLINE v16 v16_make(__m256 lo, __m256 hi) { v16 r = {lo, hi}; return r; }
FK_V16_INLINE v16 v16_zero(void) { return v16_make(_mm256_setzero_ps(), _mm256_setzero_ps()); }
FK_V16_INLINE v16 v16_set1(float a) { __m256 s = _mm256_set1_ps(a); return v16_make(s, s); }
FK_V16_INLINE v16 v16_load(const float *p) { return v16_make(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)); }
FK_V16_INLINE void v16_store(float *p, v16 v) { _mm256_storeu_ps(p, v.lo); _mm256_storeu_ps(p + 8, v.hi); }

FK_V16_INLINE v16m v16m_range(ptrdiff_t lo, ptrdiff_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi < lo) hi = lo;
    const __m256i iota_lo = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i iota_hi = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    __m256i vlo = _mm256_set1_epi32((int)lo - 1), vhi = _mm256_set1_epi32((int)hi);
    __m256i mlo = _mm256_and_si256(_mm256_cmpgt_epi32(iota_lo, vlo), _mm256_cmpgt_epi32(vhi, iota_lo));
    __m256i mhi = _mm256_and_si256(_mm256_cmpgt_epi32(iota_hi, vlo), _mm256_cmpgt_epi32(vhi, iota_hi));
    v16m m = {_mm256_castsi256_ps(mlo), _mm256_castsi256_ps(mhi)};
    return m;
}
FK_V16_INLINE v16m v16m_first(ptrdiff_t n) { return v16m_range(0, n); }
FK_V16_INLINE v16 v16_load_m(const float *p, v16m m) {
    return v16_make(_mm256_maskload_ps(p, _mm256_castps_si256(m.lo)),
                    _mm256_maskload_ps(p + 8, _mm256_castps_si256(m.hi)));
}
FK_V16_INLINE void v16_store_m(float *p, v16 v, v16m m) {
    _mm256_maskstore_ps(p, _mm256_castps_si256(m.lo), v.lo);
    _mm256_maskstore_ps(p + 8, _mm256_castps_si256(m.hi), v.hi);
}

#define FK_V16_BINARY(name, op) \
    FK_V16_INLINE v16 name(v16 a, v16 b) { return v16_make(op(a.lo, b.lo), op(a.hi, b.hi)); }
FK_V16_BINARY(v16_add, _mm256_add_ps)
FK_V16_BINARY(v16_sub, _mm256_sub_ps)
FK_V16_BINARY(v16_mul, _mm256_mul_ps)
FK_V16_BINARY(v16_div, _mm256_div_ps)
FK_V16_BINARY(v16_max, _mm256_max_ps)
FK_V16_BINARY(v16_min, _mm256_min_ps)
#undef FK_V16_BINARY

FK_V16_INLINE v16 v16_fma(v16 a, v16 b, v16 c) {
    return v16_make(_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi));
}
FK_V16_INLINE v16 v16_abs(v16 a) {
    __m256 s = _mm256_set1_ps(-0.0f);
    return v16_make(_mm256_andnot_ps(s, a.lo), _mm256_andnot_ps(s, a.hi));
}
FK_V16_INLINE v16 v16_round(v16 a) {
    return v16_make(_mm256_round_ps(a.lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                    _mm256_round_ps(a.hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
FK_V16_INLINE v16 v16_floor(v16 a) {
    return v16_make(_mm256_round_ps(a.lo, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                    _mm256_round_ps(a.hi, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
}
FK_V16_INLINE __m256 fk_avx2_pow2i(__m256 n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
FK_V16_INLINE v16 v16_pow2i(v16 n) { return v16_make(fk_avx2_pow2i(n.lo), fk_avx2_pow2i(n.hi)); }
FK_V16_INLINE v16m v16_lt(v16 a, v16 b) {
    v16m m = {_mm256_cmp_ps(a.lo, b.lo, _CMP_LT_OQ), _mm256_cmp_ps(a.hi, b.hi, _CMP_LT_OQ)};
    return m;
}
FK_V16_INLINE v16m v16_isnan(v16 a) {
    v16m m = {_mm256_cmp_ps(a.lo, a.lo, _CMP_UNORD_Q), _mm256_cmp_ps(a.hi, a.hi, _CMP_UNORD_Q)};
    return m;
}
FK_V16_INLINE v16 v16_select(v16m m, v16 a, v16 b) {
    return v16_make(_mm256_blendv_ps(b.lo, a.lo, m.lo), _mm256_blendv_ps(b.hi, a.hi, m.hi));
}

FK_V16_INLINE float v16_hsum(v16 v) {
    __m256 a = _mm256_add_ps(v.lo, v.hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_add_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(d);
}
FK_V16_INLINE float v16_hmax(v16 v) {
    __m256 a = _mm256_max_ps(v.lo, v.hi);
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_max_ps(b, _mm_movehl_ps(b, b));
    __m128 d = _mm_max_ss(c, _mm_shuffle_ps(c, c, 1));
    return _mm_cvtss_f32(d);
}

/// Transposes 8 ymm registers in place (8 × 8 floats): afterwards r[k] lane c = old r[c] lane k.
FK_V16_INLINE void fk_avx2_transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    // u[m] (rows 0-3) and u[4 + m] (rows 4-7) hold column m in their low half, m + 4 in the high.
    for (int m = 0; m < 4; m++) {
        r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
        r[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
}

/// Transposes 16 vectors in place: r[k] lane c = old r[c] lane k (four 8 × 8 blocks).
FK_V16_INLINE void v16_transpose16(v16 r[16]) {
    __m256 a[8], b[8], c[8], d[8];  // rows 0-7 / 8-15 × columns 0-7 / 8-15
    for (int i = 0; i < 8; i++) {
        a[i] = r[i].lo;
        b[i] = r[i].hi;
        c[i] = r[8 + i].lo;
        d[i] = r[8 + i].hi;
    }
    fk_avx2_transpose8(a);
    fk_avx2_transpose8(b);
    fk_avx2_transpose8(c);
    fk_avx2_transpose8(d);
    for (int k = 0; k < 8; k++) {
        r[k] = v16_make(a[k], c[k]);
        r[8 + k] = v16_make(b[k], d[k]);
    }
}

// Register tiles: 16 ymm registers hold at most 12 accumulator halves plus operands.
#define FK_GEMM_MR 6
#define FK_GEMM_NV 1
#define FK_SCORES_ROWS 1
#define FK_SCORES_HEADS 4
#define FK_WSUM_HEADS 3
#define FK_WSUM_NV 2
#define FK_UNPACKED_ROWS 2   // rows per unpacked-GEMM pass
#define FK_UNPACKED_PANELS 2 // 16-column panels per unpacked-GEMM pass
#define FK_IO_ROWS 2         // rows per fk_gemm_io pass
#define FK_IO_PANELS 2       // 16-column panels per fk_gemm_io pass
