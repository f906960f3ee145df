// Elementwise maps for one instruction set (included by isa/kernels_<isa>.c):
// fk_activate, fk_exp and fk_erf, sixteen lanes at a time with a masked tail. Lane
// results do not depend on a lane's position.

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

#undef FK_MAP_LOOP
