// The attention kernels: contract checks and dispatch (the kernels are
// bodies/attention_body.h).
#include "internal/fk_internal.h"

static void fk_check_heads(const char *function, ptrdiff_t heads) {
    if (heads < 1 || heads > FK_ATTN_MAX_HEADS)
        fk_fail(function, "heads = %td is outside [1, %d]", heads, FK_ATTN_MAX_HEADS);
}

static void fk_check_tokens(const char *function, ptrdiff_t t_begin, ptrdiff_t t_end,
                            ptrdiff_t dim, ptrdiff_t ldi) {
    if (t_begin < 0 || t_end < t_begin)
        fk_fail(function, "token range [%td, %td) is not a range of non-negative indices",
                t_begin, t_end);
    if (dim < 1 || ldi < dim)
        fk_fail(function, "dim = %td must be at least 1 and at most the row stride ldi = %td", dim,
                ldi);
}

void fk_attn_scores(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                    ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads, float *s,
                    ptrdiff_t lds) {
    FK_CHECK_ALIGNED(img);
    FK_CHECK_ALIGNED(u);
    FK_CHECK_ALIGNED(s);
    fk_check_tokens(__func__, t_begin, t_end, dim, ldi);
    fk_check_heads(__func__, heads);
    if (ldu < dim || lds < heads)
        fk_fail(__func__, "strides ldu = %td (need >= dim = %td) and lds = %td (need >= heads = %td)",
                ldu, dim, lds, heads);
    FK_DISPATCH(fk_attn_scores)(img, ldi, t_begin, t_end, dim, u, ldu, heads, s, lds);
}

void fk_attn_weighted_sum(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                          ptrdiff_t dim, const float *p, ptrdiff_t ldp, ptrdiff_t heads, float *z,
                          ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end) {
    FK_CHECK_ALIGNED(img);
    FK_CHECK_ALIGNED(p);
    FK_CHECK_ALIGNED(z);
    fk_check_tokens(__func__, t_begin, t_end, dim, ldi);
    fk_check_heads(__func__, heads);
    if (ldp < heads || ldz < dim)
        fk_fail(__func__, "strides ldp = %td (need >= heads = %td) and ldz = %td (need >= dim = %td)",
                ldp, heads, ldz, dim);
    if (j_begin < 0 || j_end < j_begin || j_end > dim)
        fk_fail(__func__, "column range [%td, %td) is not inside [0, dim = %td)", j_begin, j_end, dim);
    FK_DISPATCH(fk_attn_weighted_sum)(img, ldi, t_begin, t_end, p, ldp, heads, z, ldz, j_begin, j_end);
}

void fk_attn_chunk(const float *img, ptrdiff_t ldi, ptrdiff_t t_begin, ptrdiff_t t_end,
                   ptrdiff_t dim, const float *u, ptrdiff_t ldu, ptrdiff_t heads, float *p,
                   ptrdiff_t ldp, float *m, float *l, float *z, ptrdiff_t ldz) {
    FK_CHECK_ALIGNED(img);
    FK_CHECK_ALIGNED(u);
    FK_CHECK_ALIGNED(p);
    FK_CHECK_ALIGNED(m);
    FK_CHECK_ALIGNED(l);
    FK_CHECK_ALIGNED(z);
    fk_check_tokens(__func__, t_begin, t_end, dim, ldi);
    fk_check_heads(__func__, heads);
    if (t_end == t_begin)
        fk_fail(__func__, "empty chunk [%td, %td): a chunk needs at least one token", t_begin, t_end);
    if (ldu < dim || ldp < heads || ldz < dim)
        fk_fail(__func__, "strides ldu = %td, ldz = %td (need >= dim = %td) and ldp = %td (need >= heads = %td)",
                ldu, ldz, dim, ldp, heads);
    FK_DISPATCH(fk_attn_chunk)(img, ldi, t_begin, t_end, dim, u, ldu, heads, p, ldp, m, l, z, ldz);
}

