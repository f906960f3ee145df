// fk_softmax for one instruction set (included by isa/kernels_<isa>.c): vector max,
// vector exp, a sequential sum in increasing t, vector division, zeros when masked.

void FK_FN(fk_softmax)(const float *x, float *y, ptrdiff_t n_valid, ptrdiff_t n) {
    v16 mv = v16_set1(*x);
    for (ptrdiff_t t = 0; t < n_valid; t += 16) {
        v16m m = v16m_first(n_valid - t);
        // Masked-off lanes repeat x[0], which cannot change the maximum.
        mv = v16_max(mv, v16_select(m, v16_load_m(x + t, m), v16_set1(*x)));
    }
    const v16 mx = v16_set1(v16_hmax(mv));
    for (ptrdiff_t t = 0; t < n_valid; t += 16) {
        v16m m = v16m_first(n_valid - t);
        v16_store_m(y + t, v16_exp(v16_sub(v16_load_m(x + t, m), mx)), m);
    }
    float sum = 0.0f;
    for (ptrdiff_t t = 0; t < n_valid; t++) sum += y[t];
    const v16 sv = v16_set1(sum);
    for (ptrdiff_t t = 0; t < n_valid; t += 16) {
        v16m m = v16m_first(n_valid - t);
        v16_store_m(y + t, v16_div(v16_load_m(y + t, m), sv), m);
    }
    for (ptrdiff_t t = n_valid; t < n; t++) y[t] = 0.0f;
}
