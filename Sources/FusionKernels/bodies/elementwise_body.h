// fk_add and fk_bias_add for one instruction set (included by isa/kernels_<isa>.c):
// exact lane-wise sums, sixteen lanes at a time with a masked tail.

void FK_FN(fk_add)(const float *a, const float *b, float *y, ptrdiff_t n) {
    for (ptrdiff_t j = 0; j < n; j += 16) {
        if (j + 16 <= n) {
            v16_store(y + j, v16_add(v16_load(a + j), v16_load(b + j)));
        } else {
            v16m m = v16m_first(n - j);
            v16_store_m(y + j, v16_add(v16_load_m(a + j, m), v16_load_m(b + j, m)), m);
        }
    }
}

void FK_FN(fk_bias_add)(float *y, ptrdiff_t ldy, ptrdiff_t rows, ptrdiff_t n, const float *bias) {
    for (ptrdiff_t r = 0; r < rows; r++) FK_FN(fk_add)(y + r * ldy, bias, y + r * ldy, n);
}

ptrdiff_t FK_FN(fk_first_nonfinite)(const unsigned char *x, ptrdiff_t n) {
    // x·0 is ±0 for a finite x and NaN for ±Inf or NaN; the sum of those stays ±0 unless one is NaN.
    const v16 zero = v16_zero();
    v16 acc = zero;
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16)
        acc = v16_add(acc, v16_mul(v16_load_bytes(x + j * (ptrdiff_t)sizeof(float)), zero));
    if (j < n) acc = v16_add(acc, v16_mul(v16_load_bytes_range(x + j * (ptrdiff_t)sizeof(float), 0, n - j), zero));
    const float any = v16_hsum(acc);
    if (any == any) return -1;
    for (ptrdiff_t i = 0; i < n; i++) {
        float v;
        memcpy(&v, x + i * (ptrdiff_t)sizeof(float), sizeof v);
        if (v - v != 0.0f || v != v) return i;
    }
    return -1;
}
