// fk_gemm_io for one instruction set (included by isa/kernels_<isa>.c): Y = act(X·(s·B) + bias)
// straight from an (in × out) row-major B. Row k of B holds the weights of input k for all
// outputs, so 16 consecutive outputs are one vector load: no transpose, no packing.

/// Rows [r0, r0 + nr) × panels [p0, p0 + np): per k, np vectors of row k of B (scaled when s ≠ 1)
/// feed nr·np independent accumulator chains, exactly the chain fk_gemm runs on the packed copy.
FK_V16_INLINE void FK_FN(io_pass)(const fk_gemm_io_args *g, ptrdiff_t p0, ptrdiff_t r0,
                                  const v16m *mask, const int nr, const int np) {
    // Per panel, the lanes inside [col_begin, col_end): full panels load 16 floats at once.
    ptrdiff_t lane_lo[FK_IO_PANELS], lane_hi[FK_IO_PANELS];
    int full[FK_IO_PANELS];
    for (int q = 0; q < np; q++) {
        const ptrdiff_t col = (p0 + q) * 16;
        lane_lo[q] = g->col_begin > col ? g->col_begin - col : 0;
        lane_hi[q] = g->col_end - col < 16 ? g->col_end - col : 16;
        full[q] = lane_lo[q] == 0 && lane_hi[q] == 16;
    }
    v16 acc[FK_IO_ROWS][FK_IO_PANELS];
    for (int i = 0; i < nr; i++)
        for (int q = 0; q < np; q++) acc[i][q] = v16_zero();
    const int scaled = g->scale != 1.0f;
    const v16 s = v16_set1(g->scale);
    const unsigned char *column = g->b + p0 * 16 * (ptrdiff_t)sizeof(float);
    for (ptrdiff_t k = 0; k < g->in; k++) {
        v16 w[FK_IO_PANELS];
        for (int q = 0; q < np; q++) {
            // Columns outside the range load as zero, as fk_gemm_pack_io pads those past `out`.
            const unsigned char *at = column + (k * g->ldb + q * 16) * (ptrdiff_t)sizeof(float);
            w[q] = full[q] ? v16_load_bytes(at) : v16_load_bytes_range(at, lane_lo[q], lane_hi[q]);
            if (scaled) w[q] = v16_mul(w[q], s);
        }
        for (int i = 0; i < nr; i++) {
            const v16 a = v16_set1(g->x[(r0 + i) * g->ldx + k]);
            for (int q = 0; q < np; q++) acc[i][q] = v16_fma(a, w[q], acc[i][q]);
        }
    }
    for (int q = 0; q < np; q++) {
        const v16 bias = g->bias ? v16_load_m(g->bias + (p0 + q) * 16, mask[q]) : v16_zero();
        for (int i = 0; i < nr; i++) {
            v16 v = g->bias ? v16_add(acc[i][q], bias) : acc[i][q];
            if (g->act != FK_ACT_NONE) v = v16_activate(g->act, v);
            v16_store_m(g->y + (r0 + i) * g->ldy + (p0 + q) * 16, v, mask[q]);
        }
    }
}

typedef void (*FK_FN(io_pass_fn))(const fk_gemm_io_args *, ptrdiff_t, ptrdiff_t, const v16m *);
#define FK_IO_PASS(NR_, NP_)                                                                     \
    static void FK_FN(io_pass_##NR_##_##NP_)(const fk_gemm_io_args *g, ptrdiff_t p0, ptrdiff_t r0, \
                                             const v16m *mask) {                                 \
        FK_FN(io_pass)(g, p0, r0, mask, NR_, NP_);                                               \
    }
#if FK_IO_ROWS == 1 && FK_IO_PANELS == 2
FK_IO_PASS(1, 1) FK_IO_PASS(1, 2)
static const FK_FN(io_pass_fn) FK_FN(io_passes)[1][2] = {{FK_FN(io_pass_1_1), FK_FN(io_pass_1_2)}};
#elif FK_IO_ROWS == 2 && FK_IO_PANELS == 2
FK_IO_PASS(1, 1) FK_IO_PASS(1, 2) FK_IO_PASS(2, 1) FK_IO_PASS(2, 2)
static const FK_FN(io_pass_fn) FK_FN(io_passes)[2][2] = {
    {FK_FN(io_pass_1_1), FK_FN(io_pass_1_2)}, {FK_FN(io_pass_2_1), FK_FN(io_pass_2_2)}};
#elif FK_IO_ROWS == 4 && FK_IO_PANELS == 4
#define FK_IO_ROW(NR_) FK_IO_PASS(NR_, 1) FK_IO_PASS(NR_, 2) FK_IO_PASS(NR_, 3) FK_IO_PASS(NR_, 4)
FK_IO_ROW(1) FK_IO_ROW(2) FK_IO_ROW(3) FK_IO_ROW(4)
#undef FK_IO_ROW
#define FK_IO_FNS(NR_) {FK_FN(io_pass_##NR_##_1), FK_FN(io_pass_##NR_##_2), \
                        FK_FN(io_pass_##NR_##_3), FK_FN(io_pass_##NR_##_4)}
static const FK_FN(io_pass_fn) FK_FN(io_passes)[4][4] = {
    FK_IO_FNS(1), FK_IO_FNS(2), FK_IO_FNS(3), FK_IO_FNS(4)};
#undef FK_IO_FNS
#else
#error "unsupported FK_IO_ROWS × FK_IO_PANELS"
#endif
#undef FK_IO_PASS

void FK_FN(fk_gemm_io)(const fk_gemm_io_args *g) {
    const ptrdiff_t p_begin = g->col_begin / 16, p_end = (g->col_end + 15) / 16;
    for (ptrdiff_t p = p_begin; p < p_end; p += FK_IO_PANELS) {
        const ptrdiff_t np = p_end - p < FK_IO_PANELS ? p_end - p : FK_IO_PANELS;
        v16m mask[FK_IO_PANELS];
        for (ptrdiff_t q = 0; q < np; q++) {
            // Lanes outside [col_begin, col_end) are neither read from B nor written to Y.
            mask[q] = v16m_range(g->col_begin - (p + q) * 16, g->col_end - (p + q) * 16);
        }
        for (ptrdiff_t r = g->row_begin; r < g->row_end; r += FK_IO_ROWS) {
            const ptrdiff_t nr = g->row_end - r < FK_IO_ROWS ? g->row_end - r : FK_IO_ROWS;
            FK_FN(io_passes)[nr - 1][np - 1](g, p, r, mask);
        }
    }
}
