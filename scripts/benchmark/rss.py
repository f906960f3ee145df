"""scripts/bench --rss-4096: fusectl's peak resident memory on W2's shape with B = 4096.

Issue 4 asks that large inputs stream in chunks so that peak RSS does not grow
with B: this 4.3 GB images file must fuse in under 1 GiB. The run is timed once
(after the inputs were written or read back, so they are in the page cache as far
as memory allows), through the launcher scripts/benchmark/spawn.c. Reported:
wait4's ru_maxrss (the kernel's peak RSS, which counts touched pages of
memory-mapped files as well as the heap) and the peaks of RssAnon and RssFile
sampled from /proc every 5 ms (short spikes between samples can be missed;
ru_maxrss cannot). The output's first VERIFY_SAMPLES
samples are checked against the PyTorch reference (max abs <= 1e-4).
"""

from __future__ import annotations

import shlex

import numpy as np

from benchmark import fusectl as bench_fusectl
from benchmark import report as bench_report
from benchmark import workloads as bench_workloads

RSS_LIMIT_KIB = 1024 * 1024
"""Issue 4: under 1 GiB."""

VERIFY_SAMPLES = 8


def reference_rows(weights, files, count: int) -> np.ndarray:
    """PyTorch reference output (count, 1, d) for the first `count` samples (read through a memory map)."""
    import torch

    from reference.model import load_weights_npz

    model = load_weights_npz(weights)
    text = np.load(files.text, mmap_mode="r")[:count]
    images = np.load(files.images, mmap_mode="r")[:count]
    with torch.inference_mode():
        return model.forward(np.array(text), np.array(images)).numpy()  # writable copies of the mapped rows


def main(args, log, w: bench_workloads.Workload = bench_workloads.RSS_4096) -> int:
    """Generates (or reuses) w's inputs, runs fusectl once, prints a small report; 0 if it ran and agreed.

    `w` is RSS_4096 except in tests, which pass a small W2-shaped workload.
    """
    weights = bench_workloads.ensure_weights(args.cache, log)
    files = bench_workloads.ensure_workload(w, args.cache / "rss" / w.name, log)
    fusectl, notes = bench_fusectl.find(args, log)
    print(f"## fusectl peak RSS, {w.name}: B={w.B} L={w.L} T={w.T}, images {w.images_bytes / 1e9:.2f} GB\n")
    if fusectl is None or fusectl.launcher is None:
        for note in notes:
            print(f"- note: {note}")
        return 1
    out = files.folder / "fusectl_out.npy"
    out.unlink(missing_ok=True)
    cmd = fusectl.fuse_command(weights, files.fusectl_args(), False, out, args.threads)
    cmd += shlex.split(args.fusectl_args)
    log(f"bench: {' '.join(cmd)}")
    try:
        run = bench_fusectl.run_once(cmd, files.folder / "fusectl.stderr", fusectl.launcher, sample_status=True)
    except bench_fusectl.FuseFailed as error:
        print(f"- fusectl failed: {error}")
        return 1
    log(f"bench: PyTorch reference on the first {VERIFY_SAMPLES} samples")
    expected = reference_rows(weights, files, VERIFY_SAMPLES).astype(np.float64)
    actual = np.load(out, mmap_mode="r")
    if actual.shape != (w.B, 1, expected.shape[-1]):
        diff_text, agrees = f"fusectl wrote shape {actual.shape}, expected {(w.B, 1, expected.shape[-1])}", False
    else:
        diff = float(np.abs(actual[:VERIFY_SAMPLES].astype(np.float64) - expected).max())
        agrees = diff <= bench_report.AGREEMENT_ATOL
        diff_text = f"{diff:.1e} on the first {VERIFY_SAMPLES} samples ({'ok' if agrees else 'FAIL'}, limit 1e-4)"
    met = run.max_rss_kib < RSS_LIMIT_KIB
    print(f"- peak RSS (ru_maxrss): {run.max_rss_kib / 1024:.0f} MiB — target < 1024 MiB: {'met' if met else 'not met'}")
    print(
        f"- sampled peaks: RssAnon {run.rss_anon_kib / 1024:.0f} MiB (heap, copies), "
        f"RssFile {run.rss_file_kib / 1024:.0f} MiB (mapped file pages)"
    )
    if not met and run.rss_file_kib > run.rss_anon_kib:
        print(
            "- mapped file pages dominate: some pass reads the inputs without releasing their pages "
            "(e.g. a whole-file check before the chunked forward pass)"
        )
    timing = f"- end to end {run.e2e_s:.2f} s"
    if run.timings:
        timing += ", --timings: " + ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in run.timings.items()
        )
    print(timing)
    print(f"- max abs diff vs PyTorch: {diff_text}")
    print(f"- command: {' '.join(cmd)}")
    for note in notes:
        print(f"- note: {note}")
    return 0 if agrees else 1
