#ifndef FK_GEMM_H
#define FK_GEMM_H

#include <stddef.h>
#include "fk_activation.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Number of floats a packed weight of `in` inputs and `out` outputs occupies:
/// ceil(out/16)·16·in. Traps on in < 1 or out < 1.
ptrdiff_t fk_gemm_packed_count(ptrdiff_t in, ptrdiff_t out);

/// Packs a PyTorch `nn.Linear` weight for `fk_gemm`.
///
/// - `w`: (out × in) float32, row-major with row stride `ldw` ≥ in floats; element
///   (o, k) at float o·ldw + k. Any byte address (a member of an `np.savez`
///   archive read in place): it is only copied bytewise, never read as `float *`.
/// - `packed`: fk_gemm_packed_count(in, out) floats, preferably 64-byte aligned
///   (4-byte alignment works, slower). Layout: panels of 16 output columns,
///   packed[(p·in + k)·16 + c] = w[(16p + c)·ldw + k], zero for 16p + c ≥ out.
///
/// Done once at load, but on the critical path of a one-sample run: the AVX-512 path
/// transposes 16 × 16 blocks in registers. Traps on bad sizes.
void fk_gemm_pack_oi(const void *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in, float *packed);

/// Packs a (in × out) row-major float32 matrix `b` (element (k, o) at float
/// k·ldb + o, ldb ≥ out; any byte address) so that `fk_gemm` computes Y = X·B.
/// Same packed layout as `fk_gemm_pack_oi` of bᵀ.
void fk_gemm_pack_io(const void *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out, float *packed);

/// Panels [panel_begin, panel_end) of `fk_gemm_pack_oi` (panel p = output columns
/// 16p..16p+15, of ceil(out/16) panels): lets callers pack on several threads (see
/// `fk_gemm_pack_oi_parallel`). The bytes written do not depend on the CPU path.
void fk_gemm_pack_oi_panels(const void *w, ptrdiff_t ldw, ptrdiff_t out, ptrdiff_t in,
                            float *packed, ptrdiff_t panel_begin, ptrdiff_t panel_end);

/// Panels [panel_begin, panel_end) of `fk_gemm_pack_io`.
void fk_gemm_pack_io_panels(const void *b, ptrdiff_t ldb, ptrdiff_t in, ptrdiff_t out,
                            float *packed, ptrdiff_t panel_begin, ptrdiff_t panel_end);

/// Y = act(X·Wᵀ + bias) on a block of rows and output columns.
///
/// - `x`: row r at x + r·ldx, `in` floats each (ldx ≥ in).
/// - `packed`: from `fk_gemm_pack_oi`/`fk_gemm_pack_io` with the same in/out.
/// - `bias`: `out` floats or NULL (no bias).
/// - `y`: row r at y + r·ldy (ldy ≥ out); only rows [row_begin, row_end) and
///   columns [col_begin, col_end) are read or written (0 ≤ row_begin ≤ row_end,
///   0 ≤ col_begin ≤ col_end ≤ out). `y` must not overlap `x`, `packed` or `bias`.
///
/// Formula and determinism: every output element is
///   acc = +0; for k = 0, 1, …, in−1: acc = fma(x[r][k], W[o][k], acc);
///   y[r][o] = act(acc + bias[o])        (acc when bias is NULL)
/// — one fused multiply-add chain in increasing k, bias added last, then the
/// activation of `fk_activate`. Vectorisation is across output columns only, and
/// edge tiles run the same per-element chain, so an element's bits do not depend
/// on the number of rows, its row index, its position in a register tile, the
/// row/column ranges a caller splits the work into, or the thread count.
///
/// Single-threaded: to use several threads, call it concurrently on disjoint
/// row or column ranges of the same `y` (for one row, split the columns), or use
/// `fk_gemm_parallel` (fk_parallel.h). Complexity: 2·rows·cols·in flops; register
/// tiles of 6 rows × 64 columns (AVX-512) reach about 105 GFLOP/s per thread for
/// rows ≥ 64 on a Zen 4 core whose FMA peak is 117 GFLOP/s; one row is bound by
/// streaming the weight. Traps (message on stderr, abort) on a
/// broken contract: negative or inconsistent sizes, ranges outside [0, out].
void fk_gemm(const float *x, ptrdiff_t ldx,
             const float *packed, ptrdiff_t in, ptrdiff_t out,
             const float *bias, fk_activation act,
             float *y, ptrdiff_t ldy,
             ptrdiff_t row_begin, ptrdiff_t row_end,
             ptrdiff_t col_begin, ptrdiff_t col_end);

