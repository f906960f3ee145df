#ifndef FUSION_KERNELS_H
#define FUSION_KERNELS_H

/// FusionKernels: single-threaded float32 compute kernels over raw buffers for
/// fusectl's fast path, each compiled for AVX-512, AVX2+FMA and scalar code and
/// dispatched at run time (see fk_cpu.h), plus a small thread pool (fk_pool.h) and
/// parallel drivers over it (fk_parallel.h).
///
/// Conventions for every function:
/// - matrices are row-major with an explicit row stride in floats (ld ≥ width);
/// - work ranges are half-open [begin, end) index ranges into the full arrays, so
///   callers split outputs across threads by calling a kernel on disjoint ranges;
/// - every output element is computed by one fixed sequence of float operations
///   that depends only on its own inputs, never on the ranges, batch shape,
///   thread count or the addresses of the buffers (the determinism contract; see
///   each header);
/// - every `float *` is aligned for a float (4 bytes), as every Swift
///   `UnsafePointer<Float>` is; nothing more is assumed (no 16- or 64-byte
///   alignment). Weights read in place from a model file are the exception: the
///   GEMMs and packers take them as `const void *` at any byte address (most
///   stored members of a .npz written by `np.savez` start 1–3 bytes past a
///   multiple of 4) and only copy their bytes (memcpy, unaligned vector loads),
///   never read them through a `float *`;
/// - a broken caller contract (negative sizes, ranges out of bounds, a misaligned
///   float pointer) prints the offending numbers to stderr and aborts.
#include "fk_cpu.h"
#include "fk_activation.h"
#include "fk_gemm.h"
#include "fk_attention.h"
#include "fk_layer_norm.h"
#include "fk_softmax.h"
#include "fk_elementwise.h"
#include "fk_pool.h"
#include "fk_parallel.h"
#include "fk_cpu_count.h"

#endif
