// The attention kernels for one instruction set (included by isa/kernels_<isa>.c):
// scores s = I·Uᵀ, weighted sums z = Pᵀ·I, the fused chunk and the chunk merge.
// Tiles: scores take FK_SCORES_ROWS tokens × FK_SCORES_HEADS heads at a time (each
// token row loaded once per head group); weighted sums take FK_WSUM_HEADS heads ×
// FK_WSUM_NV 16-column vectors and run the chain over a block of FK_WSUM_TB tokens in
// registers, parking the partial sums in z (exactly) between blocks. Neither tile
// shape nor blocking affects any element's operations.

// ---- scores -------------------------------------------------------------------

FK_V16_INLINE void FK_FN(scores_tile_body)(const float *img, ptrdiff_t ldi, ptrdiff_t dim,
                                           const float *u, ptrdiff_t ldu, float *s,
                                           ptrdiff_t lds, const int nr, const int nh) {
    v16 acc[FK_SCORES_ROWS][FK_SCORES_HEADS];
    for (int r = 0; r < nr; r++)
        for (int h = 0; h < nh; h++) acc[r][h] = v16_zero();
    ptrdiff_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        v16 xv[FK_SCORES_ROWS];
        for (int r = 0; r < nr; r++) xv[r] = v16_load(img + r * ldi + j);
        // The rows four tiles ahead, one line per row and step, so that the streams from
        // memory start early enough to hide their latency. Prefetches never fault.
        for (int r = 0; r < nr; r++) fk_prefetch(img, (r + 4 * nr) * ldi + j);
        for (int h = 0; h < nh; h++) {
            v16 uv = v16_load(u + h * ldu + j);
            for (int r = 0; r < nr; r++) acc[r][h] = v16_fma(xv[r], uv, acc[r][h]);
        }
    }
    if (j < dim) {
        v16m m = v16m_first(dim - j);
        v16 xv[FK_SCORES_ROWS];
        for (int r = 0; r < nr; r++) xv[r] = v16_load_m(img + r * ldi + j, m);
        for (int h = 0; h < nh; h++) {
            v16 uv = v16_load_m(u + h * ldu + j, m);
            for (int r = 0; r < nr; r++) acc[r][h] = v16_fma(xv[r], uv, acc[r][h]);
        }
    }
    for (int r = 0; r < nr; r++)
        for (int h = 0; h < nh; h++) s[r * lds + h] = v16_hsum(acc[r][h]);
}

typedef void (*FK_FN(scores_tile_fn))(const float *, ptrdiff_t, ptrdiff_t, const float *,
                                       ptrdiff_t, float *, ptrdiff_t);
#define FK_SCORES_TILE(NR_, NH_)                                                             \
    static void FK_FN(scores_tile_##NR_##_##NH_)(const float *img, ptrdiff_t ldi,            \
                                                  ptrdiff_t dim, const float *u,             \
                                                  ptrdiff_t ldu, float *s, ptrdiff_t lds) {  \
        FK_FN(scores_tile_body)(img, ldi, dim, u, ldu, s, lds, NR_, NH_);                    \
    }
#if FK_SCORES_ROWS > 4
#error "scores tile table covers at most 4 rows"
#endif
#if FK_SCORES_HEADS == 2
#define FK_SCORES_ROW(NR_) FK_SCORES_TILE(NR_, 1) FK_SCORES_TILE(NR_, 2)
#define FK_SCORES_FNS(NR_) {FK_FN(scores_tile_##NR_##_1), FK_FN(scores_tile_##NR_##_2)}
#elif FK_SCORES_HEADS == 4
#define FK_SCORES_ROW(NR_) \
    FK_SCORES_TILE(NR_, 1) FK_SCORES_TILE(NR_, 2) FK_SCORES_TILE(NR_, 3) FK_SCORES_TILE(NR_, 4)
