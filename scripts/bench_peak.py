"""The machine's measured float32 peak, the denominator of scripts/bench's "% of peak".

measure_peak(threads, cache) compiles scripts/bench_peak.c (a register-only FMA
loop) twice with the system C compiler, -march=native and -march=native
-mno-avx512f (on some cores 256-bit FMAs issue as fast as 512-bit ones), runs each
`tries` times and keeps the best (noise only ever lowers a peak). Without a C
compiler it falls back to the best of a few 4096x4096 float32 matrix products
(torch.matmul), which is a lower bound on the peak, and says so in the result's
"method".

sgemm_gflops(threads) is reported beside it for context: what a tuned BLAS
(torch.matmul, i.e. the library PyTorch itself uses) reaches on this machine.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Optional

import bench_cc

VARIANTS = {"native": ["-march=native"], "native-no-avx512": ["-march=native", "-mno-avx512f"]}


def fma_peak(threads: int, cache: Path, seconds: float = 0.5, tries: int = 3) -> Optional[dict]:
    """Best FMA-loop GFLOP/s over the variants, or None without a working compiler.

    Returns {"gflops", "method", "runs": {variant: [gflops...]}}.
    """
    runs: dict[str, list[float]] = {}
    best = (0.0, "")
    for variant, flags in VARIANTS.items():
        binary = cache / "bin" / f"bench_peak-{variant}"
        if bench_cc.compile_c("bench_peak.c", binary, [*flags, "-pthread"]):
            continue
        for _ in range(tries):
            done = subprocess.run([str(binary), str(threads), str(seconds)], capture_output=True, text=True)
            if done.returncode != 0:
                break
            result = json.loads(done.stdout)
            runs.setdefault(variant, []).append(result["gflops"])
            if result["gflops"] > best[0]:
                best = (result["gflops"], result["isa"])
    if not runs:
        return None
    method = f"FMA register loop, {best[1]}, {threads} threads, best of {tries} (C, -O2 -march=native)"
    return {"gflops": best[0], "method": method, "runs": runs}


def sgemm_gflops(threads: int, n: int = 4096, tries: int = 3) -> dict:
    """Best GFLOP/s of an n x n x n float32 torch.matmul on `threads` threads (2 n^3 flops each)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        torch.matmul(a, b)  # warm-up
        best = 0.0
        for _ in range(tries):
            start = time.perf_counter()
            torch.matmul(a, b)
            best = max(best, 2.0 * n**3 / (time.perf_counter() - start) / 1e9)
    finally:
        torch.set_num_threads(previous)
    return {"gflops": best, "method": f"torch.matmul {n}x{n}x{n} float32, {threads} threads, best of {tries}"}


def measure_peak(threads: int, cache: Path) -> dict:
    """{"peak": {...}, "sgemm": {...}}: the FMA peak (or the sgemm fallback) and the sgemm rate."""
    sgemm = sgemm_gflops(threads)
    peak = fma_peak(threads, cache)
    if peak is None:
        peak = dict(sgemm, method="no C compiler: " + sgemm["method"] + " (a lower bound on the peak)")
    return {"peak": peak, "sgemm": sgemm}
