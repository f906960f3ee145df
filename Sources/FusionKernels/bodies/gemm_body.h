// fk_gemm for one instruction set (included by isa/kernels_<isa>.c).
//
// Y[r][o] = act(chain_k fma(x[r][k], W[o][k], ·) + bias[o]) over a block of rows and
// columns. The packed weight holds panels of 16 output columns, k-major inside a
// panel (packed[(p·in + k)·16 + c]). A register tile covers mr ≤ FK_GEMM_MR rows and
// nv ≤ FK_GEMM_NV panels; its accumulators run the chain over a block of at most
// FK_GEMM_KC values of k, are stored to Y between blocks (exactly, as floats) and
// reloaded, so blocking never changes an element's chain. Edge tiles are the same
// code with smaller constant mr/nv and masked loads and stores of Y and the bias.

#define FK_GEMM_KC 256  // k values per block (B block KC × 16·FK_GEMM_NCB floats)
#define FK_GEMM_NCB 16  // panels per column block
#if FK_GEMM_KC * 16 * FK_GEMM_NCB != FK_GEMM_BLOCK_FLOATS
#error "FK_GEMM_BLOCK_FLOATS must hold one KC × NCB block of panels"
#endif

FK_V16_INLINE void FK_FN(gemm_tile_body)(const float *x, ptrdiff_t ldx, const float *b,
                                         ptrdiff_t pstride, ptrdiff_t kn, int first, int last,
                                         const float *bias, int act, float *y, ptrdiff_t ldy,
                                         const v16m *mask, const int mr, const int nv) {
    v16 acc[FK_GEMM_MR][FK_GEMM_NV];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++)
            acc[i][v] = first ? v16_zero() : v16_load_m(y + i * ldy + 16 * v, mask[v]);
    for (ptrdiff_t k = 0; k < kn; k++) {
        v16 bv[FK_GEMM_NV];
        for (int v = 0; v < nv; v++) bv[v] = v16_load(b + v * pstride + 16 * k);
        for (int i = 0; i < mr; i++) {
            v16 a = v16_set1(x[i * ldx + k]);
            for (int v = 0; v < nv; v++) acc[i][v] = v16_fma(a, bv[v], acc[i][v]);
        }
    }
    if (last) {
        if (bias) {
            for (int v = 0; v < nv; v++) {
                v16 bb = v16_load_m(bias + 16 * v, mask[v]);
                for (int i = 0; i < mr; i++) acc[i][v] = v16_add(acc[i][v], bb);
            }
        }
        if (act != FK_ACT_NONE)
            for (int i = 0; i < mr; i++)
                for (int v = 0; v < nv; v++) acc[i][v] = v16_activate(act, acc[i][v]);
    }
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++) v16_store_m(y + i * ldy + 16 * v, acc[i][v], mask[v]);
}

typedef void (*FK_FN(gemm_tile_fn))(const float *, ptrdiff_t, const float *, ptrdiff_t,
                                     ptrdiff_t, int, int, const float *, int, float *,
                                     ptrdiff_t, const v16m *);

#define FK_GEMM_TILE(MR_, NV_)                                                              \
    static void FK_FN(gemm_tile_##MR_##_##NV_)(const float *x, ptrdiff_t ldx, const float *b, \
                                                ptrdiff_t pstride, ptrdiff_t kn, int first,  \
                                                int last, const float *bias, int act, float *y, \
                                                ptrdiff_t ldy, const v16m *mask) {           \
        FK_FN(gemm_tile_body)(x, ldx, b, pstride, kn, first, last, bias, act, y, ldy, mask,  \
                              MR_, NV_);                                                     \
    }
// Instances for every (mr, nv) up to this instruction set's tile, in a table.
#if FK_GEMM_MR > 8 || FK_GEMM_NV > 4
#error "gemm tile table covers at most 8 rows and 4 vectors"
#endif
#if FK_GEMM_NV >= 2
#define FK_GEMM_TILE_NV2(MR_) FK_GEMM_TILE(MR_, 2)
#define FK_GEMM_FN_NV2(MR_) , FK_FN(gemm_tile_##MR_##_2)
#else
#define FK_GEMM_TILE_NV2(MR_)
#define FK_GEMM_FN_NV2(MR_)
#endif
#if FK_GEMM_NV >= 3
#define FK_GEMM_TILE_NV3(MR_) FK_GEMM_TILE(MR_, 3)
#define FK_GEMM_FN_NV3(MR_) , FK_FN(gemm_tile_##MR_##_3)
#else
#define FK_GEMM_TILE_NV3(MR_)
#define FK_GEMM_FN_NV3(MR_)
#endif
#if FK_GEMM_NV >= 4
#define FK_GEMM_TILE_NV4(MR_) FK_GEMM_TILE(MR_, 4)
#define FK_GEMM_FN_NV4(MR_) , FK_FN(gemm_tile_##MR_##_4)
#else
#define FK_GEMM_TILE_NV4(MR_)
#define FK_GEMM_FN_NV4(MR_)
#endif
#define FK_GEMM_TILE_ROW(MR_) \
    FK_GEMM_TILE(MR_, 1) FK_GEMM_TILE_NV2(MR_) FK_GEMM_TILE_NV3(MR_) FK_GEMM_TILE_NV4(MR_)
