// fk_layer_norm: contract checks and dispatch (the kernel is bodies/layer_norm_body.h).
#include "internal/fk_internal.h"

void fk_layer_norm(const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy, ptrdiff_t rows,
                   ptrdiff_t n, const float *gamma, const float *beta, float eps) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(y);
    FK_CHECK_ALIGNED(gamma);
    FK_CHECK_ALIGNED(beta);
    if (n < 1 || rows < 0)
        fk_fail(__func__, "n = %td must be at least 1 and rows = %td not negative", n, rows);
    if (ldx < n || ldy < n)
        fk_fail(__func__, "row strides ldx = %td and ldy = %td must be at least n = %td", ldx, ldy, n);
    FK_DISPATCH(fk_layer_norm)(x, ldx, y, ldy, rows, n, gamma, beta, eps);
}
