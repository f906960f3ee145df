#ifndef FK_ELEMENTWISE_H
#define FK_ELEMENTWISE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// y[i] = a[i] + b[i] for `n` floats (a residual connection). `y` may equal `a`
/// or `b`. Traps on n < 0.
void fk_add(const float *a, const float *b, float *y, ptrdiff_t n);

/// Adds a bias row to `rows` rows of `n` floats in place: y[r·ldy + j] += bias[j].
/// Traps on negative sizes or ldy < n.
void fk_bias_add(float *y, ptrdiff_t ldy, ptrdiff_t rows, ptrdiff_t n, const float *bias);

#ifdef __cplusplus
}
#endif

#endif
