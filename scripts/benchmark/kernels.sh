#!/usr/bin/env bash
# Builds the kernels benchmark in release mode and runs it.
#
# Usage: scripts/bench kernels [--quick] [--tokens N] [--level scalar|avx2|avx512]
#
# Prints GFLOP/s of the packed GEMM for the model's shapes and GB/s of the attention
# kernels over a token matrix of 16384 × 2048 floats (134 MB; --quick: 4096 tokens,
# fewer repetitions), on one thread and on all CPUs, plus elementwise throughput.
# Single-thread times are the thread's own CPU time; multi-thread times are wall-clock
# and suffer when other processes share the CPUs. Every number is a median.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product kernels-bench >&2
exec "$(swift build -c release --show-bin-path)/kernels-bench" "$@"
