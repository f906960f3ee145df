"""The fusectl side of scripts/bench: finding the binary and timing `fusectl fuse`.

Each run is the command exactly as a user runs it (a new process that reads the
files, fuses and writes OUT.npy). run_fuse() measures, per run:
  - e2e_s: wall time from spawn to exit (Python's perf_counter around
    posix_spawn + wait4; spawning costs well under a millisecond here);
  - max_rss_kib: the process's own peak resident set (wait4's ru_maxrss, KiB);
  - timings: the JSON line `--timings` prints on stderr ({"load_s", "forward_s",
    "write_s", "plan", "flops", ...}) when the binary has that option.
With sample_status=True it also polls /proc/PID/status every few milliseconds for
the peak RssAnon and RssFile (memory-mapped input pages count in RSS too), which
tells a streaming reader that holds the file mapped from one that holds copies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Fusectl:
    """A fusectl binary and the `fuse` options it has (older builds lack --timings/--threads)."""

    path: Path
    has_timings: bool
    has_threads: bool

    def fuse_command(self, weights: Path, inputs: list[str], per_step: bool, out: Path, threads: int) -> list[str]:
        cmd = [str(self.path), "fuse", "--weights", str(weights), *inputs, "--out", str(out)]
        if per_step:
            cmd.append("--per-step")
        if self.has_threads:
            cmd += ["--threads", str(threads)]
        if self.has_timings:
            cmd.append("--timings")
        return cmd


def build_release(log=print) -> tuple[Optional[Path], str]:
    """Runs `swift build -c release --product fusectl` at the repository root.

    Returns (binary path, "") on success, else (None, why).
    """
    swift = shutil.which("swift")
    if swift is None:
        return None, "swift is not on PATH"
    log("bench: swift build -c release --product fusectl (incremental)")
    done = subprocess.run(
        [swift, "build", "-c", "release", "--product", "fusectl"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        return None, f"`swift build -c release --product fusectl` failed (exit {done.returncode}):\n{tail}"
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
    max_rss_kib: int
    timings: Optional[dict]
    rss_anon_kib: Optional[int] = None
    rss_file_kib: Optional[int] = None


class FuseFailed(RuntimeError):
    """fusectl exited non-zero; the message carries the command and its stderr."""


def _status_kib(pid: int) -> dict[str, int]:
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("RssAnon", "RssFile", "RssShmem"):
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


def run_once(cmd: list[str], stderr_path: Path, sample_status: bool = False) -> Run:
    """Spawns `cmd`, waits with wait4; raises FuseFailed on a non-zero exit."""
    peaks = {"RssAnon": 0, "RssFile": 0}
    with open(stderr_path, "wb") as err:
        start = time.perf_counter()
        pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        stop_sampling = threading.Event()
        sampler = None
        if sample_status:

            def sample() -> None:
                while not stop_sampling.is_set():
                    for key, value in _status_kib(pid).items():
                        if key in peaks:
                            peaks[key] = max(peaks[key], value)
                    stop_sampling.wait(0.005)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        stop_sampling.set()
        if sampler:
            sampler.join()
    stderr = stderr_path.read_text(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise FuseFailed(f"exit status {code} from: {' '.join(cmd)}\n{stderr.strip()[-2000:]}")
    return Run(
        e2e_s=elapsed,
        max_rss_kib=usage.ru_maxrss,
        timings=parse_timings(stderr),
        rss_anon_kib=peaks["RssAnon"] if sample_status else None,
        rss_file_kib=peaks["RssFile"] if sample_status else None,
    )


@dataclasses.dataclass
class Summary:
    """Medians over the timed runs (after the warm-up run, which also fills the page cache)."""

    runs: list[Run]
    e2e_s: float
    forward_s: Optional[float]
    load_s: Optional[float]
    write_s: Optional[float]
    flops: Optional[float]
    plan: Optional[str]
    max_rss_kib: int


def _median_of(runs: list[Run], key: str) -> Optional[float]:
    values = [r.timings[key] for r in runs if r.timings and isinstance(r.timings.get(key), (int, float))]
    return statistics.median(values) if len(values) == len(runs) and values else None


def run_fuse(fusectl: Fusectl, cmd: list[str], repeat: int, scratch: Path) -> Summary:
    """One warm-up run, then `repeat` timed runs of `cmd`; medians of each measure."""
    run_once(cmd, scratch / "fusectl.stderr")
    runs = [run_once(cmd, scratch / "fusectl.stderr") for _ in range(repeat)]
    plans = {r.timings.get("plan") for r in runs if r.timings and "plan" in r.timings}
    flops = _median_of(runs, "flops")
    return Summary(
        runs=runs,
        e2e_s=statistics.median(r.e2e_s for r in runs),
        forward_s=_median_of(runs, "forward_s"),
        load_s=_median_of(runs, "load_s"),
        write_s=_median_of(runs, "write_s"),
        flops=flops,
        plan=" | ".join(sorted(str(p) for p in plans)) if plans else None,
        max_rss_kib=max(r.max_rss_kib for r in runs),
    )
