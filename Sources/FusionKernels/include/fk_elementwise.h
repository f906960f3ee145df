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

/// The index of the first NaN or ±Inf among n float32 values at x (any byte address: loaded
/// bytewise, like the GEMMs' weights), or −1 when all are finite. One pass over the memory
/// when all are finite (x·0 summed: ±0 unless some x·0 is NaN); a second, scalar pass finds
/// the index only when there is one.
ptrdiff_t fk_first_nonfinite(const void *x, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
