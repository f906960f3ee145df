"""fusectl against the peers on the standard workloads W1-W5 of docs/model.md.

    scripts/bench                       # W1-W5 at the sizes of docs/model.md, medians of 5, all cores
    scripts/bench --quick               # smaller B: a smoke run in about a minute
    scripts/bench --workloads W1,W3 --repeat 9 --threads 1
    scripts/bench --fusectl path/to/fusectl --json results.json
    scripts/bench --torch-only          # the PyTorch column alone
    scripts/bench --fusectl-args "--plan projector-absorbed"    # time another plan
    scripts/bench --rss-4096            # only: fusectl's peak RSS on W2's shape with B=4096 (4.3 GB file)

Steps: (1) writes the reference weights (default config, seed 0) and the workload
inputs into the cache folder (--cache, default ${TMPDIR:-/tmp}/fusectl-bench;
reused while their manifests match); (2) builds fusectl in release mode unless
--fusectl or --no-build is given; (3) measures the machine's FMA peak; (4) per
workload runs the PyTorch reference (benchmark/torch_fuse.py: inference_mode, same
thread count, need_weights=False, per-step as one causal-mask pass; 1 warm-up,
median of --repeat) and fusectl (1 warm-up run that also fills the page cache,
then median of --repeat whole-process runs; forward time, FLOPs and plan from
--timings when the binary has it), checks the outputs agree (max abs <= 1e-4)
and (5) prints a markdown table with issue 4's targets. Progress goes to stderr,
the report to stdout. Exit status: 0 when every run worked and every compared
output agreed, 1 otherwise, 2 on bad arguments.

Runs under the torch virtual environment ($FUSECTL_TORCH_VENV, else .venv-torch,
made by scripts/setup_torch.sh when torch is not importable): `scripts/bench` or
`python3 -m benchmark` with scripts/ on PYTHONPATH (benchmark/__main__.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmark import fusectl as bench_fusectl
from benchmark import peak as bench_peak
from benchmark import report as bench_report
from benchmark import rss as bench_rss
from benchmark import torch_side as bench_torch
from benchmark import workloads as bench_workloads


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_cache() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "fusectl-bench"


def parse_args(argv: list[str]) -> argparse.Namespace:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=__doc__.strip().splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.strip().splitlines()[1:]),
    )
    parser.add_argument("--quick", action="store_true", help="smaller batch sizes (W2 B=16, W3 B=1, W4 B=2, W5 B=8)")
    parser.add_argument("--workloads", help="comma list, e.g. W1,W3 (default: all five)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measure, median taken (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed PyTorch forward calls first (default 1)")
    parser.add_argument("--threads", type=int, default=cores, help=f"threads for both sides (default: {cores}, all cores)")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where inputs are generated and reused")
    parser.add_argument("--fusectl", type=Path, help="the fusectl binary to time (default: build it in release mode)")
    parser.add_argument("--no-build", action="store_true", help="do not run swift build; use .build/release/fusectl")
    parser.add_argument(
        "--fusectl-args",
        default="",
        help="extra options for every `fusectl fuse` run, one string (e.g. \"--plan projector-absorbed\")",
    )
    parser.add_argument("--torch-only", action="store_true", help="time the PyTorch side alone (no fusectl)")
    parser.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    parser.add_argument("--rss-4096", action="store_true", help="only measure fusectl's peak RSS with B=4096")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--repeat and --threads must be >= 1, --warmup >= 0")
    if args.torch_only and (args.fusectl or args.no_build or args.rss_4096):
        parser.error("--torch-only runs no fusectl; it takes none of --fusectl, --no-build, --rss-4096")
    if args.fusectl and args.no_build:
        parser.error("--fusectl already names the binary; --no-build does not apply")
    if args.rss_4096 and (args.quick or args.workloads):
        parser.error("--rss-4096 runs alone; it takes neither --quick nor --workloads")
    try:
        args.selected = bench_workloads.select(bench_workloads.workloads(args.quick), args.workloads)
    except ValueError as error:
        parser.error(str(error))
    return args


def compare_outputs(torch_out: Path, fusectl_out: Path) -> tuple[float, str]:
    """(max abs difference, "" or why it is infinite) between the two .npy outputs."""
    expected = np.load(torch_out).astype(np.float64)
    actual = np.load(fusectl_out).astype(np.float64)
    if expected.shape != actual.shape:
        return float("inf"), f"fusectl wrote shape {actual.shape}, PyTorch {expected.shape}"
    diff = np.abs(expected - actual)
    if not np.all(np.isfinite(diff)):
        return float("inf"), "non-finite values in an output"
    return (float(diff.max()) if diff.size else 0.0), ""


def bench_workload(w, weights, files, fusectl, args, problems) -> tuple[bench_report.Result, dict]:
    """Times one workload on both sides; returns its Result and the raw measurements.

    A failed run or incomparable outputs are appended to `problems` (they make the exit status 1).
    """
    shape = f"B{w.B} L{w.L} T{w.T}" + (f" P{w.P}" if w.P > 1 else "") + (" per-step" if w.per_step else "")
    shape += " ragged" if w.ragged else ""
    raw: dict = {"workload": dataclasses.asdict(w)}
    torch_out = files.folder / "torch_out.npy"
    log(f"bench: {w.name} PyTorch forward, {args.warmup} warm-up + {args.repeat} timed")
    result = bench_report.Result(name=w.name, shape=shape, torch_forward_s=None)
    try:
        report = bench_torch.run_torch(weights, files.torch_args(), w.per_step, torch_out, args.threads, args.repeat, args.warmup)
        result.torch_forward_s = report["median_s"]
        raw["torch"] = report
    except bench_torch.TorchFailed as error:
        problems.append(f"{w.name}: PyTorch failed: {error}")
        return result, raw
    if fusectl is None:
        return result, raw
    fusectl_out = files.folder / "fusectl_out.npy"
    fusectl_out.unlink(missing_ok=True)
    cmd = fusectl.fuse_command(weights, files.fusectl_args(), w.per_step, fusectl_out, args.threads)
    cmd += shlex.split(args.fusectl_args)
    log(f"bench: {w.name} fusectl, 1 warm-up + {args.repeat} timed: {' '.join(cmd)}")
    try:
        summary = bench_fusectl.run_fuse(cmd, args.repeat, files.folder, fusectl.launcher)
    except bench_fusectl.FuseFailed as error:
        problems.append(f"{w.name}: fusectl failed: {error}")
        return result, raw
    result.fusectl_e2e_s = summary.e2e_s
    result.fusectl_forward_s = summary.forward_s
    result.flops = summary.flops
    result.max_rss_kib = summary.max_rss_kib
    result.plan = summary.plan
    result.max_abs_diff, why = compare_outputs(torch_out, fusectl_out)
    if why:
        problems.append(f"{w.name}: outputs not comparable: {why}")
    if fusectl.has_timings and summary.forward_s is None:
        problems.append(f"{w.name}: --timings printed no JSON line with forward_s on some run")
    raw["fusectl"] = {
        "command": cmd,
        "runs": [dataclasses.asdict(r) for r in summary.runs],
        "median": {k: getattr(summary, k) for k in ("e2e_s", "forward_s", "load_s", "pack_s", "write_s", "flops", "plan")},
    }
    return result, raw


def breakdown(raw: dict) -> str | None:
    """"W2: load 10 ms + forward 30 ms + write 2 ms + rest 5 ms of 47 ms e2e; plan ..." or None."""
    median = raw.get("fusectl", {}).get("median")
    if not median or median.get("forward_s") is None:
        return None
    parts = [(k, median.get(k + "_s")) for k in ("load", "forward", "write")]
    known = sum(v for _, v in parts if v is not None)
    text = " + ".join(f"{k} {bench_report.ms(v)} ms" for k, v in parts if v is not None)
    text += f" + rest (process start and exit; medians need not add up) {bench_report.ms(median['e2e_s'] - known)} ms"
    text += f" = {bench_report.ms(median['e2e_s'])} ms end to end"
    if median.get("pack_s") is not None:
        text += f" (load includes packing the weights: {bench_report.ms(median['pack_s'])} ms)"
    if median.get("plan"):
        text += f"; plan: {median['plan']}"
    return f"- {raw['workload']['name']}: {text}"


def machine_lines(args, peak: dict) -> list[str]:
    import torch

    best = peak["best"]
    peak_line = f"- peak: {best['gflops']:.0f} GFLOP/s ({best['method']})"
    if best["this_run_gflops"] < best["gflops"]:
        peak_line += f"; this run measured only {best['this_run_gflops']:.0f}"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
        f"{platform.machine()} {bench_peak.cpu_model()}, {os.cpu_count()} CPUs; threads used: {args.threads}; "
        f"torch {torch.__version__}, numpy {np.__version__}",
        peak_line + f"; for context, PyTorch's own sgemm: {peak['sgemm']['gflops']:.0f} GFLOP/s ({peak['sgemm']['method']})",
    ]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.rss_4096:
        return bench_rss.main(args, log)
    load_before = os.getloadavg()
    weights = bench_workloads.ensure_weights(args.cache, log)
    folder = args.cache / ("quick" if args.quick else "full")
    inputs = [(w, bench_workloads.ensure_workload(w, folder / w.name, log)) for w in args.selected]
    fusectl, notes = bench_fusectl.find(args, log)
    log(f"bench: measuring the FMA peak on {args.threads} threads")
    peak = bench_peak.measure_peak(args.threads, args.cache)
    results, raws, problems = [], [], []
    for w, files in inputs:
        result, raw = bench_workload(w, weights, files, fusectl, args, problems)
        results.append(result)
        raws.append(raw)
    log("bench: measuring the FMA peak again (a busy machine measures it low)")
    # The FMA loop alone: the sgemm rate measure_peak also takes is only context, measured once above.
    peak_again = bench_peak.fma_peak(args.threads, args.cache) or peak["peak"]
    peak["best"] = bench_peak.best_peak(args.cache, args.threads, [peak["peak"], peak_again])
    load_after = os.getloadavg()

    title = "quick smoke run (smaller B: not comparable with the targets)" if args.quick else "full sizes"
    print(f"## fusectl vs PyTorch, {title}\n")
    print(bench_report.table(results, peak["best"]["gflops"]))
    print()
    for line in machine_lines(args, peak):
        print(line)
    print(
        f"- medians of {args.repeat} runs (fusectl: whole process after 1 warm-up run, files in page cache; "
        f"PyTorch: forward calls after {args.warmup} warm-up); load average before/after: "
        f"{load_before[0]:.2f}/{load_after[0]:.2f} (other work on the machine makes every number noisy)"
    )
    print(f"- inputs and weights: {args.cache}; command: {shlex.join(['scripts/bench', *argv])}")
    busiest = max(load_before[0], load_after[0])
    if busiest > 0.5 * (os.cpu_count() or 1):
        print(
            f"- warning: the machine was busy (load average up to {busiest:.1f} on {os.cpu_count()} CPUs). "
            "PyTorch's OpenMP threads suffer most from sharing cores (W1 with 2 threads was seen 3× slower than "
            "with 1 on a busy machine), which flatters the speed-ups: rerun on a quiet machine before quoting them."
        )
    for raw in raws:
        line = breakdown(raw)
        if line:
            print(line)
    above = [r.name for r in results if r.gflops is not None and r.gflops > peak["best"]["gflops"]]
    if above:
        notes.append(
            f"{', '.join(above)} ran above the peak: the peak was measured too low (a busy machine) "
            "or fusectl's reported FLOPs overstate the work."
        )
    for note in notes:
        print(f"- note: {note}")
    for problem in problems:
        print(f"- problem: {problem}")
    if args.json:
        record = {"args": {k: str(v) for k, v in vars(args).items() if k != "selected"}, "peak": peak, "workloads": raws,
                  "results": [dataclasses.asdict(r) for r in results], "notes": notes,
                  "problems": problems}
        args.json.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return 1 if problems or any(r.agrees is False for r in results) else 0
