// Elementwise maps for one instruction set (included by isa/kernels_<isa>.c):
// fk_activate, fk_exp, fk_erf, fk_add and fk_bias_add, sixteen lanes at a time with
// a masked tail. Lane results do not depend on a lane's position.

#define FK_MAP_LOOP(x, y, n, expr)                                      \
    for (ptrdiff_t j = 0; j < (n); j += 16) {                           \
        if (j + 16 <= (n)) {                                            \
            v16 v = v16_load((x) + j);                                  \
            v16_store((y) + j, (expr));                                 \
        } else {                                                        \
            v16m m = v16m_first((n) - j);                               \
            v16 v = v16_load_m((x) + j, m);                             \
            v16_store_m((y) + j, (expr), m);                            \
        }                                                               \
    }

void FK_FN(fk_activate)(fk_activation act, const float *x, float *y, ptrdiff_t n) {
    switch (act) {
    case FK_ACT_RELU: FK_MAP_LOOP(x, y, n, v16_relu(v)) break;
    case FK_ACT_GELU: FK_MAP_LOOP(x, y, n, v16_gelu(v)) break;
    case FK_ACT_GELU_TANH: FK_MAP_LOOP(x, y, n, v16_gelu_tanh(v)) break;
    default: FK_MAP_LOOP(x, y, n, v) break;
    }
}

void FK_FN(fk_exp)(const float *x, float *y, ptrdiff_t n) { FK_MAP_LOOP(x, y, n, v16_exp(v)) }

void FK_FN(fk_erf)(const float *x, float *y, ptrdiff_t n) { FK_MAP_LOOP(x, y, n, v16_erf(v)) }

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

#undef FK_MAP_LOOP
