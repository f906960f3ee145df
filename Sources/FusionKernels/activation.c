// fk_activate, fk_exp and fk_erf: contract checks and dispatch (the kernels are
// bodies/activation_body.h over internal/v16_math.h).
#include "internal/fk_internal.h"

void fk_activate(fk_activation act, const float *x, float *y, ptrdiff_t n) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(y);
    if (n < 0) fk_fail(__func__, "n = %td is negative", n);
    if ((unsigned)act > FK_ACT_GELU_TANH) fk_fail(__func__, "unknown activation %d", (int)act);
    FK_DISPATCH(fk_activate)(act, x, y, n);
}

void fk_exp(const float *x, float *y, ptrdiff_t n) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(y);
    if (n < 0) fk_fail(__func__, "n = %td is negative", n);
    FK_DISPATCH(fk_exp)(x, y, n);
}

void fk_erf(const float *x, float *y, ptrdiff_t n) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(y);
    if (n < 0) fk_fail(__func__, "n = %td is negative", n);
    FK_DISPATCH(fk_erf)(x, y, n);
}
