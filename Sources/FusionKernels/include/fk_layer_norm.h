#ifndef FK_LAYER_NORM_H
#define FK_LAYER_NORM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// LayerNorm over the last axis of `rows` rows of `n` floats, as torch.nn.LayerNorm(n, eps).
///
/// - `x`: row r at x + r·ldx; `y`: row r at y + r·ldy (ldx, ldy ≥ n); y may equal x.
/// - `gamma`, `beta`: n floats each, or NULL for 1 and 0.
///
/// Formula per row: mean = S(x)/n; var = S((x − mean)²)/n (biased);
/// rstd = 1/sqrt(var + eps); y = fma((x − mean)·rstd, gamma, beta).
/// S is a fixed-order sum: sixteen lane chains (lane l adds the elements
/// j ≡ l mod 16 in increasing j, from +0) then the fixed tree
/// (l_i + l_{i+8}) → +4 → +2 → +1 — the same for every row and path. Traps on
/// n < 1 or rows < 0.
void fk_layer_norm(const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy,
                   ptrdiff_t rows, ptrdiff_t n,
                   const float *gamma, const float *beta, float eps);

#ifdef __cplusplus
}
#endif

#endif
