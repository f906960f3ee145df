// Packing of GEMM weights into 16-column panels (see fk_gemm.h for the layout):
// pure data movement, so every path gives the same bytes. The (out × in) packing
// transposes 16 × 16 blocks (bodies/gemm_unpacked_body.h, per instruction set).
#include "internal/fk_internal.h"

ptrdiff_t fk_gemm_packed_count(ptrdiff_t in, ptrdiff_t out) {
    if (in < 1 || out < 1)
        fk_fail(__func__, "in = %td and out = %td must both be at least 1", in, out);
    return (out + 15) / 16 * 16 * in;
}

void fk_gemm_pack_oi_panels(const void *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in,
                            float *packed, ptrdiff_t panel_begin, ptrdiff_t panel_end) {
    FK_CHECK_ALIGNED(packed);
    if (ldw < in)
        fk_fail(__func__, "row stride ldw = %td is below in = %td", ldw, in);
    const ptrdiff_t panels = fk_gemm_packed_count(in, out) / (16 * in);
    if (panel_begin < 0 || panel_end < panel_begin || panel_end > panels)
        fk_fail(__func__, "panel range [%td, %td) is not inside [0, %td)", panel_begin, panel_end, panels);
    FK_DISPATCH(fk_pack_oi_panels)((const unsigned char *)w, ldw, out, in, packed, panel_begin, panel_end);
}

void fk_gemm_pack_oi(const void *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in, float *packed) {
    fk_gemm_pack_oi_panels(w, ldw, out, in, packed, 0, fk_gemm_packed_count(in, out) / (16 * in));
}

void fk_gemm_pack_io_panels(const void *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out,
                            float *packed, ptrdiff_t panel_begin, ptrdiff_t panel_end) {
    FK_CHECK_ALIGNED(packed);
    if (ldb < out)
        fk_fail(__func__, "row stride ldb = %td is below out = %td", ldb, out);
    const ptrdiff_t panels = fk_gemm_packed_count(in, out) / (16 * in);
    if (panel_begin < 0 || panel_end < panel_begin || panel_end > panels)
        fk_fail(__func__, "panel range [%td, %td) is not inside [0, %td)", panel_begin, panel_end, panels);
    for (ptrdiff_t p = panel_begin; p < panel_end; p++) {
        const ptrdiff_t cols = out - p * 16 < 16 ? out - p * 16 : 16;
        for (ptrdiff_t k = 0; k < in; k++) {
            float *dst = packed + (p * in + k) * 16;
            // b may lie at any byte address: copied bytewise, never read through a float pointer.
            memcpy(dst, (const unsigned char *)b + (k * ldb + p * 16) * (ptrdiff_t)sizeof(float),
                   (size_t)cols * sizeof(float));
            for (ptrdiff_t c = cols; c < 16; c++) dst[c] = 0.0f;
        }
    }
}

void fk_gemm_pack_io(const void *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out, float *packed) {
    fk_gemm_pack_io_panels(b, ldb, in, out, packed, 0, fk_gemm_packed_count(in, out) / (16 * in));
}
