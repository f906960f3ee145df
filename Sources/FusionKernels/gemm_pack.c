// Packing of GEMM weights into 16-column panels (see fk_gemm.h for the layout).
#include "internal/fk_internal.h"

ptrdiff_t fk_gemm_packed_count(ptrdiff_t in, ptrdiff_t out) {
    if (in < 1 || out < 1)
        fk_fail(__func__, "in = %td and out = %td must both be at least 1", in, out);
    return (out + 15) / 16 * 16 * in;
}

void fk_gemm_pack_oi(const float *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in, float *packed) {
    if (ldw < in)
        fk_fail(__func__, "row stride ldw = %td is below in = %td", ldw, in);
    const ptrdiff_t panels = fk_gemm_packed_count(in, out) / (16 * in);
    for (ptrdiff_t p = 0; p < panels; p++)
        for (ptrdiff_t k = 0; k < in; k++)
            for (ptrdiff_t c = 0; c < 16; c++) {
                const ptrdiff_t o = p * 16 + c;
                packed[(p * in + k) * 16 + c] = o < out ? w[o * ldw + k] : 0.0f;
            }
}

void fk_gemm_pack_io(const float *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out, float *packed) {
    if (ldb < out)
        fk_fail(__func__, "row stride ldb = %td is below out = %td", ldb, out);
    const ptrdiff_t panels = fk_gemm_packed_count(in, out) / (16 * in);
    for (ptrdiff_t p = 0; p < panels; p++)
        for (ptrdiff_t k = 0; k < in; k++)
            for (ptrdiff_t c = 0; c < 16; c++) {
                const ptrdiff_t o = p * 16 + c;
                packed[(p * in + k) * 16 + c] = o < out ? b[k * ldb + o] : 0.0f;
            }
}
