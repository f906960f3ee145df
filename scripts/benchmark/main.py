"""fusectl against every peer (PyTorch, torch.compile, ONNX Runtime, OpenVINO) on the standard workloads W1-W5 of docs/model.md.

    scripts/bench                       # W1-W5 at the sizes of docs/model.md, 5 rounds, all cores
    scripts/bench --quick               # smaller B: a smoke run
    scripts/bench --workloads W1,W3 --repeat 9 --threads 2
    scripts/bench --fusectl path/to/fusectl --json results.json
    scripts/bench --peers onnxruntime   # PyTorch and ONNX Runtime only (--peers none: PyTorch alone)
    scripts/bench --per-process         # the former way: each peer alone in its own process (no torch.compile)
    scripts/bench --torch-only          # the PyTorch column alone (no other peer, no fusectl)
    scripts/bench --fusectl-args "--plan projector-absorbed"    # time another plan (CLI columns)
    scripts/bench --rss-4096            # only: fusectl's peak RSS on W2's shape with B=4096 (4.3 GB file)

Steps: (1) writes the reference weights (default config, seed 0) twice, as `fusectl init`
writes them (64-byte aligned members) and as np.savez does, exports the reference to ONNX
once (benchmark/onnx_export.py), and writes the workload inputs into the cache folder
(--cache, default ${TMPDIR:-/tmp}/fusectl-bench; all reused while their stamps match);
(2) builds fusectl and libfusectl-c.so in release mode unless --fusectl or --no-build is given;
(3) measures the machine's FMA peak and its streaming read bandwidth from memory; (4) per
workload, in rounds (the default): one worker process (benchmark/sides.py) makes every side
ready on the same inputs and thread count -- PyTorch eager (inference_mode, need_weights=False,
per-step as one causal-mask pass), torch.compile of the same forward (Inductor; compile time
reported, not timed; a workload it cannot compile shows "–" and a note), ONNX Runtime and
OpenVINO on the ONNX graph (float32), fusectl in-process (fusectl.Model(...).fuse) -- checks each
against PyTorch (max abs <= 1e-4), runs --warmup untimed calls of each, then --repeat rounds of
one timed call of every side in a rotating order (benchmark/rounds.py); the speed-up is the
median over rounds of that round's fastest peer / that round's fusectl. Then fusectl's CLI
(1 warm-up run that also fills the page cache, then the median of --repeat whole-process runs;
forward time, the chosen plan and its FLOPs from --timings) with each weights layout, checked
against PyTorch (max abs <= 1e-4); then issue 18's in-process rows (benchmark/inprocess.py: 16
agents stepping together against one, import + Model beyond the weights' load). With
--per-process, each side instead runs alone in its own process, one after another
(benchmark/torch_fuse.py, benchmark/peers.py), and the ratio is read from the CLI's forward.
(5) prints a markdown table with issue 11's targets (fusectl against the best peer). Progress
goes to stderr, the report to stdout. Exit status: 0 when every run worked and every compared
output agreed, 1 otherwise, 2 on bad arguments.

Runs under the torch virtual environment ($FUSECTL_TORCH_VENV, else .venv-torch,
made by scripts/setup_torch.sh when torch is not importable; the peers come from
scripts/benchmark/requirements.txt): `scripts/bench` or `python3 -m benchmark` with
scripts/ on PYTHONPATH (benchmark/__main__.py).
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
from benchmark import peers as bench_peers
from benchmark import report as bench_report
from benchmark import rounds as bench_rounds
from benchmark import rss as bench_rss
from benchmark import sides as bench_sides
from benchmark import torch_side as bench_torch
from benchmark import workloads as bench_workloads


PEERS = ("torch.compile", *bench_peers.PEERS)
"""The peers besides PyTorch eager, in table order (torch.compile in the rounds mode only)."""


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
    parser.add_argument("--repeat", type=int, default=5,
                        help="rounds, and timed runs per CLI measure; medians taken (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed forward calls of each peer first (default 1)")
    parser.add_argument("--threads", type=int, default=cores, help=f"threads for every side (default: {cores}, all cores)")
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help=f"comma list of the peers besides PyTorch eager, or 'none' (default: {','.join(PEERS)}; "
        "--per-process runs no torch.compile)",
    )
    parser.add_argument(
        "--per-process",
        action="store_true",
        help="the former way: each peer timed alone in its own process, one after the other, and the ratio "
        "read from fusectl's CLI forward (--timings); default: every side in rounds in one worker process",
    )
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where inputs are generated and reused")
    parser.add_argument("--fusectl", type=Path, help="the fusectl binary to time (default: build it in release mode)")
    parser.add_argument("--no-build", action="store_true", help="do not run swift build; use .build/release/fusectl")
    parser.add_argument(
        "--fusectl-args",
        default="",
        help="extra options for every `fusectl fuse` run, one string (e.g. \"--plan projector-absorbed\")",
    )
    parser.add_argument("--torch-only", action="store_true", help="time PyTorch alone (no other peer, no fusectl)")
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
    names = [] if args.torch_only or args.peers.strip() == "none" else [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in names if p not in PEERS]
    if unknown:
        parser.error(f"--peers: unknown peer(s) {', '.join(unknown)}; expected some of {', '.join(PEERS)} or 'none'")
    if args.torch_only:
        args.per_process = True  # PyTorch alone: nothing to take turns with
    args.peer_list = [p for p in PEERS if p in names and (p in bench_peers.PEERS or not args.per_process)]
    args.dropped_peers = [p for p in PEERS if p in names and p not in args.peer_list]
    return args


def missing_peers(peers: list[str]) -> list[str]:
    """The peers (and the ONNX exporter's packages) that do not import here, as problem lines."""
    import importlib.util

    need = {"onnxruntime": ["onnxruntime"], "openvino": ["openvino"], "torch.compile": []}
    onnx = any(p in bench_peers.PEERS for p in peers)
    modules = sorted({m for p in peers for m in need[p]} | ({"onnx", "onnxscript"} if onnx else set()))
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if not absent:
        return []
    return [f"{', '.join(absent)} not importable under {sys.executable}: "
            "pip install -r scripts/benchmark/requirements.txt (or --peers none)"]


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


def run_fusectl(fusectl, weights: Path, files, w, args, out: Path) -> tuple[list[str], bench_fusectl.Summary]:
    """The `fusectl fuse` command on `weights` and its summary (1 warm-up + --repeat runs); raises FuseFailed."""
    out.unlink(missing_ok=True)
    cmd = fusectl.fuse_command(weights, files.fusectl_args(), w.per_step, out, args.threads)
    cmd += shlex.split(args.fusectl_args)
    log(f"bench: {w.name} fusectl, 1 warm-up + {args.repeat} timed: {' '.join(cmd)}")
    return cmd, bench_fusectl.run_fuse(cmd, args.repeat, files.folder, fusectl.launcher)


def workload_shape(w) -> str:
    """"B1 L16 T64", "B8 L32 T128 per-step", "B4 L32 T1024 P4", "... ragged"."""
    shape = f"B{w.B} L{w.L} T{w.T}" + (f" P{w.P}" if w.P > 1 else "") + (" per-step" if w.per_step else "")
    return shape + (" ragged" if w.ragged else "")


def bench_workload_rounds(w, weights, files, fusectl, onnx_model, args, problems) -> tuple[bench_report.Result, dict]:
    """Times one workload in rounds (benchmark/sides.py: every side ready in one worker process, checked against
    PyTorch, then --repeat rounds of one warm call each, rotating order), then fusectl's CLI runs as before.

    The speed-up is read per round (benchmark/rounds.py). A side that did not run is "–" with its reason
    (a problem, exit status 1, except torch.compile, which may fail to compile a workload: a note)."""
    raw: dict = {"workload": dataclasses.asdict(w), "peers": {}}
    torch_out = files.folder / "torch_out.npy"
    result = bench_report.Result(name=w.name, shape=workload_shape(w), peer_forward_s={"torch": None})
    sides = ["torch", *args.peer_list, *(["fusectl"] if fusectl is not None else [])]
    log(f"bench: {w.name} in rounds: {', '.join(bench_sides.LABELS[s] for s in sides)}; {args.warmup} warm-up + "
        f"{args.repeat} rounds")
    try:
        report = bench_sides.run_sides(weights["init"], onnx_model, files.fusectl_args(), w.per_step, args.threads,
                                       args.repeat, args.warmup, sides, fusectl.path if fusectl else None, torch_out)
    except bench_sides.SidesFailed as error:
        problems.append(f"{w.name}: PyTorch failed in the rounds worker: {error}")
        return result, raw
    raw["rounds"] = report
    reports = report["sides"]
    times = {name: r["times_s"] for name, r in reports.items() if r.get("times_s") and r.get("error") is None}
    summary = bench_rounds.summarize(times, "fusectl", ["torch", *args.peer_list])
    raw["rounds_summary"] = dataclasses.asdict(summary)
    for name, r in reports.items():
        if name != "torch" and r.get("max_abs_diff") is not None:
            if name == "fusectl":
                result.inprocess_diff = r["max_abs_diff"]
            else:
                result.peer_diffs[name] = r["max_abs_diff"]
        if r.get("error"):
            result.peer_errors[name] = r["error"]
            what = f"{w.name}: {bench_sides.LABELS[name]}: – ({r['error']})"
            (args.notes if name == "torch.compile" else problems).append(what)
        elif name != "fusectl":
            result.peer_forward_s[name] = summary.medians.get(name)
        if r.get("threads") not in (None, args.threads) and name != "fusectl":
            problems.append(f"{w.name}: {bench_sides.LABELS[name]} ran on {r['threads']} threads, not {args.threads}")
    if reports["torch"].get("threads_changed"):
        args.notes.append(f"{w.name}: PyTorch's thread count was {reports['torch']['threads_changed']}")
    if fusectl is not None and "fusectl" not in result.peer_errors:
        result.inprocess_s = summary.medians.get("fusectl")
        if reports["fusectl"].get("threads") != args.threads:
            problems.append(f"{w.name}: fusectl.Model ran on {reports['fusectl'].get('threads')} threads, not {args.threads}")
    result.round_speedup = summary.speedup
    result.round_range = summary.ratio_range
    result.rounds_won = summary.best_counts
    if fusectl is not None:
        fusectl_cli(w, weights, files, fusectl, args, problems, result, raw, torch_out)
    return result, raw


def bench_workload(w, weights, files, fusectl, onnx_model, args, problems) -> tuple[bench_report.Result, dict]:
    """Times one workload on every side; returns its Result and the raw measurements.

    `weights`: {"init": aligned .npz, "savez": np.savez's .npz}. A failed run, a peer that
    disagrees with PyTorch or incomparable outputs are appended to `problems` (exit status 1).
    """
    shape = workload_shape(w)
    raw: dict = {"workload": dataclasses.asdict(w), "peers": {}}
    torch_out = files.folder / "torch_out.npy"
    log(f"bench: {w.name} PyTorch forward, {args.warmup} warm-up + {args.repeat} timed")
    result = bench_report.Result(name=w.name, shape=shape, peer_forward_s={"torch": None})
    try:
        report = bench_torch.run_torch(
            weights["init"], files.torch_args(), w.per_step, torch_out, args.threads, args.repeat, args.warmup
        )
        result.peer_forward_s["torch"] = report["median_s"]
        raw["torch"] = report
    except bench_torch.TorchFailed as error:
        problems.append(f"{w.name}: PyTorch failed: {error}")
        return result, raw
    for peer in args.peer_list:
        log(f"bench: {w.name} {bench_report.PEER_LABELS[peer]}: checked against PyTorch, then "
            f"{args.warmup} warm-up + {args.repeat} timed")
        result.peer_forward_s[peer] = None
        try:
            report = bench_peers.run_peer(peer, onnx_model, files.fusectl_args(), w.per_step, torch_out,
                                          args.threads, args.repeat, args.warmup)
        except bench_peers.PeerFailed as error:
            problems.append(f"{w.name}: {bench_report.PEER_LABELS[peer]} failed: {error}")
            continue
        raw["peers"][peer] = report
        result.peer_forward_s[peer] = report["median_s"]
        result.peer_diffs[peer] = report["max_abs_diff"]
    if fusectl is not None:
        fusectl_cli(w, weights, files, fusectl, args, problems, result, raw, torch_out)
    return result, raw


def fusectl_cli(w, weights, files, fusectl, args, problems, result, raw, torch_out: Path) -> None:
    """fusectl's CLI runs on one workload (each weights layout: 1 warm-up + --repeat whole processes), checked
    against PyTorch's output in `torch_out`; fills result's CLI fields and raw["fusectl"], raw["fusectl_savez"]."""
    fusectl_out = files.folder / "fusectl_out.npy"
    try:
        cmd, summary = run_fusectl(fusectl, weights["init"], files, w, args, fusectl_out)
    except bench_fusectl.FuseFailed as error:
        problems.append(f"{w.name}: fusectl failed: {error}")
        return
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
    keys = ("e2e_s", "forward_s", "load_s", "pack_s", "write_s", "flops", "plan", "max_rss_kib")
    raw["fusectl"] = {
        "command": cmd,
        "runs": [dataclasses.asdict(r) for r in summary.runs],
        "median": {k: getattr(summary, k) for k in keys},
    }
    savez_out = files.folder / "fusectl_savez_out.npy"
    try:
        cmd, summary = run_fusectl(fusectl, weights["savez"], files, w, args, savez_out)
    except bench_fusectl.FuseFailed as error:
        problems.append(f"{w.name}: fusectl with np.savez weights failed: {error}")
        return
    result.fusectl_savez_e2e_s = summary.e2e_s
    diff, why = compare_outputs(torch_out, savez_out)
    if why or diff > bench_report.AGREEMENT_ATOL:
        problems.append(f"{w.name}: fusectl with np.savez weights: {why or f'max abs difference {diff:.1e}'}")
    raw["fusectl_savez"] = {
        "command": cmd,
        "runs": [dataclasses.asdict(r) for r in summary.runs],
        "median": {k: getattr(summary, k) for k in keys},
        "max_abs_diff": diff,
    }


def breakdown(raw: dict, key: str = "fusectl") -> str | None:
    """"W2: load 10 ms + forward 30 ms + write 2 ms + rest 5 ms of 47 ms e2e; plan ..." or None.

    key: "fusectl" (fusectl init's weights) or "fusectl_savez" (np.savez's).
    """
    median = raw.get(key, {}).get("median")
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
    layout = "np.savez weights" if key == "fusectl_savez" else "fusectl init weights"
    return f"- {raw['workload']['name']}, {layout}: {text}"


def peer_line(raw: dict) -> str | None:
    """"- W2 peers: ONNX Runtime 1.32.0: median 12 ms (min 11), max abs 3.0e-07, peak RSS 900 MiB; ..." or None."""
    parts = []
    for peer, report in raw.get("peers", {}).items():
        parts.append(
            f"{bench_report.PEER_LABELS[peer]} {report['version']}: median {bench_report.ms(report['median_s'])} ms "
            f"(min {bench_report.ms(report['min_s'])}), max abs {report['max_abs_diff']:.1e} from PyTorch, "
            f"peak RSS of its process {report['max_rss_kib'] / 1024:.0f} MiB"
        )
    if not parts:
        return None
    return f"- {raw['workload']['name']} peers: " + "; ".join(parts)


def rounds_method_line(args, raws: list[dict]) -> str:
    """How the in-process columns were measured, and what was set so that no side's threads spin into the next."""
    settings = next((r["rounds"]["settings"] for r in raws if r.get("rounds")), [])
    return (
        f"- in-process columns: every side made ready once in one worker process (benchmark/sides.py) on the same "
        f"inputs and {args.threads} threads, its output checked against PyTorch eager (max abs <= 1e-4), "
        f"{args.warmup} warm-up call(s) each, then {args.repeat} rounds of one timed call of every side in a "
        f"rotating order; each column is the median over the rounds, the speed-up the median over rounds of that "
        f"round's fastest peer / that round's fusectl (fusectl.Model.fuse; > 1: fusectl faster). PyTorch under "
        f"inference_mode, need_weights=False; torch.compile: Inductor, dynamic=False, compile time excluded; ONNX "
        f"Runtime and OpenVINO on the reference exported to ONNX, float32 (OpenVINO INFERENCE_PRECISION_HINT f32). "
        f"Set so that no pool spins into the next side's call: {'; '.join(settings) or 'n/a'} (OpenVINO's TBB "
        f"workers and fusectl's pool spin briefly, then sleep; neither has a setting)"
    )


def rounds_line(raw: dict) -> str | None:
    """"- W1 sides: PyTorch 2.15.0 ready in 0.8 s; torch.compile compiled in 29.7 s (excluded); ..." or None."""
    report = raw.get("rounds")
    if not report:
        return None
    parts = []
    for name, r in report["sides"].items():
        label = bench_sides.LABELS[name]
        if r.get("error"):
            parts.append(f"{label}: – ({r['error']})")
            continue
        if name == "torch.compile":
            parts.append(f"{label} ({r.get('version', '')}): compiled, with its first call, in {r['ready_s']:.1f} s "
                         "(not timed; Inductor's on-disk cache may hold kernels from an earlier run)")
        else:
            parts.append(f"{label} {r.get('version', '')}: ready, with its first call, in {r['ready_s']:.1f} s (not timed)")
    return f"- {raw['workload']['name']} sides: " + "; ".join(parts)


def in_process_rows(fusectl, weights: Path, results, raws, args, problems) -> str | None:
    """Issue 18's rows (benchmark/inprocess.py's measures) as a markdown table; None when the package does not
    import (a problem). W1's row is the rounds' own W1 row: fusectl.Model.fuse against the best peer's forward."""
    from benchmark import inprocess

    try:
        package = bench_sides.import_package(fusectl.path)
    except ImportError as error:
        problems.append(f"in-process rows not measured: {error}")
        return None
    rows, record = [], {}
    w1 = next((r for r in results if r.name == "W1"), None)
    if w1 is not None and w1.round_speedup is not None:
        best = max(w1.rounds_won, key=w1.rounds_won.get)
        rows.append(("W1 in-process: Model.fuse vs the best peer's in-process forward (rounds above)",
                     f"{w1.round_speedup:.2f}× (fusectl {bench_report.ms(w1.inprocess_s)} ms, fastest peer "
                     f"{bench_report.PEER_LABELS[best]} in {w1.rounds_won[best]} of {sum(w1.rounds_won.values())} rounds, "
                     f"median {bench_report.ms(w1.peer_forward_s.get(best))} ms)",
                     "≥ 1.3×", "met" if w1.round_speedup >= 1.3 else "not met"))
    else:
        rows.append(("W1 in-process vs the best peer", "n/a (W1 not run in rounds, or no peer/fusectl time)", "≥ 1.3×", "unknown"))
    log(f"bench: 16 agents x 256 frames stepping together vs one agent, {args.repeat} alternating rounds")
    try:
        agents = inprocess.agents_step(package, str(weights), args.threads, args.repeat, agents=16, history=256)
        record["agents"] = agents
        rows.append((f"{agents['agents']} agents, {agents['history']}+ frames of history: one step of all / one agent's step",
                     f"{agents['together_ms']:.2f} / {agents['alone_ms']:.2f} ms (medians); median of per-round "
                     f"ratios {agents['ratio']:.2f}×", "≤ 2×", "met" if agents["ratio"] <= 2 else "not met"))
    except Exception as error:  # noqa: BLE001 - reported, the rest of the report still prints
        problems.append(f"in-process agents row: {type(error).__name__}: {error}")
    log(f"bench: import fusectl and fusectl.Model(w) in {args.repeat} fresh interpreters")
    try:
        imports, opens = inprocess.import_and_open(package, str(weights), args.repeat)
        w1_raw = next((r for r in raws if r["workload"]["name"] == "W1" and r.get("fusectl")), None)
        load = (w1_raw or {}).get("fusectl", {}).get("median", {}).get("load_s")
        if load is not None:
            load_ms, where = load * 1e3, "W1's CLI runs above"
        else:
            rng = np.random.default_rng(0)
            text = rng.standard_normal((1, 16, 768), dtype=np.float32)
            images = rng.standard_normal((1, 64, 2048), dtype=np.float32)
            load_ms, where = inprocess.cli_load_ms(fusectl.path, weights, text, images, args.repeat), "W1-shaped CLI runs"
        beyond = inprocess.beyond_load_ms(imports, opens, load_ms)
        record["import"] = {"import_ms": imports, "model_ms": opens, "cli_load_ms": load_ms, "beyond_ms": beyond}
        rows.append(("`import fusectl; fusectl.Model(w)` beyond the weights' own load (default model)",
                     f"{beyond:.1f} ms: import {imports:.1f} + Model {opens:.1f} − the CLI's load {load_ms:.1f} ms "
                     f"(--timings load_s, {where}); medians of {args.repeat} fresh interpreters", "≤ 30 ms",
                     "met" if beyond <= 30 else "not met"))
    except Exception as error:  # noqa: BLE001
        problems.append(f"in-process import row: {type(error).__name__}: {error}")
    args.in_process_raw = record
    lines = ["| what | measured | target | met? |", "|---|---|---|---|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def versions(peers: list[str]) -> str:
    """"torch 2.15.0, onnxruntime 1.32.0, openvino 2026.4.1, numpy 2.4.6" for the peers that import."""
    import importlib.metadata

    import torch

    parts = [f"torch {torch.__version__}"]
    for peer in (p for p in peers if p != "torch.compile"):
        try:
            parts.append(f"{peer} {importlib.metadata.version(peer)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{peer} not installed")
    return ", ".join(parts + [f"numpy {np.__version__}"])


def machine_lines(args, peak: dict) -> list[str]:
    best = peak["best"]
    peak_line = f"- peak: {best['gflops']:.0f} GFLOP/s ({best['method']})"
    if best["this_run_gflops"] < best["gflops"]:
        peak_line += f"; this run measured only {best['this_run_gflops']:.0f}"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
        f"{platform.machine()} {bench_peak.cpu_model()}, {os.cpu_count()} CPUs; threads used: {args.threads}; "
        f"{versions(args.peer_list)}",
        peak_line + f"; for context, PyTorch's own sgemm: {peak['sgemm']['gflops']:.0f} GFLOP/s ({peak['sgemm']['method']})",
        "- memory bandwidth: " + (
            f"{peak['bandwidth']['gbps']:.1f} GB/s ({peak['bandwidth']['method']})" if peak.get("bandwidth")
            else "not measured (no C compiler)"
        ),
    ]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.rss_4096:
        return bench_rss.main(args, log)
    load_before = os.getloadavg()
    problems = missing_peers(args.peer_list)
    if problems:
        args.peer_list = [p for p in args.peer_list if p not in bench_peers.PEERS]
    weights = {"init": bench_workloads.ensure_weights(args.cache, log)}
    weights["savez"] = bench_workloads.ensure_savez_weights(args.cache, weights["init"], log)
    onnx_model = None
    if any(p in bench_peers.PEERS for p in args.peer_list):
        from benchmark import onnx_export

        onnx_model = onnx_export.export(weights["init"], args.cache / "peers" / "reference.onnx", log)
    folder = args.cache / ("quick" if args.quick else "full")
    inputs = [(w, bench_workloads.ensure_workload(w, folder / w.name, log)) for w in args.selected]
    fusectl, notes = bench_fusectl.find(args, log)
    args.notes = notes
    if args.dropped_peers:
        notes.append(f"{', '.join(args.dropped_peers)} not run: --per-process has no torch.compile process; "
                     "torch.compile runs in the rounds (the default)")
    log(f"bench: measuring the FMA peak and the memory bandwidth on {args.threads} threads")
    peak = bench_peak.measure_peak(args.threads, args.cache)
    peak["bandwidth"] = bench_peak.memory_bandwidth(args.threads, args.cache, mib=256 if args.quick else 1024)
    results, raws = [], []
    for w, files in inputs:
        timed = bench_workload if args.per_process else bench_workload_rounds
        result, raw = timed(w, weights, files, fusectl, onnx_model, args, problems)
        results.append(result)
        raws.append(raw)
    in_process = None
    if not args.per_process and fusectl is not None:
        in_process = in_process_rows(fusectl, weights["init"], results, raws, args, problems)
    log("bench: measuring the FMA peak again (a busy machine measures it low)")
    # The FMA loop alone: the sgemm rate measure_peak also takes is only context, measured once above.
    peak_again = bench_peak.fma_peak(args.threads, args.cache) or peak["peak"]
    peak["best"] = bench_peak.best_peak(args.cache, args.threads, [peak["peak"], peak_again])
    load_after = os.getloadavg()

    title = "quick smoke run (smaller B: not comparable with the targets)" if args.quick else "full sizes (docs/model.md)"
    others = ", ".join(bench_report.PEER_LABELS[p] for p in ["torch", *args.peer_list])
    print(f"## fusectl vs {others}, {title}\n")
    if args.per_process:
        print(bench_report.table(results, peak["best"]["gflops"], ["torch", *args.peer_list]))
    else:
        print(bench_report.rounds_table(results, peak["best"]["gflops"], ["torch", *args.peer_list]))
    print()
    for line in machine_lines(args, peak):
        print(line)
    loads = (f"load average before/after: {load_before[0]:.2f}/{load_after[0]:.2f} "
             "(other work on the machine makes every number noisy)")
    if args.per_process:
        print(
            f"- medians of {args.repeat} runs (fusectl: whole process after 1 warm-up run, files in page cache; "
            f"peers: in-process forward calls after {args.warmup} warm-up, each in its own process; ONNX Runtime "
            f"and OpenVINO on the reference exported to ONNX, OpenVINO with INFERENCE_PRECISION_HINT f32, both "
            f"with {args.threads} intra-op threads); {loads}"
        )
    else:
        print(rounds_method_line(args, raws))
        print(f"- CLI columns: `fusectl fuse` as a user runs it, medians of {args.repeat} whole processes after 1 "
              f"warm-up run (files in page cache), timed after the rounds; CLI fwd is its --timings forward_s; {loads}")
    print(f"- inputs and weights: {args.cache}; command: {shlex.join(['scripts/bench', *argv])}")
    busiest = max(load_before[0], load_after[0])
    if busiest > 0.5 * (os.cpu_count() or 1):
        print(
            f"- warning: the machine was busy (load average up to {busiest:.1f} on {os.cpu_count()} CPUs). "
            "PyTorch's OpenMP threads suffer most from sharing cores (W1 with 2 threads was seen 3× slower than "
            "with 1 on a busy machine), which flatters the speed-ups: rerun on a quiet machine before quoting them."
        )
    for raw in raws:
        for line in (peer_line(raw), rounds_line(raw), breakdown(raw), breakdown(raw, "fusectl_savez")):
            if line:
                print(line)
    if in_process:
        print("\n### In-process (issue 18's targets), same run\n")
        print(in_process)
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
        record = {"args": {k: str(v) for k, v in vars(args).items() if k not in ("selected", "notes", "in_process_raw")},
                  "peak": peak,
                  "workloads": raws, "in_process": getattr(args, "in_process_raw", None),
                  "results": [dataclasses.asdict(r) for r in results], "notes": notes,
                  "problems": problems}
        args.json.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return 1 if problems or any(r.agrees is False for r in results) else 0