/// `fk_gemm` straight from a PyTorch-layout weight, without packing: the same
/// arguments and the same bits, element for element, as fk_gemm with
/// packed = fk_gemm_pack_oi(w), because every element runs the same fma chain.
///
/// - `w`: (out × in) float32, row-major with row stride `ldw` ≥ in floats (e.g. the
///   model's tensor, read in place from the archive's memory map), at any byte
///   address: rows are loaded bytewise (unaligned vector loads), never through a
///   `float *`, so `np.savez` members need no aligned copy.
///
/// Reads 16 × 16 blocks of w and transposes them in registers, once per pass of up
/// to 4 rows × 16 output columns (AVX-512). For one row (an agent step) it reads
/// the weight once — no packing pass, no packed copy — at about 10–13 GFLOP/s
/// (20–26 GB/s of weight) per thread on Zen 4, bound by the transposes and the
/// single fma chain per column; packing (5–14 GB/s) and then `fk_gemm` (35–45
/// GFLOP/s for one row) pays when a weight is used more than about twice. For many
/// rows (about 50 GFLOP/s at 8–64 rows) pack and use fk_gemm (about 110).
void fk_gemm_unpacked(const float *x, ptrdiff_t ldx,
                      const void *w, ptrdiff_t ldw, ptrdiff_t in, ptrdiff_t out,
                      const float *bias, fk_activation act,
                      float *y, ptrdiff_t ldy,
                      ptrdiff_t row_begin, ptrdiff_t row_end,
                      ptrdiff_t col_begin, ptrdiff_t col_end);

/// `fk_gemm` straight from an (in × out) row-major matrix B scaled by `scale`,
/// without packing: Y = act(X·(scale·B) + bias), the same bits, element for
/// element, as fk_gemm with packed = fk_gemm_pack_io(B) whose every element was
/// then multiplied by `scale` (one rounded float multiply; none when scale is 1).
///
/// - `b`: float32 element (k, o) at float k·ldb + o, ldb ≥ out, any byte address
///   (loaded bytewise, like `fk_gemm_unpacked`'s `w`); only columns
///   [col_begin, col_end) are read.
/// - every output element: acc = +0; for k = 0, 1, …, in−1:
///   acc = fma(x[r][k], fl(scale·B[k][o]), acc); y[r][o] = act(acc + bias[o]).
///
/// Row k of B holds 16 consecutive outputs per vector load, so this layout needs
/// no transpose: one row reads B once at memory speed. Other arguments, ranges,
/// threading and traps as `fk_gemm`.
void fk_gemm_io(const float *x, ptrdiff_t ldx,
                const void *b, ptrdiff_t ldb, float scale, ptrdiff_t in, ptrdiff_t out,
                const float *bias, fk_activation act,
                float *y, ptrdiff_t ldy,
                ptrdiff_t row_begin, ptrdiff_t row_end,
                ptrdiff_t col_begin, ptrdiff_t col_end);

/// `fk_gemm` from a weight as it lies, packing as it goes: the same arguments, ranges,
/// threading, traps and bits as fk_gemm on the packed copy of `w`, without that copy.
///
/// - `w`: float32 at any byte address (loaded bytewise). `transposed` = 0: an
///   nn.Linear weight (out × in), row stride `ldw` ≥ in floats, i.e. fk_gemm with
///   packed = fk_gemm_pack_oi(w); `transposed` = 1: an (in × out) matrix B, row
///   stride `ldw` ≥ out, whose elements are multiplied by `scale` (one rounded
///   multiply; none when scale is 1), i.e. fk_gemm_io's operand.
///
/// For each block of up to 256 k values × 16 panels of the requested columns, the
/// block is packed once into a 256 KiB buffer private to the calling thread
/// (allocated on the thread's first call, then reused) and every row tile of the
/// call runs fk_gemm's register tiles over it. The packing is a small part of the
/// work once a call has a few dozen rows, and it touches no fresh memory, where a
/// packed copy of a model (≈ 115 MB) costs a page fault every 4 KiB on each run.
/// For one or a few rows use fk_gemm_unpacked / fk_gemm_io (no packing at all).
void fk_gemm_inplace(const float *x, ptrdiff_t ldx,
                     const void *w, ptrdiff_t ldw, int transposed, float scale,
                     ptrdiff_t in, ptrdiff_t out,
                     const float *bias, fk_activation act,
                     float *y, ptrdiff_t ldy,
                     ptrdiff_t row_begin, ptrdiff_t row_end,
                     ptrdiff_t col_begin, ptrdiff_t col_end);

/// The packed GEMM kernel's rate on the calling thread, in GFLOP/s: the best of repeated
/// 96-row × 256 → 256 products (operands resident in L2) over about `seconds` seconds. For the
/// planner's cost model (`fusectl fuse --explain`), not for the hot path.
double fk_measure_gemm_gflops(double seconds);

#ifdef __cplusplus
}
#endif

#endif
