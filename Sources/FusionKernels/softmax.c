// fk_softmax: contract checks and dispatch (the kernel is bodies/softmax_body.h).
#include "internal/fk_internal.h"

void fk_softmax(const float *x, float *y, ptrdiff_t n_valid, ptrdiff_t n) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(y);
    if (n_valid < 1 || n_valid > n)
        fk_fail(__func__, "n_valid = %td must be in [1, n = %td]: a fully masked row has no softmax",
                n_valid, n);
    FK_DISPATCH(fk_softmax)(x, y, n_valid, n);
}
