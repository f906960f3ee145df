// Packing of GEMM weights into 16-column panels (see fk_gemm.h for the layout):
// pure data movement, so every variant gives the same bytes. The AVX-512 variant of
// the (out × in) packing transposes 16 × 16 blocks in registers.
#include "internal/fk_internal.h"

#include <immintrin.h>

ptrdiff_t fk_gemm_packed_count(ptrdiff_t in, ptrdiff_t out) {
    if (in < 1 || out < 1)
        fk_fail(__func__, "in = %td and out = %td must both be at least 1", in, out);
    return (out + 15) / 16 * 16 * in;
}

/// Panels [p_begin, p_end) of fk_gemm_pack_oi, one element at a time.
static void fk_pack_oi_scalar(const float *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in,
                              float *packed, ptrdiff_t p_begin, ptrdiff_t p_end) {
    for (ptrdiff_t p = p_begin; p < p_end; p++)
        for (ptrdiff_t c = 0; c < 16; c++) {
            const ptrdiff_t o = p * 16 + c;
            float *dst = packed + p * in * 16 + c;
            if (o < out)
                for (ptrdiff_t k = 0; k < in; k++) dst[k * 16] = w[o * ldw + k];
            else
                for (ptrdiff_t k = 0; k < in; k++) dst[k * 16] = 0.0f;
        }
}

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq"))), apply_to = function)

/// Transposes r (16 rows of 16 floats) in place: afterwards r[k] holds column k.
static inline __attribute__((always_inline)) void fk_transpose16(__m512 r[16]) {
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

/// Panels [p_begin, p_end) of fk_gemm_pack_oi, 16 × 16 blocks at a time.
static void fk_pack_oi_avx512(const float *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in,
                              float *packed, ptrdiff_t p_begin, ptrdiff_t p_end) {
    for (ptrdiff_t p = p_begin; p < p_end; p++) {
        const ptrdiff_t rows = out - p * 16 < 16 ? out - p * 16 : 16;
        float *dst = packed + p * in * 16;
        for (ptrdiff_t k = 0; k < in; k += 16) {
            const ptrdiff_t cols = in - k < 16 ? in - k : 16;
            const __mmask16 m = (__mmask16)((1u << cols) - 1u);
            __m512 r[16];
            for (int c = 0; c < 16; c++)
                r[c] = c < rows ? _mm512_maskz_loadu_ps(m, w + (p * 16 + c) * ldw + k) : _mm512_setzero_ps();
            fk_transpose16(r);
            for (ptrdiff_t i = 0; i < cols; i++) _mm512_storeu_ps(dst + (k + i) * 16, r[i]);
        }
    }
}

#pragma clang attribute pop

void fk_gemm_pack_oi_panels(const float *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in,
                            float *packed, ptrdiff_t panel_begin, ptrdiff_t panel_end) {
    if (ldw < in)
        fk_fail(__func__, "row stride ldw = %td is below in = %td", ldw, in);
    const ptrdiff_t panels = fk_gemm_packed_count(in, out) / (16 * in);
    if (panel_begin < 0 || panel_end < panel_begin || panel_end > panels)
        fk_fail(__func__, "panel range [%td, %td) is not inside [0, %td)", panel_begin, panel_end, panels);
    if (fk_cpu_level_current() == FK_CPU_AVX512)
        fk_pack_oi_avx512(w, ldw, out, in, packed, panel_begin, panel_end);
    else
        fk_pack_oi_scalar(w, ldw, out, in, packed, panel_begin, panel_end);
}

void fk_gemm_pack_oi(const float *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in, float *packed) {
    fk_gemm_pack_oi_panels(w, ldw, out, in, packed, 0, fk_gemm_packed_count(in, out) / (16 * in));
}

void fk_gemm_pack_io_panels(const float *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out,
                            float *packed, ptrdiff_t panel_begin, ptrdiff_t panel_end) {
    if (ldb < out)
        fk_fail(__func__, "row stride ldb = %td is below out = %td", ldb, out);
    const ptrdiff_t panels = fk_gemm_packed_count(in, out) / (16 * in);
    if (panel_begin < 0 || panel_end < panel_begin || panel_end > panels)
        fk_fail(__func__, "panel range [%td, %td) is not inside [0, %td)", panel_begin, panel_end, panels);
    for (ptrdiff_t p = panel_begin; p < panel_end; p++) {
        const ptrdiff_t cols = out - p * 16 < 16 ? out - p * 16 : 16;
        for (ptrdiff_t k = 0; k < in; k++) {
            float *dst = packed + (p * in + k) * 16;
            const float *src = b + k * ldb + p * 16;
            for (ptrdiff_t c = 0; c < cols; c++) dst[c] = src[c];
            for (ptrdiff_t c = cols; c < 16; c++) dst[c] = 0.0f;
        }
    }
}

void fk_gemm_pack_io(const float *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out, float *packed) {
    fk_gemm_pack_io_panels(b, ldb, in, out, packed, 0, fk_gemm_packed_count(in, out) / (16 * in));
}
