"""The fusectl side of scripts/bench: finding the binary and timing `fusectl fuse`.

Each run is the command exactly as a user runs it (a new process that reads the
files, fuses and writes OUT.npy), started through the small C launcher
scripts/benchmark/spawn.c, which measures per run:
  - e2e_s: wall time from fork to reaped exit;
  - max_rss_kib: the process's own peak resident set (wait4's ru_maxrss, KiB).
    Spawned straight from this Python process it would start from Python's own
    high-water mark (Linux keeps the parent's peak across fork and exec), hence
    the launcher; without a C compiler, runs are spawned from Python and the peak
    RSS is not reported;
  - with sample_status, the peaks of RssAnon and RssFile polled from /proc every
    5 ms (memory-mapped input pages count in RSS too), which tells a streaming
    reader that keeps the file mapped from one that holds copies;
and from the binary's stderr, the JSON line `--timings` prints ({"load_s",
"forward_s", "write_s", "plan", "flops", ...}) when the binary has that option.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Optional

from benchmark import cc

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""


@dataclasses.dataclass(frozen=True)
class Fusectl:
    """A fusectl binary, the `fuse` options it has (older builds lack --timings/--threads) and the
    launcher that runs it (bench_spawn; None: spawned from Python, no peak RSS)."""

    path: Path
    has_timings: bool
    has_threads: bool
    launcher: Optional[Path] = None

    def fuse_command(self, weights: Path, inputs: list[str], per_step: bool, out: Path, threads: int) -> list[str]:
        cmd = [str(self.path), "fuse", "--weights", str(weights), *inputs, "--out", str(out)]
        if per_step:
            cmd.append("--per-step")
        if self.has_threads:
            cmd += ["--threads", str(threads)]
        if self.has_timings:
            cmd.append("--timings")
        return cmd


def build_release(log=print, products: tuple[str, ...] = ("fusectl",)) -> tuple[Optional[Path], str]:
    """Runs `swift build -c release --static-swift-stdlib --product P` at the repository root for each of
    `products` (fusectl, and fusectl-c: libfusectl-c.so, the Python package's library, beside it).

    Returns (binary path, "") on success, else (None, why).
    """
    swift = shutil.which("swift")
    if swift is None:
        return None, "swift is not on PATH"
    for product in products:
        command = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", product]
        log(f"bench: {' '.join(command)} (incremental)")
        done = subprocess.run([swift, *command[1:]], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            return None, f"`{' '.join(command)}` failed (exit {done.returncode}):\n{tail}"
    where = subprocess.run(
        [swift, "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True
    )
    path = Path(where.stdout.strip()) / "fusectl"
    if where.returncode != 0 or not path.is_file():
        return None, f"built, but no binary at {path}"
    return path, ""


def probe(path: Path) -> tuple[Optional[Fusectl], str]:
    """Checks that `path fuse --help` works and which options it lists; (None, why) if not."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        return None, f"{path} is not an executable file"
    try:
        done = subprocess.run([str(path), "fuse", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{path} fuse --help failed: {error}"
    text = done.stdout + done.stderr
    if done.returncode != 0 or "--weights" not in text:
        return None, f"{path} fuse --help exited {done.returncode} without listing --weights:\n{text.strip()[:500]}"
    return Fusectl(path, has_timings="--timings" in text, has_threads="--threads" in text), ""


def parse_timings(stderr: str) -> Optional[dict]:
    """The last stderr line that is a JSON object with a numeric "forward_s"; None when there is none."""
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("forward_s"), (int, float)):
            return value
    return None


@dataclasses.dataclass
class Run:
    """One fusectl process: wall time, peak RSS, parsed --timings and the sampled RSS split."""

    e2e_s: float
    max_rss_kib: Optional[int]
    timings: Optional[dict]
    rss_anon_kib: Optional[int] = None
    rss_file_kib: Optional[int] = None


class FuseFailed(RuntimeError):
    """fusectl exited non-zero; the message carries the command and its stderr."""


def find(args, log=print) -> tuple[Optional[Fusectl], list[str]]:
    """The binary to time and notes about it (why it is missing, which options it lacks).

    `args`: scripts/bench's options (torch_only, fusectl, no_build, cache).
    """
    notes = []
    if args.torch_only:
        return None, ["fusectl not run (--torch-only)."]
    if args.fusectl:
        path, why = args.fusectl, ""
    elif args.no_build:
        path, why = ROOT / ".build" / "release" / "fusectl", ""
    else:
        path, why = build_release(log)
        if path is not None and not getattr(args, "per_process", True):
            built, lib_why = build_release(log, ("fusectl-c",))  # the in-process side's library
            if built is None:
                notes.append(f"fusectl in-process not run: {lib_why}")
    fusectl = None
    if path is not None:
        fusectl, why = probe(path)
    if fusectl is None:
        notes.append(f"fusectl columns skipped: {why}")
        return None, notes
    if not fusectl.has_timings:
        notes.append(
            f"{fusectl.path} has no --timings: forward, e2e/fwd and GFLOP/s are n/a; the speed-up shown "
            "is PyTorch forward / fusectl end to end, a lower bound."
        )
    if not fusectl.has_threads:
        notes.append(f"{fusectl.path} has no --threads: it ran with its own default thread count.")
    launcher, why = build_launcher(args.cache)
    if launcher is None:
        notes.append(f"peak RSS not measured: the launcher scripts/benchmark/spawn.c could not be built ({why})")
    return dataclasses.replace(fusectl, launcher=launcher), notes


def build_launcher(cache: Path) -> tuple[Optional[Path], str]:
    """<cache>/bin/bench_spawn compiled from scripts/benchmark/spawn.c; (None, why) without a C compiler."""
    path = cache / "bin" / "bench_spawn"
    why = cc.compile_c("spawn.c", path, [])
    return (None, why) if why else (path, "")


def run_once(cmd: list[str], stderr_path: Path, launcher: Optional[Path], sample_status: bool = False) -> Run:
    """Runs `cmd` once (through `launcher` when given); raises FuseFailed on a non-zero exit."""
    if launcher is not None:
        done = subprocess.run(
            [str(launcher), *(["-s"] if sample_status else []), str(stderr_path), *cmd], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise FuseFailed(f"bench_spawn failed (exit {done.returncode}): {done.stderr.strip()}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        code, elapsed, rss = report["status"], report["wall_s"], report["max_rss_kib"]
        anon = report["rss_anon_kib"] if sample_status else None
        file = report["rss_file_kib"] if sample_status else None
    else:
        with open(stderr_path, "wb") as err:
            start = time.perf_counter()
            done = subprocess.run(cmd, stderr=err)
            elapsed = time.perf_counter() - start
        code, rss, anon, file = done.returncode, None, None, None
    stderr = stderr_path.read_text(errors="replace")
    if code != 0:
        raise FuseFailed(f"exit status {code} from: {' '.join(cmd)}\n{stderr.strip()[-2000:]}")
    return Run(e2e_s=elapsed, max_rss_kib=rss, timings=parse_timings(stderr), rss_anon_kib=anon, rss_file_kib=file)


@dataclasses.dataclass
class Summary:
    """Medians over the timed runs (after the warm-up run, which also fills the page cache)."""

    runs: list[Run]
    e2e_s: float
    forward_s: Optional[float]
    load_s: Optional[float]
    pack_s: Optional[float]
    write_s: Optional[float]
    flops: Optional[float]
    plan: Optional[str]
    max_rss_kib: Optional[int]


def _median_of(runs: list[Run], key: str) -> Optional[float]:
    values = [r.timings[key] for r in runs if r.timings and isinstance(r.timings.get(key), (int, float))]
    return statistics.median(values) if len(values) == len(runs) and values else None


def run_fuse(cmd: list[str], repeat: int, scratch: Path, launcher: Optional[Path]) -> Summary:
    """One warm-up run, then `repeat` timed runs of `cmd`; medians of each measure, the largest peak RSS."""
    run_once(cmd, scratch / "fusectl.stderr", launcher)
    runs = [run_once(cmd, scratch / "fusectl.stderr", launcher) for _ in range(repeat)]
    plans = {r.timings.get("plan") for r in runs if r.timings and "plan" in r.timings}
    flops = _median_of(runs, "flops")
    return Summary(
        runs=runs,
        e2e_s=statistics.median(r.e2e_s for r in runs),
        forward_s=_median_of(runs, "forward_s"),
        load_s=_median_of(runs, "load_s"),
        pack_s=_median_of(runs, "pack_s"),
        write_s=_median_of(runs, "write_s"),
        flops=flops,
        plan=" | ".join(sorted(str(p) for p in plans)) if plans else None,
        max_rss_kib=None if launcher is None else max(r.max_rss_kib for r in runs),
    )