#define FK_SCORES_FNS(NR_) {FK_FN(scores_tile_##NR_##_1), FK_FN(scores_tile_##NR_##_2), \
                            FK_FN(scores_tile_##NR_##_3), FK_FN(scores_tile_##NR_##_4)}
#elif FK_SCORES_HEADS == 8
#define FK_SCORES_ROW(NR_) \
    FK_SCORES_TILE(NR_, 1) FK_SCORES_TILE(NR_, 2) FK_SCORES_TILE(NR_, 3) FK_SCORES_TILE(NR_, 4) \
    FK_SCORES_TILE(NR_, 5) FK_SCORES_TILE(NR_, 6) FK_SCORES_TILE(NR_, 7) FK_SCORES_TILE(NR_, 8)
#define FK_SCORES_FNS(NR_) {FK_FN(scores_tile_##NR_##_1), FK_FN(scores_tile_##NR_##_2), \
                            FK_FN(scores_tile_##NR_##_3), FK_FN(scores_tile_##NR_##_4), \
                            FK_FN(scores_tile_##NR_##_5), FK_FN(scores_tile_##NR_##_6), \
                            FK_FN(scores_tile_##NR_##_7), FK_FN(scores_tile_##NR_##_8)}
#else
#error "FK_SCORES_HEADS must be 2, 4 or 8"
#endif
FK_SCORES_ROW(1)
#if FK_SCORES_ROWS >= 2
FK_SCORES_ROW(2)
#endif
#if FK_SCORES_ROWS >= 3
FK_SCORES_ROW(3)
#endif
#if FK_SCORES_ROWS >= 4
FK_SCORES_ROW(4)
#endif
static const FK_FN(scores_tile_fn) FK_FN(scores_tiles)[FK_SCORES_ROWS][FK_SCORES_HEADS] = {
    FK_SCORES_FNS(1),
#if FK_SCORES_ROWS >= 2
    FK_SCORES_FNS(2),
#endif
#if FK_SCORES_ROWS >= 3
    FK_SCORES_FNS(3),
#endif
#if FK_SCORES_ROWS >= 4
    FK_SCORES_FNS(4),
#endif
};
#undef FK_SCORES_TILE
#undef FK_SCORES_ROW
#undef FK_SCORES_FNS

void FK_FN(fk_attn_scores)(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                           ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads,
                           float *s, ptrdiff_t lds) {
    for (ptrdiff_t t = t_begin; t < t_end; t += FK_SCORES_ROWS) {
        const ptrdiff_t nr = t_end - t < FK_SCORES_ROWS ? t_end - t : FK_SCORES_ROWS;
        for (ptrdiff_t h0 = 0; h0 < heads; h0 += FK_SCORES_HEADS) {
            const ptrdiff_t nh = heads - h0 < FK_SCORES_HEADS ? heads - h0 : FK_SCORES_HEADS;
            FK_FN(scores_tiles)[nr - 1][nh - 1](img + t * ldi, ldi, dim, u + h0 * ldu, ldu,
                                                s + t * lds + h0, lds);
        }
    }
}

// ---- weighted sums ------------------------------------------------------------

/// z[h][j..] = chain over t of fma(p[t][h], img[t][j..], ·) for nh heads and nv
/// vectors of 16 columns; `masked` edge tiles use `mask` on their single vector.
/// A non-zero `prefetch` (in floats) also asks for the cache lines that far beyond
/// each loaded vector to be brought into L2: `fk_attn_chunk` uses it to fetch the next
/// chunk's rows while it computes on the current ones. Prefetches never fault.
/// With `resume` set the chains continue from the partial sums already in z (stored
/// exactly as floats), so cutting the tokens into blocks does not change any element.
FK_V16_INLINE void FK_FN(wsum_tile_body)(const float *img, ptrdiff_t ldi, ptrdiff_t tn,
                                         const float *p, ptrdiff_t ldp, float *z, ptrdiff_t ldz,
                                         v16m mask, ptrdiff_t prefetch, int resume,
                                         const int nh, const int nv, const int masked) {
    v16 acc[FK_WSUM_HEADS][FK_WSUM_NV];
    for (int h = 0; h < nh; h++)
        for (int v = 0; v < nv; v++)
            acc[h][v] = !resume ? v16_zero()
                        : masked ? v16_load_m(z + h * ldz + 16 * v, mask) : v16_load(z + h * ldz + 16 * v);
    for (ptrdiff_t t = 0; t < tn; t++) {
        v16 xv[FK_WSUM_NV];
        for (int v = 0; v < nv; v++)
            xv[v] = masked ? v16_load_m(img + t * ldi + 16 * v, mask) : v16_load(img + t * ldi + 16 * v);
        if (prefetch)
            for (int v = 0; v < nv; v++) fk_prefetch(img, t * ldi + 16 * v + prefetch);
        for (int h = 0; h < nh; h++) {
            v16 a = v16_set1(p[t * ldp + h]);
            for (int v = 0; v < nv; v++) acc[h][v] = v16_fma(a, xv[v], acc[h][v]);
        }
    }
    for (int h = 0; h < nh; h++)
        for (int v = 0; v < nv; v++) {
            if (masked) v16_store_m(z + h * ldz + 16 * v, acc[h][v], mask);
            else v16_store(z + h * ldz + 16 * v, acc[h][v]);
        }
}

typedef void (*FK_FN(wsum_tile_fn))(const float *, ptrdiff_t, ptrdiff_t, const float *,
                                     ptrdiff_t, float *, ptrdiff_t, v16m, ptrdiff_t, int);
#define FK_WSUM_TILE(NH_)                                                                    \
    static void FK_FN(wsum_full_##NH_)(const float *img, ptrdiff_t ldi, ptrdiff_t tn,         \
                                       const float *p, ptrdiff_t ldp, float *z, ptrdiff_t ldz, \
                                       v16m mask, ptrdiff_t pf, int resume) {                \
        FK_FN(wsum_tile_body)(img, ldi, tn, p, ldp, z, ldz, mask, pf, resume, NH_, FK_WSUM_NV, 0); \
    }                                                                                        \
    static void FK_FN(wsum_edge_##NH_)(const float *img, ptrdiff_t ldi, ptrdiff_t tn,         \
                                       const float *p, ptrdiff_t ldp, float *z, ptrdiff_t ldz, \
                                       v16m mask, ptrdiff_t pf, int resume) {                \
        FK_FN(wsum_tile_body)(img, ldi, tn, p, ldp, z, ldz, mask, pf, resume, NH_, 1, 1);    \
    }
#if FK_WSUM_HEADS > 8
#error "weighted-sum tile table covers at most 8 heads"
#endif
FK_WSUM_TILE(1)
FK_WSUM_TILE(2)
#if FK_WSUM_HEADS >= 3
FK_WSUM_TILE(3)
#endif
#if FK_WSUM_HEADS >= 4
FK_WSUM_TILE(4)
#endif
#if FK_WSUM_HEADS >= 5
FK_WSUM_TILE(5)
#endif
#if FK_WSUM_HEADS >= 6
FK_WSUM_TILE(6)
#endif
#if FK_WSUM_HEADS >= 7
FK_WSUM_TILE(7)
#endif
#if FK_WSUM_HEADS >= 8
FK_WSUM_TILE(8)
#endif
#define FK_WSUM_FNS(kind)                                                                    \
    {FK_FN(wsum_##kind##_1), FK_FN(wsum_##kind##_2) FK_WSUM_MORE(kind)}
#if FK_WSUM_HEADS == 2
#define FK_WSUM_MORE(kind)
#elif FK_WSUM_HEADS == 3
#define FK_WSUM_MORE(kind) , FK_FN(wsum_##kind##_3)
#elif FK_WSUM_HEADS == 4
#define FK_WSUM_MORE(kind) , FK_FN(wsum_##kind##_3), FK_FN(wsum_##kind##_4)
#elif FK_WSUM_HEADS == 8
#define FK_WSUM_MORE(kind) , FK_FN(wsum_##kind##_3), FK_FN(wsum_##kind##_4), \
    FK_FN(wsum_##kind##_5), FK_FN(wsum_##kind##_6), FK_FN(wsum_##kind##_7), FK_FN(wsum_##kind##_8)
#else
#error "FK_WSUM_HEADS must be 2, 3, 4 or 8"
#endif
static const FK_FN(wsum_tile_fn) FK_FN(wsum_full)[FK_WSUM_HEADS] = FK_WSUM_FNS(full);
static const FK_FN(wsum_tile_fn) FK_FN(wsum_edge)[FK_WSUM_HEADS] = FK_WSUM_FNS(edge);
#undef FK_WSUM_TILE
#undef FK_WSUM_FNS
#undef FK_WSUM_MORE

/// Tokens per block of a long weighted sum: a block's rows (FK_WSUM_TB·dim floats) stay
/// in L2 while every column block passes over them, so memory is read row by row.
#define FK_WSUM_TB 64

/// The weighted sum over columns [j_begin, j_end) in token blocks of FK_WSUM_TB,
/// prefetching `prefetch` floats ahead (0: the next token block).
static void FK_FN(wsum_columns)(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin,
                                ptrdiff_t t_end, const float *p, ptrdiff_t ldp, ptrdiff_t heads,
                                float *z, ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end,
                                ptrdiff_t prefetch) {
    ptrdiff_t tb = t_begin;
    do {
        const ptrdiff_t te = t_end - tb < FK_WSUM_TB ? t_end : tb + FK_WSUM_TB;
        const ptrdiff_t tn = te - tb;
        const int resume = tb != t_begin;
        const float *img0 = img + tb * ldi;
        const float *p0 = p + tb * ldp;
        const ptrdiff_t ahead = prefetch ? prefetch : FK_WSUM_TB * ldi;
        for (ptrdiff_t h0 = 0; h0 < heads; h0 += FK_WSUM_HEADS) {
            const ptrdiff_t nh = heads - h0 < FK_WSUM_HEADS ? heads - h0 : FK_WSUM_HEADS;
            // Prefetch only on the first head group: the later ones find the lines in cache.
            const ptrdiff_t pf = h0 == 0 ? ahead : 0;
            ptrdiff_t j = j_begin;
            for (; j + 16 * FK_WSUM_NV <= j_end; j += 16 * FK_WSUM_NV)
                FK_FN(wsum_full)[nh - 1](img0 + j, ldi, tn, p0 + h0, ldp, z + h0 * ldz + j, ldz,
                                         v16m_first(16), pf, resume);
            for (; j < j_end; j += 16)
                FK_FN(wsum_edge)[nh - 1](img0 + j, ldi, tn, p0 + h0, ldp, z + h0 * ldz + j, ldz,
                                         v16m_first(j_end - j), pf, resume);
        }
        tb = te;
    } while (tb < t_end);
}

void FK_FN(fk_attn_weighted_sum)(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin,
                                 ptrdiff_t t_end, const float *p, ptrdiff_t ldp,
                                 ptrdiff_t heads, float *z, ptrdiff_t ldz, ptrdiff_t j_begin,
                                 ptrdiff_t j_end) {
    FK_FN(wsum_columns)(img, ldi, t_begin, t_end, p, ldp, heads, z, ldz, j_begin, j_end, 0);
}

// ---- fused chunk and merge -------------------------------------------------------

/// The chunk-local softmax numerators over the scores already in p (tokens [t_begin,
/// t_end), `heads` lanes): m = max, p = exp(s − m), l = the chain of p in increasing t.
FK_V16_INLINE void FK_FN(chunk_softmax)(float *p, ptrdiff_t ldp, ptrdiff_t t_begin, ptrdiff_t t_end,
                                        ptrdiff_t heads, float *m, float *l) {
    const v16m hm = v16m_first(heads);
    v16 mv = v16_load_m(p + t_begin * ldp, hm);
    for (ptrdiff_t t = t_begin + 1; t < t_end; t++) mv = v16_max(mv, v16_load_m(p + t * ldp, hm));
    v16 lv = v16_zero();
    for (ptrdiff_t t = t_begin; t < t_end; t++) {
        v16 e = v16_exp(v16_sub(v16_load_m(p + t * ldp, hm), mv));
        v16_store_m(p + t * ldp, e, hm);
        lv = v16_add(lv, e);
    }
    v16_store_m(m, mv, hm);
    v16_store_m(l, lv, hm);
}

void FK_FN(fk_attn_chunk)(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                          ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads,
                          float *p, ptrdiff_t ldp, float *m, float *l, float *z, ptrdiff_t ldz) {
    FK_FN(fk_attn_scores)(img, ldi, t_begin, t_end, dim, u, ldu, heads, p, ldp);
    FK_FN(chunk_softmax)(p, ldp, t_begin, t_end, heads, m, l);
    // While the rows of this chunk are summed (from cache), fetch the rows of the next
    // chunk of the same length, which a caller running chunks in order needs next.
    FK_FN(wsum_columns)(img, ldi, t_begin, t_end, p, ldp, heads, z, ldz, 0, dim,
                        (t_end - t_begin) * ldi);
}

void FK_FN(fk_attn_chunk_kv)(const float *keys, ptrdiff_t ldk, ptrdiff_t khs, const float *values,
                             ptrdiff_t ldv, ptrdiff_t vhs, ptrdiff_t t_begin, ptrdiff_t t_end,
                             ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads, float *p,
                             ptrdiff_t ldp, float *m, float *l, float *z, ptrdiff_t ldz) {
    for (ptrdiff_t h = 0; h < heads; h++)
        FK_FN(fk_attn_scores)(keys + h * khs, ldk, t_begin, t_end, dim, u + h * ldu, ldu, 1, p + h, ldp);
    FK_FN(chunk_softmax)(p, ldp, t_begin, t_end, heads, m, l);
    for (ptrdiff_t h = 0; h < heads; h++)
        FK_FN(wsum_columns)(values + h * vhs, ldv, t_begin, t_end, p + h, ldp, 1, z + h * ldz, ldz, 0, dim,
                            h == 0 ? (t_end - t_begin) * ldv : 0);
}

void FK_FN(fk_attn_merge_scales)(ptrdiff_t chunks, ptrdiff_t heads, const float *m,
                                 const float *l, float *scale) {
    const v16m hm = v16m_first(heads);
    v16 mx = v16_load_m(m, hm);
    for (ptrdiff_t c = 1; c < chunks; c++) mx = v16_max(mx, v16_load_m(m + c * heads, hm));
    v16 lsum = v16_zero();
    for (ptrdiff_t c = 0; c < chunks; c++) {
        v16 w = v16_exp(v16_sub(v16_load_m(m + c * heads, hm), mx));
        v16_store_m(scale + c * heads, w, hm);
        lsum = v16_fma(w, v16_load_m(l + c * heads, hm), lsum);
    }
    for (ptrdiff_t c = 0; c < chunks; c++)
        v16_store_m(scale + c * heads, v16_div(v16_load_m(scale + c * heads, hm), lsum), hm);
}

void FK_FN(fk_attn_merge_sum)(ptrdiff_t chunks, ptrdiff_t heads, const float *scale,
                              const float *zc, ptrdiff_t chunk_stride, ptrdiff_t ldzc, float *z,
                              ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end) {
    for (ptrdiff_t h = 0; h < heads; h++) {
        for (ptrdiff_t j = j_begin; j < j_end; j += 16) {
            const v16m jm = v16m_first(j_end - j);
            const int full = j + 16 <= j_end;
            v16 acc = v16_zero();
            for (ptrdiff_t c = 0; c < chunks; c++) {
                const float *src = zc + c * chunk_stride + h * ldzc + j;
                v16 x = full ? v16_load(src) : v16_load_m(src, jm);
                acc = v16_fma(v16_set1(scale[c * heads + h]), x, acc);
            }
            if (full) v16_store(z + h * ldz + j, acc);
            else v16_store_m(z + h * ldz + j, acc, jm);
        }
    }
}
