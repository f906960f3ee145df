#ifndef FK_SOFTMAX_H
#define FK_SOFTMAX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Softmax over the first `n_valid` of `n` contiguous floats; the rest are masked.
///
/// y[t] = exp(x[t] − m) / Σ for t < n_valid, with m = max_{t<n_valid} x[t] and
/// Σ the sequential sum in increasing t (from +0) of the same exp values;
/// y[t] = 0 for n_valid ≤ t < n. exp is `fk_exp`. `y` may equal `x`.
/// Traps unless 1 ≤ n_valid ≤ n (a fully masked row has no softmax).
void fk_softmax(const float *x, float *y, ptrdiff_t n_valid, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
