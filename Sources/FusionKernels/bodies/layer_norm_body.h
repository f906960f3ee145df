// fk_layer_norm for one instruction set (included by isa/kernels_<isa>.c).
// Per row: mean and biased variance from sixteen lane chains and the fixed tree of
// v16_hsum, then y = fma((x − mean)·rstd, gamma, beta).

void FK_FN(fk_layer_norm)(const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy, ptrdiff_t rows,
                          ptrdiff_t n, const float *gamma, const float *beta, float eps) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        v16 acc = v16_zero();
        ptrdiff_t j = 0;
        for (; j + 16 <= n; j += 16) acc = v16_add(acc, v16_load(xr + j));
        if (j < n) acc = v16_add(acc, v16_load_m(xr + j, v16m_first(n - j)));
        const float mean = v16_hsum(acc) / (float)n;
        const v16 mv = v16_set1(mean);
        acc = v16_zero();
        for (j = 0; j + 16 <= n; j += 16) {
            v16 d = v16_sub(v16_load(xr + j), mv);
            acc = v16_fma(d, d, acc);
        }
        if (j < n) {
            v16m m = v16m_first(n - j);
            v16 d = v16_select(m, v16_sub(v16_load_m(xr + j, m), mv), v16_zero());
            acc = v16_fma(d, d, acc);
        }
        const float var = v16_hsum(acc) / (float)n;
        const v16 rstd = v16_set1(1.0f / sqrtf(var + eps));
        for (j = 0; j < n; j += 16) {
            v16m m = v16m_first(n - j);
            const int full = j + 16 <= n;
            v16 d = v16_sub(full ? v16_load(xr + j) : v16_load_m(xr + j, m), mv);
            v16 g = gamma ? (full ? v16_load(gamma + j) : v16_load_m(gamma + j, m)) : v16_set1(1.0f);
            v16 b = beta ? (full ? v16_load(beta + j) : v16_load_m(beta + j, m)) : v16_zero();
            v16 out = v16_fma(v16_mul(d, rstd), g, b);
            if (full) v16_store(yr + j, out);
            else v16_store_m(yr + j, out, m);
        }
    }
}
