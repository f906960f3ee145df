// fk_gemm_unpacked and the (out × in) weight packing for one instruction set
// (included by isa/kernels_<isa>.c). Both read 16 × 16 blocks of a PyTorch-layout
// weight and transpose them in registers: packing stores the transposed blocks;
// the unpacked GEMM feeds them straight into the same fma chains fk_gemm runs.

/// Loads the 16 × 16 block of w at rows [o0, o0 + 16) ∩ [0, out), columns
/// [k0, k0 + kc), zero elsewhere, and transposes it: r[kk] lane c = w[o0 + c][k0 + kk].
/// `w` is the weight's first byte (any address); `ldw` counts floats.
FK_V16_INLINE void FK_FN(load_block_transposed)(const unsigned char *w, ptrdiff_t ldw, ptrdiff_t o0,
                                                ptrdiff_t rows, ptrdiff_t k0, ptrdiff_t kc,
                                                v16 r[16]) {
    for (int c = 0; c < 16; c++) {
        const unsigned char *row = w + ((o0 + c) * ldw + k0) * (ptrdiff_t)sizeof(float);
        r[c] = c < rows ? (kc == 16 ? v16_load_bytes(row) : v16_load_bytes_range(row, 0, kc)) : v16_zero();
    }
    v16_transpose16(r);
}

void FK_FN(fk_pack_oi_panels)(const unsigned char *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in,
                              float *packed, ptrdiff_t p_begin, ptrdiff_t p_end) {
    for (ptrdiff_t p = p_begin; p < p_end; p++) {
        const ptrdiff_t rows = out - p * 16 < 16 ? out - p * 16 : 16;
        float *dst = packed + p * in * 16;
        for (ptrdiff_t k = 0; k < in; k += 16) {
            const ptrdiff_t kc = in - k < 16 ? in - k : 16;
            v16 r[16];
            FK_FN(load_block_transposed)(w, ldw, p * 16, rows, k, kc, r);
            for (ptrdiff_t i = 0; i < kc; i++) v16_store(dst + (k + i) * 16, r[i]);
        }
    }
}