#define FK_GEMM_FN_ROW(MR_) \
    {FK_FN(gemm_tile_##MR_##_1) FK_GEMM_FN_NV2(MR_) FK_GEMM_FN_NV3(MR_) FK_GEMM_FN_NV4(MR_)},

FK_GEMM_TILE_ROW(1)
#if FK_GEMM_MR >= 2
FK_GEMM_TILE_ROW(2)
#endif
#if FK_GEMM_MR >= 3
FK_GEMM_TILE_ROW(3)
#endif
#if FK_GEMM_MR >= 4
FK_GEMM_TILE_ROW(4)
#endif
#if FK_GEMM_MR >= 5
FK_GEMM_TILE_ROW(5)
#endif
#if FK_GEMM_MR >= 6
FK_GEMM_TILE_ROW(6)
#endif
#if FK_GEMM_MR >= 7
FK_GEMM_TILE_ROW(7)
#endif
#if FK_GEMM_MR >= 8
FK_GEMM_TILE_ROW(8)
#endif

static const FK_FN(gemm_tile_fn) FK_FN(gemm_tiles)[FK_GEMM_MR][FK_GEMM_NV] = {
    FK_GEMM_FN_ROW(1)
#if FK_GEMM_MR >= 2
    FK_GEMM_FN_ROW(2)
#endif
#if FK_GEMM_MR >= 3
    FK_GEMM_FN_ROW(3)
#endif
#if FK_GEMM_MR >= 4
    FK_GEMM_FN_ROW(4)
#endif
#if FK_GEMM_MR >= 5
    FK_GEMM_FN_ROW(5)
#endif
#if FK_GEMM_MR >= 6
    FK_GEMM_FN_ROW(6)
#endif
#if FK_GEMM_MR >= 7
    FK_GEMM_FN_ROW(7)
#endif
#if FK_GEMM_MR >= 8
    FK_GEMM_FN_ROW(8)
#endif
};
#undef FK_GEMM_TILE
#undef FK_GEMM_TILE_ROW
#undef FK_GEMM_FN_ROW
#undef FK_GEMM_TILE_NV2
#undef FK_GEMM_TILE_NV3
#undef FK_GEMM_TILE_NV4
#undef FK_GEMM_FN_NV2
#undef FK_GEMM_FN_NV3
#undef FK_GEMM_FN_NV4

/// One k block (values [k0, k0 + kn)) of panels [pb, pe) over rows [row_begin, row_end): every
/// register tile of fk_gemm, with panel p's packed values for this block at b0 + (p − pb)·pstride
/// (k-major, 16 floats per k). `first`/`last`: the block starts/ends the chain over k.
static void FK_FN(gemm_block)(const float *x, ptrdiff_t ldx, ptrdiff_t k0, const float *b0, ptrdiff_t pstride,
                              ptrdiff_t kn, int first, int last, const float *bias, int act, float *y,
                              ptrdiff_t ldy, ptrdiff_t row_begin, ptrdiff_t row_end, ptrdiff_t pb, ptrdiff_t pe,
                              ptrdiff_t col_begin, ptrdiff_t col_end) {
    for (ptrdiff_t r = row_begin; r < row_end; r += FK_GEMM_MR) {
        const ptrdiff_t mr = row_end - r < FK_GEMM_MR ? row_end - r : FK_GEMM_MR;
        for (ptrdiff_t p = pb; p < pe; p += FK_GEMM_NV) {
            const ptrdiff_t nv = pe - p < FK_GEMM_NV ? pe - p : FK_GEMM_NV;
            v16m mask[FK_GEMM_NV];
            for (ptrdiff_t v = 0; v < nv; v++) {
                const ptrdiff_t col = (p + v) * 16;
                mask[v] = v16m_range(col_begin - col, col_end - col);
            }
            FK_FN(gemm_tiles)[mr - 1][nv - 1](
                x + r * ldx + k0, ldx, b0 + (p - pb) * pstride, pstride, kn, first, last,
                bias ? bias + p * 16 : NULL, act, y + r * ldy + p * 16, ldy, mask);
        }
    }
}

void FK_FN(fk_gemm)(const fk_gemm_args *g) {
    const ptrdiff_t in = g->in, pstride = in * 16;
    const ptrdiff_t p_begin = g->col_begin / 16, p_end = (g->col_end + 15) / 16;
    if (g->row_begin >= g->row_end || p_begin >= p_end) return;
    for (ptrdiff_t pb = p_begin; pb < p_end; pb += FK_GEMM_NCB) {
        const ptrdiff_t pe = pb + FK_GEMM_NCB < p_end ? pb + FK_GEMM_NCB : p_end;
        for (ptrdiff_t k0 = 0; k0 < in; k0 += FK_GEMM_KC) {
            const ptrdiff_t kn = in - k0 < FK_GEMM_KC ? in - k0 : FK_GEMM_KC;
            FK_FN(gemm_block)(g->x, g->ldx, k0, g->packed + pb * pstride + k0 * 16, pstride, kn, k0 == 0,
                              k0 + kn == in, g->bias, g->act, g->y, g->ldy, g->row_begin, g->row_end, pb, pe,
                              g->col_begin, g->col_end);
        }
    }
}
