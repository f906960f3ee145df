// fk_add and fk_bias_add: contract checks and dispatch (the kernels are
// bodies/elementwise_body.h).
#include "internal/fk_internal.h"

void fk_add(const float *a, const float *b, float *y, ptrdiff_t n) {
    FK_CHECK_ALIGNED(a);
    FK_CHECK_ALIGNED(b);
    FK_CHECK_ALIGNED(y);
    if (n < 0) fk_fail(__func__, "n = %td is negative", n);
    FK_DISPATCH(fk_add)(a, b, y, n);
}

void fk_bias_add(float *y, ptrdiff_t ldy, ptrdiff_t rows, ptrdiff_t n, const float *bias) {
    FK_CHECK_ALIGNED(y);
    FK_CHECK_ALIGNED(bias);
    if (rows < 0 || n < 0 || ldy < n)
        fk_fail(__func__, "rows = %td, n = %td must not be negative and ldy = %td at least n", rows,
                n, ldy);
    FK_DISPATCH(fk_bias_add)(y, ldy, rows, n, bias);
}

ptrdiff_t fk_first_nonfinite(const void *x, ptrdiff_t n) {
    if (n < 0) fk_fail(__func__, "n = %td is negative", n);
    if (n == 0) return -1;
    if (x == NULL) fk_fail(__func__, "x is NULL with n = %td", n);
    return FK_DISPATCH(fk_first_nonfinite)((const unsigned char *)x, n);
}