/// Rows [r0, r0 + nr) × panels [p0, p0 + np): the transposed blocks of np panels feed
/// nr·np independent accumulator chains (one row alone still has np chains in flight).
FK_V16_INLINE void FK_FN(unpacked_pass)(const fk_gemm_args *g, ptrdiff_t p0, ptrdiff_t r0,
                                        const v16m *mask, const int nr, const int np) {
    const ptrdiff_t in = g->in;
    v16 acc[FK_UNPACKED_ROWS][FK_UNPACKED_PANELS];
    for (int i = 0; i < nr; i++)
        for (int q = 0; q < np; q++) acc[i][q] = v16_zero();
    ptrdiff_t k0 = 0;
    // Full blocks: the constant trip count keeps the transposed block in registers.
    for (; k0 + 16 <= in; k0 += 16) {
        v16 b[FK_UNPACKED_PANELS][16];
        for (int q = 0; q < np; q++) {
            const ptrdiff_t o0 = (p0 + q) * 16;
            FK_FN(load_block_transposed)(g->w, g->ldw, o0, g->out - o0 < 16 ? g->out - o0 : 16,
                                         k0, 16, b[q]);
        }
        for (int kk = 0; kk < 16; kk++)
            for (int i = 0; i < nr; i++) {
                const v16 a = v16_set1(g->x[(r0 + i) * g->ldx + k0 + kk]);
                for (int q = 0; q < np; q++) acc[i][q] = v16_fma(a, b[q][kk], acc[i][q]);
            }
    }
    if (k0 < in) {
        const ptrdiff_t kc = in - k0;
        v16 b[FK_UNPACKED_PANELS][16];
        for (int q = 0; q < np; q++) {
            const ptrdiff_t o0 = (p0 + q) * 16;
            FK_FN(load_block_transposed)(g->w, g->ldw, o0, g->out - o0 < 16 ? g->out - o0 : 16,
                                         k0, kc, b[q]);
        }
        for (ptrdiff_t kk = 0; kk < kc; kk++)
            for (int i = 0; i < nr; i++) {
                const v16 a = v16_set1(g->x[(r0 + i) * g->ldx + k0 + kk]);
                for (int q = 0; q < np; q++) acc[i][q] = v16_fma(a, b[q][kk], acc[i][q]);
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

typedef void (*FK_FN(unpacked_pass_fn))(const fk_gemm_args *, ptrdiff_t, ptrdiff_t, const v16m *);
#define FK_UNPACKED_PASS(NR_, NP_)                                                           \
    static void FK_FN(unpacked_pass_##NR_##_##NP_)(const fk_gemm_args *g, ptrdiff_t p0,       \
                                                   ptrdiff_t r0, const v16m *mask) {         \
        FK_FN(unpacked_pass)(g, p0, r0, mask, NR_, NP_);                                     \
    }
#if FK_UNPACKED_ROWS == 4 && FK_UNPACKED_PANELS == 1
FK_UNPACKED_PASS(1, 1) FK_UNPACKED_PASS(2, 1) FK_UNPACKED_PASS(3, 1) FK_UNPACKED_PASS(4, 1)
static const FK_FN(unpacked_pass_fn) FK_FN(unpacked_passes)[4][1] = {
    {FK_FN(unpacked_pass_1_1)}, {FK_FN(unpacked_pass_2_1)}, {FK_FN(unpacked_pass_3_1)},
    {FK_FN(unpacked_pass_4_1)}};
#elif FK_UNPACKED_ROWS == 1 && FK_UNPACKED_PANELS == 2
FK_UNPACKED_PASS(1, 1) FK_UNPACKED_PASS(1, 2)
static const FK_FN(unpacked_pass_fn) FK_FN(unpacked_passes)[1][2] = {
    {FK_FN(unpacked_pass_1_1), FK_FN(unpacked_pass_1_2)}};
#elif FK_UNPACKED_ROWS == 2 && FK_UNPACKED_PANELS == 2
FK_UNPACKED_PASS(1, 1) FK_UNPACKED_PASS(1, 2) FK_UNPACKED_PASS(2, 1) FK_UNPACKED_PASS(2, 2)
static const FK_FN(unpacked_pass_fn) FK_FN(unpacked_passes)[2][2] = {
    {FK_FN(unpacked_pass_1_1), FK_FN(unpacked_pass_1_2)},
    {FK_FN(unpacked_pass_2_1), FK_FN(unpacked_pass_2_2)}};
#else
#error "unsupported FK_UNPACKED_ROWS × FK_UNPACKED_PANELS"
#endif
#undef FK_UNPACKED_PASS

void FK_FN(fk_gemm_unpacked)(const fk_gemm_args *g) {
    const ptrdiff_t p_begin = g->col_begin / 16, p_end = (g->col_end + 15) / 16;
    for (ptrdiff_t p = p_begin; p < p_end; p += FK_UNPACKED_PANELS) {
        const ptrdiff_t np = p_end - p < FK_UNPACKED_PANELS ? p_end - p : FK_UNPACKED_PANELS;
        v16m mask[FK_UNPACKED_PANELS];
        for (ptrdiff_t q = 0; q < np; q++)
            mask[q] = v16m_range(g->col_begin - (p + q) * 16, g->col_end - (p + q) * 16);
        for (ptrdiff_t r = g->row_begin; r < g->row_end; r += FK_UNPACKED_ROWS) {
            const ptrdiff_t nr = g->row_end - r < FK_UNPACKED_ROWS ? g->row_end - r : FK_UNPACKED_ROWS;
            FK_FN(unpacked_passes)[nr - 1][np - 1](g, p, r, mask);
        }
    }
}

/// fk_gemm_inplace: fk_gemm's register tiles and k blocks, with the packed operand made block by
/// block from the weight as it lies (an nn.Linear (out × in) weight, transposed 16 × 16 in
/// registers, or an (in × out) matrix copied and scaled) into this thread's block buffer: each
/// KC × (16·NCB) block of panels is packed once per call and then used by every row tile of the
/// call, so no packed copy of the whole matrix is ever made. Every element's chain is fk_gemm's:
/// the same bits as fk_gemm on the fully packed copy.
void FK_FN(fk_gemm_inplace)(const fk_gemm_io_args *g) {
    const ptrdiff_t in = g->in;
    const ptrdiff_t p_begin = g->col_begin / 16, p_end = (g->col_end + 15) / 16;
    if (g->row_begin >= g->row_end || p_begin >= p_end) return;
    float *block = fk_gemm_block_buffer();
    for (ptrdiff_t pb = p_begin; pb < p_end; pb += FK_GEMM_NCB) {
        const ptrdiff_t pe = pb + FK_GEMM_NCB < p_end ? pb + FK_GEMM_NCB : p_end;
        for (ptrdiff_t k0 = 0; k0 < in; k0 += FK_GEMM_KC) {
            const ptrdiff_t kn = in - k0 < FK_GEMM_KC ? in - k0 : FK_GEMM_KC;
            const int first = k0 == 0, last = k0 + kn == in;
            // Pack panels [pb, pe) × k [k0, k0 + kn): panel p at block + (p − pb)·kn·16, k-major.
            for (ptrdiff_t p = pb; p < pe; p++) {
                float *dst = block + (p - pb) * kn * 16;
                const ptrdiff_t cols = g->out - p * 16 < 16 ? g->out - p * 16 : 16;
                if (g->transposed) {
                    for (ptrdiff_t k = 0; k < kn; k++) {
                        v16 v = v16_load_bytes_range(
                            g->b + ((k0 + k) * g->ldb + p * 16) * (ptrdiff_t)sizeof(float), 0, cols);
                        if (g->scale != 1.0f) v = v16_mul(v, v16_set1(g->scale));
                        v16_store(dst + k * 16, v);
                    }
                } else {
                    for (ptrdiff_t k = 0; k < kn; k += 16) {
                        const ptrdiff_t kc = kn - k < 16 ? kn - k : 16;
                        v16 r[16];
                        FK_FN(load_block_transposed)(g->b, g->ldb, p * 16, cols, k0 + k, kc, r);
                        for (ptrdiff_t i = 0; i < kc; i++) v16_store(dst + (k + i) * 16, r[i]);
                    }
                }
            }
            FK_FN(gemm_block)(g->x, g->ldx, k0, block, kn * 16, kn, first, last, g->bias, g->act, g->y, g->ldy,
                              g->row_begin, g->row_end, pb, pe, g->col_begin, g->col_end);
        }
    }
}