void fk_attn_chunk_kv(const float *keys, ptrdiff_t ldk, ptrdiff_t khs, const float *values, ptrdiff_t ldv,
                      ptrdiff_t vhs, ptrdiff_t t_begin, ptrdiff_t t_end, ptrdiff_t dim, const float *u,
                      ptrdiff_t ldu, ptrdiff_t heads, float *p, ptrdiff_t ldp, float *m, float *l, float *z,
                      ptrdiff_t ldz) {
    FK_CHECK_ALIGNED(keys);
    FK_CHECK_ALIGNED(values);
    FK_CHECK_ALIGNED(u);
    FK_CHECK_ALIGNED(p);
    FK_CHECK_ALIGNED(m);
    FK_CHECK_ALIGNED(l);
    FK_CHECK_ALIGNED(z);
    fk_check_heads(__func__, heads);
    if (khs < 0 || vhs < 0)
        fk_fail(__func__, "head strides khs = %td and vhs = %td must not be negative", khs, vhs);
    // Head h reads columns [h·khs, h·khs + dim) of the key rows (and likewise of the value rows).
    fk_check_tokens(__func__, t_begin, t_end, (heads - 1) * khs + dim, ldk);
    fk_check_tokens(__func__, t_begin, t_end, (heads - 1) * vhs + dim, ldv);
    if (t_end == t_begin)
        fk_fail(__func__, "empty chunk [%td, %td): a chunk needs at least one token", t_begin, t_end);
    if (ldu < dim || ldp < heads || ldz < dim)
        fk_fail(__func__, "strides ldu = %td, ldz = %td (need >= dim = %td) and ldp = %td (need >= heads = %td)",
                ldu, ldz, dim, ldp, heads);
    FK_DISPATCH(fk_attn_chunk_kv)(keys, ldk, khs, values, ldv, vhs, t_begin, t_end, dim, u, ldu, heads, p, ldp, m,
                                  l, z, ldz);
}

void fk_attn_merge_scales(ptrdiff_t chunks, ptrdiff_t heads, const float *m, const float *l,
                          float *scale) {
    FK_CHECK_ALIGNED(m);
    FK_CHECK_ALIGNED(l);
    FK_CHECK_ALIGNED(scale);
    fk_check_heads(__func__, heads);
    if (chunks < 1) fk_fail(__func__, "chunks = %td must be at least 1", chunks);
    FK_DISPATCH(fk_attn_merge_scales)(chunks, heads, m, l, scale);
}

void fk_attn_merge_sum(ptrdiff_t chunks, ptrdiff_t heads, ptrdiff_t dim, const float *scale,
                       const float *zc, ptrdiff_t chunk_stride, ptrdiff_t ldzc, float *z,
                       ptrdiff_t ldz, ptrdiff_t j_begin, ptrdiff_t j_end) {
    FK_CHECK_ALIGNED(scale);
    FK_CHECK_ALIGNED(zc);
    FK_CHECK_ALIGNED(z);
    fk_check_heads(__func__, heads);
    if (chunks < 1) fk_fail(__func__, "chunks = %td must be at least 1", chunks);
    if (dim < 1 || ldzc < dim || ldz < dim)
        fk_fail(__func__, "dim = %td must be at least 1 and at most the strides ldzc = %td, ldz = %td",
                dim, ldzc, ldz);
    if (chunks > 1 && chunk_stride < heads * ldzc)
        fk_fail(__func__, "chunk_stride = %td is below heads·ldzc = %td", chunk_stride, heads * ldzc);
    if (j_begin < 0 || j_end < j_begin || j_end > dim)
        fk_fail(__func__, "column range [%td, %td) is not inside [0, dim = %td)", j_begin, j_end, dim);
    FK_DISPATCH(fk_attn_merge_sum)(chunks, heads, scale, zc, chunk_stride, ldzc, z, ldz, j_begin,
                                   j_end);
}
