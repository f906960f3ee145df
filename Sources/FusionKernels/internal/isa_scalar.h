// The 16-lane vector layer in portable C: the reference semantics that the AVX2
// and AVX-512 layers reproduce bit for bit. Included once, by isa/kernels_scalar.c,
// before the op bodies. Every lane operation is one IEEE-754 single-precision
// operation in round-to-nearest-even:
// - v16_fma(a, b, c) = a·b + c rounded once (fmaf);
// - v16_max(a, b) = a > b ? a : b and v16_min(a, b) = a < b ? a : b (x86 MAXPS/MINPS:
//   the second operand when either is NaN);
// - v16_round: to nearest, ties to even; v16_floor: towards −∞;
// - v16_pow2i(n) = 2^n for an integral n in [−126, 127], built from exponent bits;
// - v16_load_m / v16_store_m touch only the lanes in the mask; masked-off lanes load +0;
// - v16_hsum / v16_hmax reduce with the fixed tree (i, i+8) → (i, i+4) → (i, i+2) → (0, 1).
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FK_SFX scalar

#define FK_V16_INLINE static inline __attribute__((always_inline))

typedef struct { float v[16]; } v16;
typedef struct { uint32_t bits; } v16m;

FK_V16_INLINE v16 v16_zero(void) { v16 r; for (int i = 0; i < 16; i++) r.v[i] = 0.0f; return r; }
FK_V16_INLINE v16 v16_set1(float a) { v16 r; for (int i = 0; i < 16; i++) r.v[i] = a; return r; }
FK_V16_INLINE v16 v16_load(const float *p) { v16 r; memcpy(r.v, p, sizeof r.v); return r; }
FK_V16_INLINE void v16_store(float *p, v16 v) { memcpy(p, v.v, sizeof v.v); }

FK_V16_INLINE v16m v16m_range(ptrdiff_t lo, ptrdiff_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    v16m m = {0};
    if (hi > lo) m.bits = ((1u << hi) - 1u) & ~((1u << lo) - 1u);
    return m;
}
FK_V16_INLINE v16m v16m_first(ptrdiff_t n) { return v16m_range(0, n); }
FK_V16_INLINE v16 v16_load_m(const float *p, v16m m) {
    v16 r;
    for (int i = 0; i < 16; i++) r.v[i] = ((m.bits >> i) & 1u) ? p[i] : 0.0f;
    return r;
}
FK_V16_INLINE void v16_store_m(float *p, v16 v, v16m m) {
    for (int i = 0; i < 16; i++)
        if ((m.bits >> i) & 1u) p[i] = v.v[i];
}

#define FK_V16_LANES(name, expr)                                  \
    FK_V16_INLINE v16 name(v16 a, v16 b) {                        \
        v16 r;                                                    \
        for (int i = 0; i < 16; i++) {                            \
            float x = a.v[i], y = b.v[i];                         \
            r.v[i] = (expr);                                      \
        }                                                         \
        return r;                                                 \
    }
FK_V16_LANES(v16_add, x + y)
FK_V16_LANES(v16_sub, x - y)
FK_V16_LANES(v16_mul, x * y)
FK_V16_LANES(v16_div, x / y)
FK_V16_LANES(v16_max, x > y ? x : y)
FK_V16_LANES(v16_min, x < y ? x : y)
#undef FK_V16_LANES

FK_V16_INLINE v16 v16_fma(v16 a, v16 b, v16 c) {
    v16 r;
    for (int i = 0; i < 16; i++) r.v[i] = fmaf(a.v[i], b.v[i], c.v[i]);
    return r;
}
FK_V16_INLINE v16 v16_abs(v16 a) { v16 r; for (int i = 0; i < 16; i++) r.v[i] = fabsf(a.v[i]); return r; }
FK_V16_INLINE v16 v16_round(v16 a) { v16 r; for (int i = 0; i < 16; i++) r.v[i] = nearbyintf(a.v[i]); return r; }
FK_V16_INLINE v16 v16_floor(v16 a) { v16 r; for (int i = 0; i < 16; i++) r.v[i] = floorf(a.v[i]); return r; }
FK_V16_INLINE v16 v16_pow2i(v16 n) {
    v16 r;
    for (int i = 0; i < 16; i++) {
        uint32_t bits = (uint32_t)((int32_t)n.v[i] + 127) << 23;
        memcpy(&r.v[i], &bits, sizeof bits);
    }
    return r;
}
FK_V16_INLINE v16m v16_lt(v16 a, v16 b) {
    v16m m = {0};
    for (int i = 0; i < 16; i++)
        if (a.v[i] < b.v[i]) m.bits |= 1u << i;
    return m;
}
FK_V16_INLINE v16m v16_isnan(v16 a) {
    v16m m = {0};
    for (int i = 0; i < 16; i++)
        if (a.v[i] != a.v[i]) m.bits |= 1u << i;
    return m;
}
FK_V16_INLINE v16 v16_select(v16m m, v16 a, v16 b) {
    v16 r;
    for (int i = 0; i < 16; i++) r.v[i] = ((m.bits >> i) & 1u) ? a.v[i] : b.v[i];
    return r;
}

FK_V16_INLINE float v16_hsum(v16 v) {
    float a[8], b[4], c[2];
    for (int i = 0; i < 8; i++) a[i] = v.v[i] + v.v[i + 8];
    for (int i = 0; i < 4; i++) b[i] = a[i] + a[i + 4];
    for (int i = 0; i < 2; i++) c[i] = b[i] + b[i + 2];
    return c[0] + c[1];
}
FK_V16_INLINE float v16_hmax(v16 v) {
    float a[8], b[4], c[2];
    for (int i = 0; i < 8; i++) a[i] = v.v[i] > v.v[i + 8] ? v.v[i] : v.v[i + 8];
    for (int i = 0; i < 4; i++) b[i] = a[i] > a[i + 4] ? a[i] : a[i + 4];
    for (int i = 0; i < 2; i++) c[i] = b[i] > b[i + 2] ? b[i] : b[i + 2];
    return c[0] > c[1] ? c[0] : c[1];
}

/// Transposes 16 vectors in place: r[k] lane c = old r[c] lane k.
FK_V16_INLINE void v16_transpose16(v16 r[16]) {
    for (int i = 0; i < 16; i++)
        for (int j = i + 1; j < 16; j++) {
            float t = r[i].v[j];
            r[i].v[j] = r[j].v[i];
            r[j].v[i] = t;
        }
}

// Register tiles (results do not depend on them).
#define FK_GEMM_MR 2
#define FK_GEMM_NV 1
#define FK_SCORES_ROWS 1
#define FK_SCORES_HEADS 2
#define FK_WSUM_HEADS 2
#define FK_WSUM_NV 1
#define FK_UNPACKED_ROWS 1   // rows per unpacked-GEMM pass
#define FK_UNPACKED_PANELS 2 // 16-column panels per unpacked-GEMM pass
#define FK_IO_ROWS 1         // rows per fk_gemm_io pass
#define FK_IO_PANELS 2       // 16-column panels per fk_gemm_io pass
