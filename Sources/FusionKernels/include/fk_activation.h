#ifndef FK_ACTIVATION_H
#define FK_ACTIVATION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An elementwise activation, applied by `fk_activate` or fused into the
/// epilogue of `fk_gemm` (both produce identical bits).
///
/// - `FK_ACT_NONE`: y = x.
/// - `FK_ACT_RELU`: y = x < 0 ? 0 : x (NaN propagates), as torch.nn.ReLU.
/// - `FK_ACT_GELU`: y = x·Φ(x) = ½·x·erfc(−x/√2), as torch.nn.GELU() (exact,
///   erf-based). erfc is the Chebyshev fit of Numerical Recipes (fractional error
///   below 1.2e-7) around `fk_exp`; the absolute error against float64 is below
///   2e-7·max(1,|x|) (1.04e-7 measured).
/// - `FK_ACT_GELU_TANH`: y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
///   computed as x / (1 + exp(−2·√(2/π)·(x + 0.044715·x³))) (the same function,
///   without cancellation), as torch.nn.GELU(approximate="tanh").
typedef enum fk_activation {
    FK_ACT_NONE = 0,
    FK_ACT_RELU = 1,
    FK_ACT_GELU = 2,
    FK_ACT_GELU_TANH = 3,
} fk_activation;

/// Applies `act` to `n` floats: y[i] = act(x[i]). `y` may equal `x` (in place);
/// other overlaps are not allowed. Traps (prints and aborts) on n < 0 or an
/// unknown activation. Single-threaded; callers split ranges across threads.
void fk_activate(fk_activation act, const float *x, float *y, ptrdiff_t n);

/// y[i] = exp(x[i]) for `n` floats, vectorised: Cephes-style range reduction
/// (x = n·ln2 + r, |r| ≤ ½ln2) and 1 + r + r²·P(r) with Cephes' degree-5 P; error
/// within 2 ulp on normal results (0.96 ulp measured on [−87, 88.7]), denormal
/// results scaled with one rounding, exp(x) = 0 for x < −104, +inf above
/// ln(FLT_MAX), NaN for NaN, exactly 1 for x = 0.
/// `y` may equal `x`.
void fk_exp(const float *x, float *y, ptrdiff_t n);

/// y[i] = erf(x[i]) for `n` floats, vectorised: an odd Taylor polynomial for
/// |x| < 0.5 and 1 − erfc(|x|) (sign restored) above; absolute error below
/// 2e-7 (1.5e-7 measured). `y` may equal `x`.
void fk_erf(const float *x, float *y, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
