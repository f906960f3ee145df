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
