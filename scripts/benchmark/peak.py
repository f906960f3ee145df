"""The machine's measured float32 peak, the denominator of scripts/bench's "% of peak", and its memory bandwidth.

measure_peak(threads, cache) compiles scripts/benchmark/peak.c (a register-only FMA
loop) twice with the system C compiler, -march=native and -march=native
-mno-avx512f (on some cores 256-bit FMAs issue as fast as 512-bit ones), runs each
`tries` times and keeps the best (noise only ever lowers a peak). Without a C
compiler it falls back to the best of a few 4096x4096 float32 matrix products
(torch.matmul), which is a lower bound on the peak, and says so in the result's
"method".

sgemm_gflops(threads) is reported beside it for context: what a tuned BLAS
(torch.matmul, i.e. the library PyTorch itself uses) reaches on this machine.

A busy machine measures a low peak (one run here saw 61 GFLOP/s where a quiet
moment gave 226), and then fusectl's "% of peak" can pass 100%. A peak is an
upper bound that noise only lowers, so best_peak() keeps the best FMA-loop result
ever measured in the cache folder for this CPU model and thread count
(<cache>/peak-record.json) and uses the larger of it and this run's.

memory_bandwidth(threads, cache) compiles scripts/benchmark/bandwidth.c and reports the
best streaming read rate over a buffer far larger than the caches (printed beside the
peak: one-row work is bound by it, not by the FMA rate).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import time
from pathlib import Path
from typing import Optional

from benchmark import cc

VARIANTS = {"native": ["-march=native"], "native-no-avx512": ["-march=native", "-mno-avx512f"]}


def fma_peak(threads: int, cache: Path, seconds: float = 0.5, tries: int = 3) -> Optional[dict]:
    """Best FMA-loop GFLOP/s over the variants, or None without a working compiler.

    Returns {"gflops", "method", "runs": {variant: [gflops...]}}.
    """
    runs: dict[str, list[float]] = {}
    best = (0.0, "")
    for variant, flags in VARIANTS.items():
        binary = cache / "bin" / f"bench_peak-{variant}"
        if cc.compile_c("peak.c", binary, [*flags, "-pthread"]):
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


def memory_bandwidth(threads: int, cache: Path, mib: int = 1024, seconds: float = 1.0) -> Optional[dict]:
    """Streaming read bandwidth from memory on `threads` threads (scripts/benchmark/bandwidth.c over a
    `mib` MiB buffer, far past the caches; best pass of about `seconds` s), or None without a C compiler.

    Returns {"gbps", "method"}; gbps is 1e9 bytes read per second.
    """
    binary = cache / "bin" / "bench_bandwidth"
    if cc.compile_c("bandwidth.c", binary, ["-march=native", "-pthread"]):
        return None
    done = subprocess.run([str(binary), str(threads), str(mib), str(seconds)], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    result = json.loads(done.stdout)
    method = (f"read of a {mib} MiB buffer, {threads} threads, best of {result['passes']} passes "
              "(C, -O2 -march=native)")
    return {"gbps": result["gbps"], "method": method}


def cpu_model() -> str:
    """/proc/cpuinfo's first "model name" with its "cpu family" and "model" numbers
    ("AMD EPYC (family 26 model 2)": virtual machines often show a bare vendor name), or "unknown CPU"."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "cpu family", "model") and key not in fields:
                fields[key] = value.strip()
            if not line.strip() and fields:
                break
    except OSError:
        pass
    name = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']} model {fields['model']})"
    return name


def best_peak(cache: Path, threads: int, measured: list[dict]) -> dict:
    """The peak to divide by: the best of this run's measurements and the recorded best.

    `measured` holds measure_peak()["peak"] results of this run. Only FMA-loop results
    (not the sgemm fallback) are recorded and compared. Returns {"gflops", "method",
    "this_run_gflops", "recorded": None or {"gflops", "date"} (the record before this run)}.
    """
    this_run = max(measured, key=lambda p: p["gflops"])
    record_path = cache / "peak-record.json"
    key = f"{cpu_model()} | {threads} threads"
    try:
        records = json.loads(record_path.read_text())
    except (OSError, ValueError):
        records = {}
    recorded = records.get(key)
    result = {"gflops": this_run["gflops"], "method": this_run["method"], "this_run_gflops": this_run["gflops"],
              "recorded": recorded}
    if "runs" not in this_run:  # the sgemm fallback: neither recorded nor compared
        return result
    if recorded and recorded["gflops"] > this_run["gflops"]:
        result.update(gflops=recorded["gflops"], method=recorded["method"] + f", recorded {recorded['date']}")
    else:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        records[key] = {"gflops": this_run["gflops"], "method": this_run["method"], "date": now}
        record_path.write_text(json.dumps(records, indent=1) + "\n")
    return result
