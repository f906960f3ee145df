// Transcendental functions and activations on the 16-lane layer, written once
// for every instruction set (included after an isa_*.h header). Each is a fixed
// sequence of lane operations, so all paths give the same bits.
#ifndef FK_SFX
#error "include an isa_*.h header first"
#endif

#define FK_CAT2(a, b) a##_##b
#define FK_CAT(a, b) FK_CAT2(a, b)
/// The name of this instruction set's variant of `name`, e.g. fk_gemm_avx512.
#define FK_FN(name) FK_CAT(name, FK_SFX)

/// exp(x): x = n·ln2 + r with n = round(x·log2 e) and r reduced in two steps
/// (Cephes constants C1 = 0.693359375, C2 = −2.12194440e−4), e^r ≈ 1 + r + r²·P(r)
/// with Cephes' degree-5 P, then scaled by 2^⌊n/2⌋·2^(n−⌊n/2⌋) (two exact-range
/// multiplications, so denormal results round once and overflow gives +inf).
/// x < −104 gives +0 and NaN gives NaN.
FK_V16_INLINE v16 v16_exp(v16 x) {
    v16 xc = v16_min(v16_max(x, v16_set1(-104.0f)), v16_set1(88.75f));
    v16 n = v16_round(v16_mul(xc, v16_set1(1.44269504088896341f)));
    v16 r = v16_fma(n, v16_set1(-0.693359375f), xc);
    r = v16_fma(n, v16_set1(2.12194440e-4f), r);
    v16 p = v16_set1(1.9875691500e-4f);
    p = v16_fma(p, r, v16_set1(1.3981999507e-3f));
    p = v16_fma(p, r, v16_set1(8.3334519073e-3f));
    p = v16_fma(p, r, v16_set1(4.1665795894e-2f));
    p = v16_fma(p, r, v16_set1(1.6666665459e-1f));
    p = v16_fma(p, r, v16_set1(5.0000001201e-1f));
    v16 y = v16_add(v16_fma(p, v16_mul(r, r), r), v16_set1(1.0f));
    v16 n1 = v16_floor(v16_mul(n, v16_set1(0.5f)));
    v16 n2 = v16_sub(n, n1);
    y = v16_mul(v16_mul(y, v16_pow2i(n1)), v16_pow2i(n2));
    y = v16_select(v16_lt(x, v16_set1(-104.0f)), v16_zero(), y);
    return v16_select(v16_isnan(x), x, y);
}

/// erfc(z) for z ≥ 0 (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7):
/// t = 1/(1 + z/2); erfc = t·exp(−z² + Q(t)), Q of degree 9, Horner with fma,
/// −z² + Q as one fma.
FK_V16_INLINE v16 v16_erfc_nonneg(v16 z) {
    v16 t = v16_div(v16_set1(1.0f), v16_fma(z, v16_set1(0.5f), v16_set1(1.0f)));
    v16 q = v16_set1(0.17087277f);
    q = v16_fma(q, t, v16_set1(-0.82215223f));
    q = v16_fma(q, t, v16_set1(1.48851587f));
    q = v16_fma(q, t, v16_set1(-1.13520398f));
    q = v16_fma(q, t, v16_set1(0.27886807f));
    q = v16_fma(q, t, v16_set1(-0.18628806f));
    q = v16_fma(q, t, v16_set1(0.09678418f));
    q = v16_fma(q, t, v16_set1(0.37409196f));
    q = v16_fma(q, t, v16_set1(1.00002368f));
    q = v16_fma(q, t, v16_set1(-1.26551223f));
    v16 arg = v16_fma(v16_sub(v16_zero(), z), z, q);
    return v16_mul(t, v16_exp(arg));
}

/// erf(x): x·P(x²) (Taylor, degree 11) for |x| < 0.5, else ±(1 − erfc(|x|)).
FK_V16_INLINE v16 v16_erf(v16 x) {
    v16 ax = v16_abs(x);
    v16 x2 = v16_mul(x, x);
    v16 s = v16_set1(-8.5483270e-4f);
    s = v16_fma(s, x2, v16_set1(5.2239776e-3f));
    s = v16_fma(s, x2, v16_set1(-2.6866170e-2f));
    s = v16_fma(s, x2, v16_set1(1.1283792e-1f));
    s = v16_fma(s, x2, v16_set1(-3.7612639e-1f));
    s = v16_fma(s, x2, v16_set1(1.1283792f));
    v16 small = v16_mul(x, s);
    v16 big = v16_sub(v16_set1(1.0f), v16_erfc_nonneg(ax));
    big = v16_select(v16_lt(x, v16_zero()), v16_sub(v16_zero(), big), big);
    return v16_select(v16_lt(ax, v16_set1(0.5f)), small, big);
}

/// Exact GELU: x·Φ(x) = ½x·erfc(|x|/√2) for x < 0, x − ½x·erfc(x/√2) for x ≥ 0.
FK_V16_INLINE v16 v16_gelu(v16 x) {
    v16 c = v16_erfc_nonneg(v16_mul(v16_abs(x), v16_set1(0.70710678118654752f)));
    v16 h = v16_mul(x, v16_set1(0.5f));
    v16 neg = v16_mul(h, c);
    v16 pos = v16_fma(v16_sub(v16_zero(), h), c, x);
    return v16_select(v16_lt(x, v16_zero()), neg, pos);
}

/// tanh-approximated GELU: x / (1 + exp(−2√(2/π)·(x + 0.044715x³))).
FK_V16_INLINE v16 v16_gelu_tanh(v16 x) {
    v16 x3 = v16_mul(v16_mul(x, x), x);
    v16 inner = v16_fma(v16_set1(0.044715f), x3, x);
    v16 e = v16_exp(v16_mul(inner, v16_set1(-1.5957691216057308f)));
    return v16_div(x, v16_add(v16_set1(1.0f), e));
}

/// ReLU: x < 0 ? 0 : x (NaN passes through).
FK_V16_INLINE v16 v16_relu(v16 x) {
    return v16_select(v16_lt(x, v16_zero()), v16_zero(), x);
}

/// Applies `act` (an fk_activation) to one vector.
FK_V16_INLINE v16 v16_activate(int act, v16 x) {
    switch (act) {
    case FK_ACT_RELU: return v16_relu(x);
    case FK_ACT_GELU: return v16_gelu(x);
    case FK_ACT_GELU_TANH: return v16_gelu_tanh(x);
    default: return x;
    }
}
