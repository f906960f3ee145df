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
///   thread count or alignment (the determinism contract; see each header);
/// - no alignment is assumed for any pointer;
/// - a broken caller contract (negative sizes, ranges out of bounds) prints the
///   offending numbers to stderr and aborts.
#include "fk_cpu.h"
#include "fk_activation.h"
#include "fk_gemm.h"
#include "fk_attention.h"
#include "fk_layer_norm.h"
#include "fk_softmax.h"
#include "fk_elementwise.h"
#include "fk_pool.h"
#include "fk_parallel.h"

#endif
